package app

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Preset is a named set of generation parameters (issue 14 §5): any subset
// of negative prompt, model, size or aspect, count, seed mode and a prompt
// template. A field left empty leaves that parameter as it was.
type Preset struct {
	Name string `toml:"-" json:"name"`
	// NegativePrompt is a pointer so that a preset can set it to "" (clear
	// it) as well as leave it alone (nil).
	NegativePrompt *string `toml:"negative_prompt,omitempty" json:"negative_prompt,omitempty"`
	Model          string  `toml:"model,omitempty" json:"model,omitempty"`
	Resolution     string  `toml:"resolution,omitempty" json:"resolution,omitempty"`
	AspectRatio    string  `toml:"aspect_ratio,omitempty" json:"aspect_ratio,omitempty"`
	Count          int     `toml:"count,omitzero" json:"count,omitempty"`
	// SeedMode is "random" (a fresh seed per image) or "fixed" (Seed, then
	// Seed+1, … in a batch); "" leaves the seed alone.
	SeedMode string `toml:"seed_mode,omitempty" json:"seed_mode,omitempty"`
	Seed     *int64 `toml:"seed,omitempty" json:"seed,omitempty"`
	// PromptTemplate wraps what the person typed: "{prompt}, soft pastel
	// palette, studio light". It must hold {prompt} once.
	PromptTemplate string `toml:"prompt_template,omitempty" json:"prompt_template,omitempty"`
}

// Seed modes of a preset.
const (
	SeedModeRandom = "random"
	SeedModeFixed  = "fixed"
)

// PromptPlaceholder is where a template puts the typed prompt.
const PromptPlaceholder = "{prompt}"

// Preset keys as written in presets.toml, for error messages.
const (
	PresetKeyNegative   = "negative_prompt"
	PresetKeyModel      = "model"
	PresetKeyResolution = "resolution"
	PresetKeyAspect     = "aspect_ratio"
	PresetKeyCount      = "count"
	PresetKeySeedMode   = "seed_mode"
	PresetKeySeed       = "seed"
	PresetKeyTemplate   = "prompt_template"
)

// MaxPresetName bounds a preset's name (it is shown in pickers and footers).
const MaxPresetName = 60

// ExamplePresets ship with the program and apply while no presets.toml
// exists; the first `preset save` or `preset delete` writes them to the
// file, where they can be changed or removed like any other.
func ExamplePresets() []Preset {
	return []Preset{
		{Name: "Instagram post 4:5", AspectRatio: "4:5"},
		{Name: "Instagram story 9:16", AspectRatio: "9:16"},
		{Name: "LinkedIn banner 4:1", AspectRatio: "4:1", PromptTemplate: "{prompt}, wide banner composition, clean background on the left for text"},
	}
}

// PresetProblem is one thing wrong with a preset; the store adds the file
// and line.
type PresetProblem struct {
	Preset, Key, Message string
}

func (p PresetProblem) String() string {
	if p.Key == "" {
		return fmt.Sprintf("preset %q: %s", p.Preset, p.Message)
	}
	return fmt.Sprintf("preset %q, key %s: %s", p.Preset, p.Key, p.Message)
}

// CheckPreset validates a preset with the same rules as a request's
// parameters (Validate), so a preset that loads is one that can be used.
// The model is checked against def.Models.
func CheckPreset(p Preset, def GenerationDefaults) []PresetProblem {
	var out []PresetProblem
	bad := func(key, format string, args ...any) {
		out = append(out, PresetProblem{Preset: p.Name, Key: key, Message: fmt.Sprintf(format, args...)})
	}
	if err := CheckPresetName(p.Name); err != nil {
		bad("", "%s", ErrorMessage(err))
	}
	switch p.SeedMode {
	case "", SeedModeRandom:
		if p.Seed != nil {
			bad(PresetKeySeed, "a seed is only used with seed_mode = %q; remove it or set the mode", SeedModeFixed)
		}
	case SeedModeFixed:
		if p.Seed == nil {
			bad(PresetKeySeed, "seed_mode = %q needs a seed, e.g. seed = 42", SeedModeFixed)
		}
	default:
		bad(PresetKeySeedMode, "%q: use %q or %q", p.SeedMode, SeedModeRandom, SeedModeFixed)
	}
	if p.PromptTemplate != "" && strings.Count(p.PromptTemplate, PromptPlaceholder) != 1 {
		bad(PresetKeyTemplate, "must hold %s exactly once, where the typed prompt goes, e.g. \"%s, soft pastel palette\"", PromptPlaceholder, PromptPlaceholder)
	}
	// Everything else: the request rules themselves, on a stand-in prompt.
	in, _ := p.Apply(ParamsInput{Prompt: "x"})
	if in.Model == "" {
		in.Model = def.DefaultModel
	}
	_, err := Validate(in, def, func() uint32 { return 0 })
	var ve *ValidationError
	if errors.As(err, &ve) {
		for _, fe := range ve.Fields {
			key, ok := presetKeyOf[fe.Field]
			if !ok || (key == PresetKeyTemplate && p.PromptTemplate == "") {
				continue
			}
			if key == PresetKeyModel && p.Model == "" {
				continue // the configured default's problem, not the preset's
			}
			bad(key, "%s", fe.Message)
		}
	}
	return out
}

