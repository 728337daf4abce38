package app

import (
	"errors"
	"strings"
	"testing"
)

var testDefaults = GenerationDefaults{Models: []string{"sdxl", "flux-dev"}, DefaultModel: "sdxl", DefaultResolution: "1024x1024"}

func seedSeq() func() uint32 {
	n := uint32(100)
	return func() uint32 { n++; return n }
}

func i64(v int64) *int64 { return &v }

func TestValidationRejectsEachBadFieldWithAMessageNamingIt(t *testing.T) {
	long := strings.Repeat("a", MaxPromptChars+1)
	cases := []struct {
		name  string
		in    ParamsInput
		field string
		want  string
	}{
		{"an empty prompt is required", ParamsInput{Prompt: "   "}, FieldPrompt, "prompt: required"},
		{"a prompt over 4000 characters is too long", ParamsInput{Prompt: long}, FieldPrompt, "at most 4000"},
		{"a negative prompt over 4000 characters is too long", ParamsInput{Prompt: "x", NegativePrompt: long}, FieldNegativePrompt, "negative prompt: 4001 characters"},
		{"an unconfigured model is refused", ParamsInput{Prompt: "x", Model: "dalle"}, FieldModel, "use one of sdxl, flux-dev"},
		{"a resolution without x is malformed", ParamsInput{Prompt: "x", Resolution: "1024*1024"}, FieldResolution, "WIDTHxHEIGHT"},
		{"a side below 64 is too small", ParamsInput{Prompt: "x", Resolution: "32x64"}, FieldResolution, "between 64 and 4096"},
		{"a side above 4096 is too large", ParamsInput{Prompt: "x", Resolution: "8192x1024"}, FieldResolution, "between 64 and 4096"},
		{"a side not a multiple of 8 is refused with a suggestion", ParamsInput{Prompt: "x", Resolution: "1001x1024"}, FieldResolution, "multiple of 8 (try 1000x1024)"},
		{"a malformed aspect ratio is refused", ParamsInput{Prompt: "x", AspectRatio: "wide"}, FieldAspectRatio, "W:H"},
		{"a zero aspect side is refused", ParamsInput{Prompt: "x", AspectRatio: "0:1"}, FieldAspectRatio, "W:H"},
		{"an aspect ratio that contradicts the resolution is refused", ParamsInput{Prompt: "x", Resolution: "1024x1024", AspectRatio: "16:9"}, FieldAspectRatio, "does not match resolution 1024x1024 (that is 1:1)"},
		{"a negative seed other than -1 is refused", ParamsInput{Prompt: "x", Seed: i64(-2)}, FieldSeed, "between 0 and 4294967295"},
		{"a seed above 2^32-1 is refused", ParamsInput{Prompt: "x", Seed: i64(4294967296)}, FieldSeed, "between 0 and 4294967295"},
		{"a count of 17 is refused", ParamsInput{Prompt: "x", Count: 17}, FieldCount, "between 1 and 16"},
		{"a negative count is refused", ParamsInput{Prompt: "x", Count: -1}, FieldCount, "between 1 and 16"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Validate(c.in, testDefaults, seedSeq())
			if err == nil {
				t.Fatal("expected an error")
			}
			var ve *ValidationError
			ok := errors.As(err, &ve)
			if !ok {
				t.Fatalf("want *ValidationError, got %T", err)
			}
			msg := ve.For(c.field)
			if msg == "" {
				t.Fatalf("no error for field %s; got %v", c.field, ve.Fields)
			}
			if !strings.Contains(msg, c.want) {
				t.Fatalf("message %q does not contain %q", msg, c.want)
			}
			if ErrorCode(err) != EINVALID {
				t.Fatalf("code = %s", ErrorCode(err))
			}
		})
	}
}

func TestValidationReportsEveryBadFieldAtOnce(t *testing.T) {
	_, err := Validate(ParamsInput{Prompt: "", Model: "nope", Count: 99}, testDefaults, seedSeq())
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a ValidationError", err)
	}
	if len(ve.Fields) != 3 {
		t.Fatalf("want 3 field errors, got %v", ve.Fields)
	}
}

