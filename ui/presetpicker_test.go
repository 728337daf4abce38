package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/store"
)

// presetRig is a dashboard whose presets.toml holds the shipped examples
// plus a brand preset.
func presetRig(t *testing.T) *rig {
	t.Helper()
	r := newRig(t, true)
	book := store.PresetFile{Path: filepath.Join(t.TempDir(), "presets.toml"), Defaults: r.b.Config.Defaults()}
	if err := book.SavePreset(app.Preset{Name: "Brand pastel", Model: "flux-dev", Count: 4,
		PromptTemplate: "{prompt}, soft pastel palette, studio light"}); err != nil {
		t.Fatal(err)
	}
	r.b.Presets = book
	return r
}

func TestCtrlTAppliesAPresetToTheComposerAndSaysWhatChanged(t *testing.T) {
	r := presetRig(t)
	m := r.model(t, 120, 40)
	m = press(t, m, "n")
	m = typeText(t, m, "a red fox")
	m = press(t, m, "ctrl+t")
	if m.composer.picker == nil || !strings.Contains(screenText(m), "Instagram story 9:16") {
		t.Fatalf("ctrl+t did not open the picker:\n%s", screenText(m))
	}
	if footer := lastLine(screenText(m)); !strings.Contains(footer, "enter apply preset") {
		t.Fatalf("the footer does not show the picker's keys: %q", footer)
	}
	m = press(t, m, "down") // Instagram story 9:16
	m = press(t, m, "enter")
	c := m.composer
	if c.picker != nil || c.aspect.Value() != "9:16" || c.resolution.Value() != "768x1368" {
		t.Fatalf("after the story preset: picker open %v, aspect %q, resolution %q", c.picker != nil, c.aspect.Value(), c.resolution.Value())
	}
	if !strings.Contains(screenText(m), "preset Instagram story 9:16: aspect 9:16") {
		t.Fatalf("the composer does not say what the preset changed:\n%s", screenText(m))
	}
	m = press(t, m, "ctrl+t", "down", "down", "down", "enter") // Brand pastel
	c = m.composer
	if c.prompt.Value() != "a red fox, soft pastel palette, studio light" || c.cfg.Generation.Models[c.model] != "flux-dev" ||
		c.count.Value() != "4" || c.aspect.Value() != "9:16" {
		t.Fatalf("after the brand preset: prompt %q model %q count %q aspect %q", c.prompt.Value(),
			c.cfg.Generation.Models[c.model], c.count.Value(), c.aspect.Value())
	}
	if !strings.Contains(screenText(m), "preset Brand pastel: model flux-dev, count 4, prompt") {
		t.Fatalf("brand note missing:\n%s", screenText(m))
	}
	// The form submits what the presets set.
	m = press(t, m, "ctrl+s")
	if calls := r.svc.Calls(); len(calls) != 1 || calls[0] != "submit" {
		t.Fatalf("calls %v", calls)
	}
	page, err := r.db.ListRequests(t.Context(), app.ListQuery{Search: "pastel"})
	if err != nil || len(page.Requests) != 4 || page.Requests[0].Params.AspectRatio != "9:16" || page.Requests[0].Params.Model != "flux-dev" {
		t.Fatalf("submitted %d requests (%v): %+v", len(page.Requests), err, page.Requests)
	}
}

func TestThePresetPickerClosesWithEscAndReportsABadFile(t *testing.T) {
	r := newRig(t, true)
	path := filepath.Join(t.TempDir(), "presets.toml")
	r.b.Presets = store.PresetFile{Path: path, Defaults: r.b.Config.Defaults()}
	if err := writeFile(path, "[preset.\"x\"]\ncolour = \"pink\"\n"); err != nil {
		t.Fatal(err)
	}
	m := r.model(t, 120, 40)
	m = press(t, m, "n", "ctrl+t")
	if !strings.Contains(screenText(m), `unknown key "colour"`) {
		t.Fatalf("a bad presets.toml is not reported in the picker:\n%s", screenText(m))
	}
	m = press(t, m, "esc")
	if m.composer.picker != nil || m.screen != screenComposer {
		t.Fatalf("esc: picker open %v, screen %d; want the composer back", m.composer.picker != nil, m.screen)
	}
}

// The picker over the composer, in a dark and a light terminal.
func TestPresetPickerGolden(t *testing.T) {
	for _, theme := range []struct {
		name string
		bg   tea.Msg
	}{{"dark", darkTerminal}, {"light", lightTerminal}} {
		t.Run(theme.name, func(t *testing.T) {
			r := presetRig(t)
			m := r.model(t, 100, 30)
			m = step(t, m, theme.bg)
			m = press(t, m, "n")
			m = typeText(t, m, "a red fox")
			m = press(t, m, "ctrl+t", "down", "down")
			golden.RequireEqual(t, []byte(screenText(m)))
		})
	}
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }
