package app_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/influencegen/influencegen/app"
)

func ptr[T any](v T) *T { return &v }

func TestPresetApplySetsOnlyItsFieldsAndSaysWhat(t *testing.T) {
	seed := int64(5)
	base := app.ParamsInput{Prompt: "a red fox", NegativePrompt: "blurry", Model: "sdxl", Resolution: "1024x1024", Seed: &seed, Count: 1}
	tests := []struct {
		name    string
		preset  app.Preset
		check   func(app.ParamsInput) bool
		changes []string
	}{
		{"an aspect replaces the size", app.Preset{AspectRatio: "9:16"},
			func(in app.ParamsInput) bool {
				return in.AspectRatio == "9:16" && in.Resolution == "" && in.Model == "sdxl"
			},
			[]string{"aspect 9:16"}},
		{"a template wraps the prompt", app.Preset{PromptTemplate: "{prompt}, soft pastel palette, studio light"},
			func(in app.ParamsInput) bool { return in.Prompt == "a red fox, soft pastel palette, studio light" },
			[]string{`prompt "{prompt}, soft pastel palette, studio l…"`}},
		{"model, count, random seed and a cleared negative", app.Preset{Model: "flux-dev", Count: 4, SeedMode: app.SeedModeRandom, NegativePrompt: ptr("")},
			func(in app.ParamsInput) bool {
				return in.Model == "flux-dev" && in.Count == 4 && in.Seed == nil && in.NegativePrompt == ""
			},
			[]string{"no negative prompt", "model flux-dev", "count 4", "random seed"}},
		{"a fixed seed", app.Preset{SeedMode: app.SeedModeFixed, Seed: ptr(int64(42))},
			func(in app.ParamsInput) bool { return in.Seed != nil && *in.Seed == 42 }, []string{"seed 42"}},
		{"what is already so is no change", app.Preset{Model: "sdxl", Resolution: "1024x1024"},
			func(in app.ParamsInput) bool { return in.Model == "sdxl" && in.Resolution == "1024x1024" }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changes := tt.preset.Apply(base)
			if !tt.check(got) {
				t.Errorf("Apply = %+v", got)
			}
			if !slices.Equal(changes, tt.changes) {
				t.Errorf("changes = %q, want %q", changes, tt.changes)
			}
		})
	}
}

func TestApplyingATemplateTwiceDoesNotAddTheStyleTwice(t *testing.T) {
	p := app.Preset{PromptTemplate: "{prompt}, studio light"}
	once, _ := p.Apply(app.ParamsInput{Prompt: "a fox"})
	twice, _ := p.Apply(once)
	if twice.Prompt != "a fox, studio light" {
		t.Fatalf("applied twice: %q", twice.Prompt)
	}
}

func TestCheckPresetUsesTheRequestRulesAndNamesTheKey(t *testing.T) {
	def := app.DefaultConfig().Defaults()
	tests := []struct {
		preset app.Preset
		want   string
	}{
		{app.Preset{Name: "p", Model: "dall-e"}, `key model: model "dall-e": not configured`},
		{app.Preset{Name: "p", Resolution: "1001x1000"}, "key resolution: resolution \"1001x1000\": each side must be a multiple of 8 (try 1000x1000)"},
		{app.Preset{Name: "p", AspectRatio: "wide"}, "key aspect_ratio:"},
		{app.Preset{Name: "p", Count: 17}, "key count: count 17: must be between 1 and 16"},
		{app.Preset{Name: "p", SeedMode: "fixed"}, "key seed: seed_mode = \"fixed\" needs a seed"},
		{app.Preset{Name: "p", SeedMode: "sometimes"}, "key seed_mode:"},
		{app.Preset{Name: "p", SeedMode: "fixed", Seed: ptr(int64(-5))}, "key seed: seed -5: must be between 0 and"},
		{app.Preset{Name: "p", PromptTemplate: "pastel"}, "key prompt_template: must hold {prompt} exactly once"},
		{app.Preset{Name: " p"}, "starts or ends with spaces"},
	}
	for _, tt := range tests {
		probs := app.CheckPreset(tt.preset, def)
		var all []string
		for _, p := range probs {
			all = append(all, p.String())
		}
		if !strings.Contains(strings.Join(all, "; "), tt.want) {
			t.Errorf("CheckPreset(%+v) = %q, want it to contain %q", tt.preset, all, tt.want)
		}
	}
	for _, p := range app.ExamplePresets() {
		if probs := app.CheckPreset(p, def); len(probs) > 0 {
			t.Errorf("shipped example %q is invalid: %v", p.Name, probs)
		}
	}
}

func TestFindPresetIgnoresCaseAndListsTheNamesWhenMissing(t *testing.T) {
	presets := app.ExamplePresets()
	p, err := app.FindPreset(presets, "instagram STORY 9:16")
	if err != nil || p.AspectRatio != "9:16" {
		t.Fatalf("FindPreset = %+v, %v", p, err)
	}
	_, err = app.FindPreset(presets, "tiktok")
	if app.ErrorCode(err) != app.ENOTFOUND || !strings.Contains(err.Error(), `"Instagram post 4:5"`) {
		t.Fatalf("missing preset: %v", err)
	}
}
