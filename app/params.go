package app

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits of a generation request (issue 2 §2, DESIGN §4).
const (
	MaxPromptChars  = 4000
	MinSide         = 64
	MaxSide         = 4096
	SideMultiple    = 8
	MaxSeed         = 4294967295
	MaxCount        = 16
	aspectTolerance = 0.04 // how far WxH may stray from W:H: SDXL's standard sizes (1152x896 for 4:3) are 3.6% off
)

// Field names used in validation errors; the composer maps them to inputs.
const (
	FieldPrompt         = "prompt"
	FieldNegativePrompt = "negative_prompt"
	FieldModel          = "model"
	FieldResolution     = "resolution"
	FieldAspectRatio    = "aspect_ratio"
	FieldSeed           = "seed"
	FieldCount          = "count"
)

// GenerationParams are validated parameters of one request, as sent to n8n.
type GenerationParams struct {
	Prompt         string `json:"prompt"`
	NegativePrompt string `json:"negative_prompt"`
	Model          string `json:"model_id"`
	Width          int    `json:"width"`
	Height         int    `json:"height"`
	AspectRatio    string `json:"aspect_ratio"`
	Seed           int64  `json:"seed"`
	NumImages      int    `json:"num_images"`
	// DryRun asks the workflow to call back at once with a built-in image,
	// without calling the provider: `n8n setup` proves the round trip.
	DryRun bool `json:"dry_run,omitempty"`
}

// Resolution renders the size as WxH.
func (p GenerationParams) Resolution() string { return fmt.Sprintf("%dx%d", p.Width, p.Height) }

// ParamsInput is what a person typed: every field optional but the prompt.
type ParamsInput struct {
	Prompt         string
	NegativePrompt string
	Model          string // "" = the configured default
	Resolution     string // "" = derived from AspectRatio, or the default
	AspectRatio    string // "" = derived from Resolution
	Seed           *int64 // nil or -1 = random; the chosen seed is stored
	Count          int    // requests in the batch; 0 = 1
	DryRun         bool   // see GenerationParams.DryRun
}

// GenerationDefaults is the part of the configuration validation needs.
type GenerationDefaults struct {
	Models            []string
	DefaultModel      string
	DefaultResolution string
}

// Validate checks in against the rules and returns one GenerationParams per
// requested image. All problems are reported at once as a *ValidationError.
//
// A locked seed s gives the batch seeds s, s+1, … (wrapping at 2^32) so the
// images of a batch differ yet each one can be reproduced alone; a random
// seed draws a fresh value per request from randSeed.
func Validate(in ParamsInput, def GenerationDefaults, randSeed func() uint32) ([]GenerationParams, error) {
	var errs []FieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}

	prompt := strings.TrimSpace(in.Prompt)
	switch n := utf8.RuneCountInString(prompt); {
	case n == 0:
		bad(FieldPrompt, "prompt: required; describe the image to generate")
	case n > MaxPromptChars:
		bad(FieldPrompt, "prompt: %d characters, at most %d allowed; shorten it by %d", n, MaxPromptChars, n-MaxPromptChars)
	}
	negative := strings.TrimSpace(in.NegativePrompt)
	if n := utf8.RuneCountInString(negative); n > MaxPromptChars {
		bad(FieldNegativePrompt, "negative prompt: %d characters, at most %d allowed; shorten it by %d", n, MaxPromptChars, n-MaxPromptChars)
	}

	model := strings.TrimSpace(in.Model)
	if model == "" {
		model = def.DefaultModel
	}
	if !slices.Contains(def.Models, model) {
		bad(FieldModel, "model %q: not configured; use one of %s (or add it to generation.models)", model, strings.Join(def.Models, ", "))
	}

	w, h, aspect, sizeErr := resolveSize(in.Resolution, in.AspectRatio, def.DefaultResolution)
	if sizeErr != nil {
		errs = append(errs, *sizeErr)
	}

	count := in.Count
	if count == 0 {
		count = 1
	}
	if count < 1 || count > MaxCount {
		bad(FieldCount, "count %d: must be between 1 and %d", in.Count, MaxCount)
	}

	seed, random := int64(-1), true
	if in.Seed != nil && *in.Seed != -1 {
		seed, random = *in.Seed, false
		if seed < 0 || seed > MaxSeed {
			bad(FieldSeed, "seed %d: must be between 0 and %d, or -1 for random", seed, int64(MaxSeed))
		}
	}

	if len(errs) > 0 {
		return nil, &ValidationError{Fields: errs}
	}
	out := make([]GenerationParams, count)
	for i := range out {
		var s int64
		if random {
			s = int64(randSeed())
		} else {
			s = (seed + int64(i)) % (MaxSeed + 1)
		}
		out[i] = GenerationParams{
			Prompt: prompt, NegativePrompt: negative, Model: model,
			Width: w, Height: h, AspectRatio: aspect, Seed: s, NumImages: 1, DryRun: in.DryRun,
		}
	}
	return out, nil
}

