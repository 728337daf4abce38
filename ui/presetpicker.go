package ui

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/influencegen/influencegen/app"
)

// The composer's preset picker (ctrl+t, issue 14 §5): a small list of the
// presets in presets.toml; enter applies the selected one to the form and
// the form says what it changed ("preset Story 9:16: aspect 9:16, …").
// While it is open it owns the keyboard (one mode at a time).

// presetPicker is the open picker. presets is nil while they load.
type presetPicker struct {
	keys    presetPickerKeys
	presets []app.Preset
	cursor  int
	loaded  bool
	err     error
}

type presetPickerKeys struct {
	Up, Down, Apply, Close key.Binding
}

func newPresetPickerKeys() presetPickerKeys {
	return presetPickerKeys{
		Up:    key.NewBinding(key.WithKeys("up", "ctrl+p"), key.WithHelp("↑", "up")),
		Down:  key.NewBinding(key.WithKeys("down", "ctrl+n"), key.WithHelp("↓", "down")),
		Apply: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply preset")),
		Close: key.NewBinding(key.WithKeys("esc", "ctrl+t"), key.WithHelp("esc", "close")),
	}
}

func (k presetPickerKeys) ShortHelp() []key.Binding { return []key.Binding{k.Up, k.Down} }
func (k presetPickerKeys) Essential() []key.Binding { return []key.Binding{k.Apply, k.Close} }
func (k presetPickerKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.Apply, k.Close}}
}

// presetsLoadedMsg carries presets.toml's presets for the picker.
type presetsLoadedMsg struct {
	presets []app.Preset
	err     error
}

// openPresetPicker is ctrl+t in the composer.
func (m Model) openPresetPicker() (Model, tea.Cmd) {
	if m.b.Presets == nil {
		m.composer.presetNote, m.composer.presetNoteErr = "presets are not available here", true
		return m, nil
	}
	m.composer.picker = &presetPicker{keys: newPresetPickerKeys()}
	return m, loadPresetsCmd(m.ctx, m.b.Presets)
}

func (m Model) handlePresetsLoaded(msg presetsLoadedMsg) (Model, tea.Cmd) {
	if p := m.composer.picker; p != nil {
		p.presets, p.err, p.loaded = msg.presets, msg.err, true
	}
	return m, nil
}

func (m Model) handlePresetPickerKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	p := m.composer.picker
	switch {
	case key.Matches(msg, p.keys.Close):
		m.composer.picker = nil
	case key.Matches(msg, p.keys.Up):
		p.cursor = max(p.cursor-1, 0)
	case key.Matches(msg, p.keys.Down):
		p.cursor = min(p.cursor+1, max(len(p.presets)-1, 0))
	case key.Matches(msg, p.keys.Apply):
		if p.cursor < len(p.presets) {
			*m.composer = m.composer.applyPreset(p.presets[p.cursor])
			m.composer.picker = nil
		}
	}
	return m, nil
}

// applyPreset sets the form's fields from the preset and notes what it
// changed. The form is read as it stands (a field that does not parse yet
// is left to the preset or kept as typed).
func (c composerModel) applyPreset(p app.Preset) composerModel {
	in, _ := c.validate()
	in.Count = max(in.Count, 1)
	out, changes := p.Apply(in)
	c.prompt.SetValue(out.Prompt)
	c.negative.SetValue(out.NegativePrompt)
	for i, m := range c.cfg.Generation.Models {
		if m == out.Model {
			c.model = i
		}
	}
	switch {
	case p.Resolution != "":
		c.resolution.SetValue(out.Resolution)
		c.aspect.SetValue(out.AspectRatio)
		if w, h, err := app.ParseResolution(out.Resolution); err == nil && out.AspectRatio == "" {
			c.aspect.SetValue(app.AspectOf(w, h))
		}
	case p.AspectRatio != "":
		// The size follows the aspect at the default area, as Validate
		// derives it when only an aspect is given.
		c.aspect.SetValue(out.AspectRatio)
		if aw, ah, err := app.ParseAspect(out.AspectRatio); err == nil {
			dw, dh, derr := app.ParseResolution(c.cfg.Generation.DefaultResolution)
			if derr != nil {
				dw, dh = 1024, 1024
			}
			w, h := app.SizeForAspect(aw, ah, dw*dh)
			c.resolution.SetValue(fmt.Sprintf("%dx%d", w, h))
		}
	}
	c.syncPreset()
	switch {
	case out.Seed == nil:
		c.seed.SetValue("")
	case *out.Seed >= 0:
		c.seed.SetValue(strconv.FormatInt(*out.Seed, 10))
	}
	if out.Count > 0 {
		c.count.SetValue(strconv.Itoa(out.Count))
	}
	if len(changes) == 0 {
		changes = []string{"nothing to change"}
	}
	c.presetNote, c.presetNoteErr = "preset "+p.Name+": "+strings.Join(changes, ", "), false
	return c.revalidate()
}

// View draws the picker as a box for the bottom of the composer.
func (p presetPicker) View(s *styles, width int) string {
	w := min(width, 78)
	inner := w - 4
	lines := []string{s.bold.Render("Presets") + s.muted.Render("  (presets.toml; influencegen preset save NAME … adds one)")}
	switch {
	case !p.loaded:
		lines = append(lines, s.muted.Render("loading…"))
	case p.err != nil:
		for _, l := range wrap(safe(errText(p.err)), inner) {
			lines = append(lines, s.err.Render(l))
		}
	case len(p.presets) == 0:
		lines = append(lines, s.muted.Render("No presets yet: influencegen preset save NAME --aspect 9:16 …"))
	default:
		// A window of at most eight around the cursor keeps the box small.
		from := max(min(p.cursor-3, len(p.presets)-8), 0)
		for i := from; i < min(from+8, len(p.presets)); i++ {
			pr := p.presets[i]
			line := ansi.Truncate(safe(pr.Name)+"  "+s.muted.Render(safe(strings.Join(presetSets(pr), ", "))), inner-2, "…")
			if i == p.cursor {
				lines = append(lines, s.accent.Bold(true).Render("› ")+line)
			} else {
				lines = append(lines, "  "+line)
			}
		}
	}
	box := lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).Padding(0, 1).Width(w)
	if !s.noColor {
		box = box.BorderForeground(s.accent.GetForeground())
	}
	return box.Render(strings.Join(lines, "\n"))
}

// presetSets names what a preset sets, briefly, for the picker's rows.
func presetSets(p app.Preset) []string {
	var out []string
	if p.AspectRatio != "" {
		out = append(out, p.AspectRatio)
	}
	if p.Resolution != "" {
		out = append(out, p.Resolution)
	}
	if p.Model != "" {
		out = append(out, p.Model)
	}
	if p.Count != 0 {
		out = append(out, fmt.Sprintf("×%d", p.Count))
	}
	if p.SeedMode != "" {
		out = append(out, p.SeedMode+" seed")
	}
	if p.NegativePrompt != nil {
		out = append(out, "negative")
	}
	if p.PromptTemplate != "" {
		out = append(out, strconv.Quote(p.PromptTemplate))
	}
	return out
}