var presetKeyOf = map[string]string{
	FieldPrompt: PresetKeyTemplate, FieldNegativePrompt: PresetKeyNegative, FieldModel: PresetKeyModel, FieldResolution: PresetKeyResolution,
	FieldAspectRatio: PresetKeyAspect, FieldSeed: PresetKeySeed, FieldCount: PresetKeyCount,
}

// CheckPresetName accepts names a person can type on a command line.
func CheckPresetName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return Errorf(EINVALID, "a preset needs a name")
	case name != strings.TrimSpace(name):
		return Errorf(EINVALID, "preset name %q starts or ends with spaces", name)
	case len([]rune(name)) > MaxPresetName:
		return Errorf(EINVALID, "preset name %q is longer than %d characters", name, MaxPresetName)
	case !utf8.ValidString(name) || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return Errorf(EINVALID, "preset name %q holds control characters", name)
	}
	return nil
}

// Apply sets in's parameters from the preset and says what it changed, one
// short phrase each ("aspect 9:16", "model flux-dev"), for the composer's
// "preset Story 9:16: aspect 9:16, model …" line. A size given by the
// preset replaces both size fields, so an old resolution cannot contradict
// a new aspect ratio.
func (p Preset) Apply(in ParamsInput) (ParamsInput, []string) {
	var changes []string
	change := func(what string) { changes = append(changes, what) }
	if p.NegativePrompt != nil && *p.NegativePrompt != in.NegativePrompt {
		in.NegativePrompt = *p.NegativePrompt
		if in.NegativePrompt == "" {
			change("no negative prompt")
		} else {
			change("negative " + strconv.Quote(clipRunes(in.NegativePrompt, 30)))
		}
	}
	if p.Model != "" && p.Model != in.Model {
		in.Model = p.Model
		change("model " + p.Model)
	}
	switch {
	case p.Resolution != "" && (p.Resolution != in.Resolution || p.AspectRatio != in.AspectRatio):
		in.Resolution, in.AspectRatio = p.Resolution, p.AspectRatio
		change("size " + p.Resolution)
	case p.Resolution == "" && p.AspectRatio != "" && (p.AspectRatio != in.AspectRatio || in.Resolution != ""):
		in.Resolution, in.AspectRatio = "", p.AspectRatio
		change("aspect " + p.AspectRatio)
	}
	if p.Count != 0 && p.Count != in.Count {
		in.Count = p.Count
		change(fmt.Sprintf("count %d", p.Count))
	}
	switch p.SeedMode {
	case SeedModeRandom:
		if in.Seed != nil && *in.Seed != -1 {
			change("random seed")
		}
		in.Seed = nil
	case SeedModeFixed:
		if p.Seed != nil && (in.Seed == nil || *in.Seed != *p.Seed) {
			seed := *p.Seed
			in.Seed = &seed
			change(fmt.Sprintf("seed %d", seed))
		}
	}
	if p.PromptTemplate != "" {
		in.Prompt = ExpandTemplate(p.PromptTemplate, in.Prompt)
		change("prompt " + strconv.Quote(clipRunes(p.PromptTemplate, 40)))
	}
	return in, changes
}

// ExpandTemplate puts prompt where the template says {prompt}. A prompt
// that already holds the template's added text is left alone, so applying
// the same preset twice does not add the style twice.
func ExpandTemplate(template, prompt string) string {
	before, after, _ := strings.Cut(template, PromptPlaceholder)
	prompt = strings.TrimSpace(prompt)
	if (before == "" || strings.HasPrefix(prompt, before)) && (after == "" || strings.HasSuffix(prompt, after)) &&
		(before != "" || after != "") {
		return prompt
	}
	return before + prompt + after
}

// FindPreset returns the preset called name (exact, then case-insensitive).
func FindPreset(presets []Preset, name string) (Preset, error) {
	if i := slices.IndexFunc(presets, func(p Preset) bool { return p.Name == name }); i >= 0 {
		return presets[i], nil
	}
	if i := slices.IndexFunc(presets, func(p Preset) bool { return strings.EqualFold(p.Name, name) }); i >= 0 {
		return presets[i], nil
	}
	names := make([]string, len(presets))
	for i, p := range presets {
		names[i] = strconv.Quote(p.Name)
	}
	if len(names) == 0 {
		return Preset{}, Errorf(ENOTFOUND, "no preset %q: there are none yet (influencegen preset save NAME …)", name)
	}
	return Preset{}, Errorf(ENOTFOUND, "no preset %q: use one of %s", name, strings.Join(names, ", "))
}

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// PresetBook keeps the named presets (presets.toml, in store/). Presets
// reads the file each time, so a hand edit applies without a restart.
type PresetBook interface {
	Presets() ([]Preset, error)
	SavePreset(p Preset) error
	DeletePreset(name string) (Preset, error)
	// Where names the file, for messages.
	Where() string
}