// resolveSize applies the resolution/aspect rules: when both are given they
// must agree; when one is given the other is derived; when neither, the
// default resolution is used.
func resolveSize(resolution, aspect, defaultResolution string) (w, h int, ratio string, ferr *FieldError) {
	resolution, aspect = strings.TrimSpace(resolution), strings.TrimSpace(aspect)
	var aw, ah int
	if aspect != "" {
		var err error
		if aw, ah, err = ParseAspect(aspect); err != nil {
			return 0, 0, "", &FieldError{FieldAspectRatio, err.Error()}
		}
	}
	switch {
	case resolution != "":
		var err error
		if w, h, err = ParseResolution(resolution); err != nil {
			return 0, 0, "", &FieldError{FieldResolution, err.Error()}
		}
		if aspect == "" {
			return w, h, AspectOf(w, h), nil
		}
		if !aspectAgrees(w, h, aw, ah) {
			return 0, 0, "", &FieldError{FieldAspectRatio, fmt.Sprintf(
				"aspect ratio %s does not match resolution %dx%d (that is %s); change one, or leave the aspect ratio empty to derive it",
				aspect, w, h, AspectOf(w, h))}
		}
		return w, h, fmt.Sprintf("%d:%d", aw, ah), nil
	case aspect != "":
		dw, dh, err := ParseResolution(defaultResolution)
		if err != nil {
			dw, dh = 1024, 1024
		}
		w, h = SizeForAspect(aw, ah, dw*dh)
		return w, h, fmt.Sprintf("%d:%d", aw, ah), nil
	default:
		w, h, err := ParseResolution(defaultResolution)
		if err != nil {
			return 0, 0, "", &FieldError{FieldResolution, "default resolution: " + err.Error() + " (fix generation.default_resolution)"}
		}
		return w, h, AspectOf(w, h), nil
	}
}

// ParseResolution parses "WxH" and checks each side's range and multiple.
func ParseResolution(s string) (w, h int, err error) {
	ws, hs, ok := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "x")
	if ok {
		w, err = strconv.Atoi(strings.TrimSpace(ws))
		if err == nil {
			h, err = strconv.Atoi(strings.TrimSpace(hs))
		}
	}
	if !ok || err != nil {
		return 0, 0, fmt.Errorf("resolution %q: write it as WIDTHxHEIGHT, e.g. 1024x1024", s)
	}
	// The range is checked for both sides before the multiple, so the
	// message names the bigger problem; the suggestion fixes both.
	for _, side := range []int{w, h} {
		if side < MinSide || side > MaxSide {
			return 0, 0, fmt.Errorf("resolution %q: each side must be between %d and %d pixels%s", s, MinSide, MaxSide, suggestResolution(w, h))
		}
	}
	if w%SideMultiple != 0 || h%SideMultiple != 0 {
		return 0, 0, fmt.Errorf("resolution %q: each side must be a multiple of %d%s", s, SideMultiple, suggestResolution(w, h))
	}
	return w, h, nil
}

// suggestResolution is " (try WxH)" with the nearest accepted size: each
// side rounded to the multiple and clamped to the range (both bounds are
// multiples, so clamping keeps it one). It offers nothing rather than a
// size that would itself be refused.
func suggestResolution(w, h int) string {
	sw, sh := clampSide(roundTo(w, SideMultiple)), clampSide(roundTo(h, SideMultiple))
	for _, side := range []int{sw, sh} {
		if side < MinSide || side > MaxSide || side%SideMultiple != 0 {
			return ""
		}
	}
	return fmt.Sprintf(" (try %dx%d)", sw, sh)
}

// ParseAspect parses "W:H" with positive whole numbers.
func ParseAspect(s string) (w, h int, err error) {
	ws, hs, ok := strings.Cut(strings.TrimSpace(s), ":")
	if ok {
		w, err = strconv.Atoi(strings.TrimSpace(ws))
		if err == nil {
			h, err = strconv.Atoi(strings.TrimSpace(hs))
		}
	}
	if !ok || err != nil || w <= 0 || h <= 0 || w > 100 || h > 100 {
		return 0, 0, fmt.Errorf("aspect ratio %q: write it as W:H with whole numbers from 1 to 100, e.g. 16:9", s)
	}
	return w, h, nil
}

// commonAspects are named when a resolution is close to one of them, so
// 1368x768 reads as 16:9 rather than 57:32.
var commonAspects = [][2]int{{1, 1}, {4, 3}, {3, 4}, {3, 2}, {2, 3}, {16, 9}, {9, 16}, {21, 9}, {9, 21}, {5, 4}, {4, 5}, {2, 1}, {1, 2}}

// AspectOf names the aspect ratio of a size: the closest common ratio within
// tolerance, else the exact reduced fraction.
func AspectOf(w, h int) string {
	best, bestDiff := -1, aspectTolerance
	for i, a := range commonAspects {
		if d := aspectDiff(w, h, a[0], a[1]); d <= bestDiff {
			best, bestDiff = i, d
		}
	}
	if best >= 0 {
		return fmt.Sprintf("%d:%d", commonAspects[best][0], commonAspects[best][1])
	}
	g := gcd(w, h)
	return fmt.Sprintf("%d:%d", w/g, h/g)
}

// SizeForAspect picks the size with ratio aw:ah and about area pixels,
// each side a multiple of 8 within the allowed range.
func SizeForAspect(aw, ah, area int) (w, h int) {
	hf := math.Sqrt(float64(area) * float64(ah) / float64(aw))
	wf := hf * float64(aw) / float64(ah)
	w, h = clampSide(roundTo(int(math.Round(wf)), SideMultiple)), clampSide(roundTo(int(math.Round(hf)), SideMultiple))
	return w, h
}

func aspectAgrees(w, h, aw, ah int) bool { return aspectDiff(w, h, aw, ah) <= aspectTolerance }

// aspectDiff is the relative distance between w:h and aw:ah.
func aspectDiff(w, h, aw, ah int) float64 {
	want := float64(aw) / float64(ah)
	return math.Abs(float64(w)/float64(h)-want) / want
}

func roundTo(n, m int) int {
	r := (n + m/2) / m * m
	if r == 0 {
		r = m
	}
	return r
}

func clampSide(n int) int { return min(max(n, MinSide), MaxSide) }

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
