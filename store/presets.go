package store

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/influencegen/influencegen/app"
)

// PresetsFile is presets.toml beside config.toml, so --home and
// INFLUENCEGEN_HOME move it with the rest.
func PresetsFile(paths app.Paths) string {
	return filepath.Join(filepath.Dir(paths.ConfigFile), "presets.toml")
}

// presetsHeader starts a written presets.toml; it tells a person editing
// the file what it may hold.
const presetsHeader = `# Generation presets: influencegen generate --preset NAME, ctrl+t in the composer.
# Each [preset."NAME"] sets any of: negative_prompt, model, resolution ("WxH"),
# aspect_ratio ("W:H"), count, seed_mode ("random" | "fixed") with seed, and
# prompt_template (must hold {prompt}, e.g. "{prompt}, soft pastel palette").
# influencegen preset save/delete rewrite this file (comments are not kept).
`

type presetsDoc struct {
	Preset map[string]app.Preset `toml:"preset"`
}

// LoadPresets reads and validates presets.toml. While the file does not
// exist the shipped examples apply. Every problem names the file, the line,
// the preset and the key, since people edit this file by hand; unknown keys
// are errors, as in config.toml.
func LoadPresets(path string, def app.GenerationDefaults) ([]app.Preset, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return app.ExamplePresets(), nil
	}
	if err != nil {
		return nil, app.Errorf(app.EINVALID, "presets file %s: %v", path, unwrapPathError(err))
	}
	return ParsePresets(path, data, def)
}

// ParsePresets decodes and validates presets.toml's content, keeping the
// presets in the order the file lists them.
func ParsePresets(path string, data []byte, def app.GenerationDefaults) ([]app.Preset, error) {
	var doc presetsDoc
	md, err := toml.Decode(string(data), &doc)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return nil, app.Errorf(app.EINVALID, "%s:%d: %s", path, perr.Position.Line, perr.Message)
		}
		// A type mismatch ("count" = "four") names the key but not the line.
		return nil, app.Errorf(app.EINVALID, "%s: %v", path, err)
	}
	blocks := presetBlocks(data)
	var problems []string
	add := func(line int, msg string) {
		if line > 0 {
			problems = append(problems, fmt.Sprintf("%s:%d: %s", path, line, msg))
		} else {
			problems = append(problems, fmt.Sprintf("%s: %s", path, msg))
		}
	}
	for _, k := range md.Undecoded() {
		if len(k) == 3 && k[0] == "preset" {
			add(blocks.line(k[1], k[2]), fmt.Sprintf("preset %q: unknown key %q: a preset has %s", k[1], k[2], presetKeyList))
			continue
		}
		add(0, fmt.Sprintf("unknown key %q: the file holds [preset.\"NAME\"] tables only", k.String()))
	}
	presets := make([]app.Preset, 0, len(doc.Preset))
	for name, p := range doc.Preset {
		p.Name = name
		presets = append(presets, p)
	}
	slices.SortFunc(presets, func(a, b app.Preset) int { return blocks.order(a.Name) - blocks.order(b.Name) })
	for _, p := range presets {
		for _, pr := range app.CheckPreset(p, def) {
			add(blocks.line(p.Name, pr.Key), pr.String())
		}
	}
	if len(problems) > 0 {
		return nil, app.Errorf(app.EINVALID, "%s", strings.Join(problems, "; "))
	}
	return presets, nil
}

var presetKeyList = strings.Join([]string{app.PresetKeyNegative, app.PresetKeyModel, app.PresetKeyResolution, app.PresetKeyAspect,
	app.PresetKeyCount, app.PresetKeySeedMode, app.PresetKeySeed, app.PresetKeyTemplate}, ", ")

// presetLines maps each [preset."NAME"] table to its header line and the
// lines of its keys (the TOML decoder keeps no positions).
type presetLines struct {
	header map[string]int
	keys   map[string]map[string]int
	seq    map[string]int
}

func (b presetLines) line(name, key string) int {
	if n, ok := b.keys[name][key]; ok {
		return n
	}
	return b.header[name]
}

func (b presetLines) order(name string) int { return b.seq[name] }