func TestValidationDerivesAndDefaults(t *testing.T) {
	cases := []struct {
		name          string
		in            ParamsInput
		w, h          int
		aspect, model string
	}{
		{"nothing given uses the default resolution and its aspect", ParamsInput{Prompt: "fox"}, 1024, 1024, "1:1", "sdxl"},
		{"a resolution alone derives a common aspect", ParamsInput{Prompt: "fox", Resolution: "1344x768"}, 1344, 768, "16:9", "sdxl"},
		{"an odd resolution derives the reduced fraction", ParamsInput{Prompt: "fox", Resolution: "1000x640"}, 1000, 640, "25:16", "sdxl"},
		{"an SDXL bucket is named by its closest common ratio", ParamsInput{Prompt: "fox", Resolution: "1152x896"}, 1152, 896, "5:4", "sdxl"},
		{"an aspect alone derives a size of about the default area", ParamsInput{Prompt: "fox", AspectRatio: "16:9"}, 1368, 768, "16:9", "sdxl"},
		{"a portrait aspect alone derives a portrait size", ParamsInput{Prompt: "fox", AspectRatio: "2:3"}, 840, 1256, "2:3", "sdxl"},
		{"agreeing resolution and aspect are both kept", ParamsInput{Prompt: "fox", Resolution: "1216x832", AspectRatio: "3:2", Model: "flux-dev"}, 1216, 832, "3:2", "flux-dev"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := Validate(c.in, testDefaults, seedSeq())
			if err != nil {
				t.Fatal(err)
			}
			p := out[0]
			if p.Width != c.w || p.Height != c.h || p.AspectRatio != c.aspect || p.Model != c.model {
				t.Fatalf("got %dx%d %s %s, want %dx%d %s %s", p.Width, p.Height, p.AspectRatio, p.Model, c.w, c.h, c.aspect, c.model)
			}
			if p.Width%8 != 0 || p.Height%8 != 0 {
				t.Fatalf("derived size %dx%d is not a multiple of 8", p.Width, p.Height)
			}
		})
	}
}

func TestSeedsRandomOrLockedAcrossABatch(t *testing.T) {
	out, err := Validate(ParamsInput{Prompt: "fox", Count: 3}, testDefaults, seedSeq())
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 || out[0].Seed != 101 || out[1].Seed != 102 || out[2].Seed != 103 {
		t.Fatalf("random seeds should be drawn per request and stored: %+v", out)
	}
	out, _ = Validate(ParamsInput{Prompt: "fox", Count: 2, Seed: i64(-1)}, testDefaults, seedSeq())
	if out[0].Seed != 101 {
		t.Fatalf("-1 means random, got %d", out[0].Seed)
	}
	out, _ = Validate(ParamsInput{Prompt: "fox", Count: 3, Seed: i64(MaxSeed)}, testDefaults, seedSeq())
	if out[0].Seed != MaxSeed || out[1].Seed != 0 || out[2].Seed != 1 {
		t.Fatalf("a locked seed counts up and wraps at 2^32: %d %d %d", out[0].Seed, out[1].Seed, out[2].Seed)
	}
	out, _ = Validate(ParamsInput{Prompt: "  fox  ", Seed: i64(0)}, testDefaults, seedSeq())
	if out[0].Seed != 0 || out[0].Prompt != "fox" || out[0].NumImages != 1 {
		t.Fatalf("seed 0 is a real seed and prompts are trimmed: %+v", out[0])
	}
}

func TestAspectHelpers(t *testing.T) {
	if got := AspectOf(768, 1344); got != "9:16" {
		t.Errorf("AspectOf(768,1344) = %s", got)
	}
	if w, h := SizeForAspect(1, 1, 512*512); w != 512 || h != 512 {
		t.Errorf("SizeForAspect(1:1, 512²) = %dx%d", w, h)
	}
	if w, h := SizeForAspect(100, 1, 1024*1024); w != MaxSide || h < MinSide {
		t.Errorf("extreme aspects clamp to the allowed range, got %dx%d", w, h)
	}
}

// A resolution refused with "try WxH" must suggest one that is accepted:
// 1001x99999 once suggested 1000x100000, itself out of range.
func TestAResolutionSuggestionIsItselfValid(t *testing.T) {
	for _, in := range []string{"1001x99999", "1001x1024", "99999x1001", "7x13", "4097x4100", "1001x-5", "32x64"} {
		_, _, err := ParseResolution(in)
		if err == nil {
			t.Fatalf("%s: accepted", in)
		}
		_, after, ok := strings.Cut(err.Error(), "(try ")
		if !ok {
			t.Fatalf("%s: no suggestion in %q", in, err)
		}
		try, _, _ := strings.Cut(after, ")")
		if _, _, err := ParseResolution(try); err != nil {
			t.Errorf("%s: suggested %s, which is refused: %v", in, try, err)
		}
	}
	if _, _, err := ParseResolution("1001x99999"); err == nil || !strings.Contains(err.Error(), "(try 1000x4096)") {
		t.Errorf("1001x99999: %v, want the clamped suggestion 1000x4096", err)
	}
}