func presetBlocks(data []byte) presetLines {
	b := presetLines{header: map[string]int{}, keys: map[string]map[string]int{}, seq: map[string]int{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	current, n := "", 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "["):
			current = ""
			if name, ok := presetHeaderName(line); ok {
				current = name
				b.header[name] = n
				b.seq[name] = len(b.seq)
				b.keys[name] = map[string]int{}
			}
		case current != "" && line != "" && !strings.HasPrefix(line, "#"):
			if k, _, ok := strings.Cut(line, "="); ok {
				b.keys[current][strings.Trim(strings.TrimSpace(k), `"'`)] = n
			}
		}
	}
	return b
}

// presetHeaderName reads NAME from [preset."NAME"], [preset.'NAME'] or
// [preset.NAME].
func presetHeaderName(line string) (string, bool) {
	if i := strings.Index(line, "#"); i > 0 && strings.Count(line[:i], `"`)%2 == 0 {
		line = strings.TrimSpace(line[:i])
	}
	inner, ok := strings.CutPrefix(line, "[")
	if !ok || !strings.HasSuffix(inner, "]") || strings.HasPrefix(inner, "[") {
		return "", false
	}
	inner = strings.TrimSpace(strings.TrimSuffix(inner, "]"))
	rest, ok := strings.CutPrefix(inner, "preset")
	if !ok {
		return "", false
	}
	rest, ok = strings.CutPrefix(strings.TrimSpace(rest), ".")
	if !ok {
		return "", false
	}
	rest = strings.TrimSpace(rest)
	switch {
	case strings.HasPrefix(rest, `"`):
		name, err := strconv.Unquote(rest)
		return name, err == nil
	case strings.HasPrefix(rest, "'") && strings.HasSuffix(rest, "'") && len(rest) >= 2:
		return rest[1 : len(rest)-1], true
	}
	return rest, rest != ""
}

// SavePreset adds a preset or replaces the one with the same name (whose
// place in the file it keeps), after validating it. The first save writes
// the shipped examples too, so the file then holds every preset in use.
func SavePreset(path string, p app.Preset, def app.GenerationDefaults) error {
	if probs := app.CheckPreset(p, def); len(probs) > 0 {
		msgs := make([]string, len(probs))
		for i, pr := range probs {
			msgs[i] = pr.String()
		}
		return app.Errorf(app.EINVALID, "%s", strings.Join(msgs, "; "))
	}
	presets, err := LoadPresets(path, def)
	if err != nil {
		return err
	}
	if i := slices.IndexFunc(presets, func(q app.Preset) bool { return q.Name == p.Name }); i >= 0 {
		presets[i] = p
	} else {
		presets = append(presets, p)
	}
	return writePresets(path, presets)
}

// DeletePreset removes the preset called name (exactly, or ignoring case).
func DeletePreset(path, name string, def app.GenerationDefaults) (app.Preset, error) {
	presets, err := LoadPresets(path, def)
	if err != nil {
		return app.Preset{}, err
	}
	p, err := app.FindPreset(presets, name)
	if err != nil {
		return app.Preset{}, err
	}
	presets = slices.DeleteFunc(presets, func(q app.Preset) bool { return q.Name == p.Name })
	return p, writePresets(path, presets)
}

func writePresets(path string, presets []app.Preset) error {
	var b bytes.Buffer
	b.WriteString(presetsHeader)
	for _, p := range presets {
		fmt.Fprintf(&b, "\n[preset.%s]\n", strconv.Quote(p.Name))
		if err := toml.NewEncoder(&b).Encode(p); err != nil {
			return app.Errorf(app.EINTERNAL, "encode preset %q: %w", p.Name, err)
		}
	}
	return writeFileAtomic(path, b.Bytes())
}

// PresetFile is the app.PresetBook on one presets.toml; presets are
// validated against the configuration's models and defaults.
type PresetFile struct {
	Path     string
	Defaults app.GenerationDefaults
}

var _ app.PresetBook = PresetFile{}

func (f PresetFile) Presets() ([]app.Preset, error) { return LoadPresets(f.Path, f.Defaults) }
func (f PresetFile) SavePreset(p app.Preset) error  { return SavePreset(f.Path, p, f.Defaults) }
func (f PresetFile) DeletePreset(name string) (app.Preset, error) {
	return DeletePreset(f.Path, name, f.Defaults)
}
func (f PresetFile) Where() string { return f.Path }
