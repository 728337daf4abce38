package ui

import (
	tea "charm.land/bubbletea/v2"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/influencegen/influencegen/app"
)

func TestSubmittingAValidPromptClosesTheComposerAndShowsTheRowOnTop(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 100, 30)
	m = press(t, m, "n")
	m = typeText(t, m, "a lighthouse at dusk")
	m, msgs := do(t, m, keyMsg("ctrl+s"))
	if !hasMsg(msgs, "ui.submittedMsg") {
		t.Fatalf("ctrl+s produced %v", msgTypes(msgs))
	}
	m = feedAll(t, m, msgs)
	if m.screen != screenMain {
		t.Fatalf("the composer should close, screen %d", m.screen)
	}
	top, _ := m.list.selected()
	if top.Params.Prompt != "a lighthouse at dusk" || top.Status != app.StatusQueued || m.list.cursor != 0 {
		t.Fatalf("top row %q %s (cursor %d)", top.Params.Prompt, top.Status, m.list.cursor)
	}
	if !strings.Contains(screenText(m), "a lighthouse at dusk") {
		t.Fatal("the new row should be on screen at once")
	}
}

func TestValidationErrorsShowNextToTheirFields(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 100, 30)
	m = press(t, m, "n", "tab") // negative prompt
	m = typeText(t, m, strings.Repeat("x", 10))
	m = press(t, m, "tab", "tab", "tab", "tab") // model, preset, resolution, aspect
	m = press(t, m, "ctrl+a", "ctrl+k")
	m = typeText(t, m, "7:3000")
	m = press(t, m, "ctrl+s")
	if m.screen != screenComposer {
		t.Fatal("a refused submit keeps the composer open")
	}
	screen := screenText(m)
	for _, want := range []string{"✗ prompt: required", "✗ aspect ratio \"7:3000\""} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q:\n%s", want, screen)
		}
	}
}

func TestASeedThatIsNotANumberIsRefusedBeforeTheServiceIsCalled(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 100, 30)
	m = press(t, m, "n")
	m = typeText(t, m, "a cat")
	for range 6 {
		m = press(t, m, "tab")
	}
	m = typeText(t, m, "lucky")
	m = press(t, m, "ctrl+s")
	if len(r.svc.Calls()) != 0 {
		t.Fatalf("service called: %v", r.svc.Calls())
	}
	if !strings.Contains(screenText(m), `seed "lucky": must be between 0 and`) {
		t.Fatalf("no inline seed error:\n%s", screenText(m))
	}
}

func TestResolutionAndAspectStayConsistentBothWays(t *testing.T) {
	r := newRig(t, false)
	m := r.model(t, 100, 30)
	m = press(t, m, "n", "tab", "tab", "tab", "tab", "tab") // aspect
	m = press(t, m, "ctrl+a", "ctrl+k")
	m = typeText(t, m, "16:9")
	w, h, err := app.ParseResolution(m.composer.resolution.Value())
	if err != nil || app.AspectOf(w, h) != "16:9" {
		t.Fatalf("aspect 16:9 gave resolution %q (%v)", m.composer.resolution.Value(), err)
	}
	if aspectPresets[m.composer.preset].aspect != "16:9" {
		t.Fatalf("the size picker should follow to 16:9, got %d", m.composer.preset)
	}
	m = press(t, m, "shift+tab") // resolution
	m = press(t, m, "ctrl+a", "ctrl+k")
	m = typeText(t, m, "768x1024")
	if m.composer.aspect.Value() != "3:4" {
		t.Fatalf("resolution 768x1024 gave aspect %q", m.composer.aspect.Value())
	}
	m = press(t, m, "shift+tab", "right") // size picker: 3:4 → next preset
	if got := aspectPresets[m.composer.preset].aspect; m.composer.aspect.Value() != got {
		t.Fatalf("preset %s but aspect field %q", got, m.composer.aspect.Value())
	}
}

func TestTheModelPickerCyclesThroughTheConfiguredModels(t *testing.T) {
	r := newRig(t, false)
	m := r.model(t, 100, 30)
	m = press(t, m, "n", "tab", "tab", "right")
	if in, _ := m.composer.validate(); in.Model != "sd3.5-large" {
		t.Fatalf("model %q", in.Model)
	}
	m = press(t, m, "left", "left")
	if in, _ := m.composer.validate(); in.Model != "flux-dev" {
		t.Fatalf("model %q after wrapping left", in.Model)
	}
}

func TestPromptHistoryIsBrowsedWithCtrlPAndCtrlN(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 100, 30)
	m = press(t, m, "n")
	m = typeText(t, m, "draft")
	m = press(t, m, "ctrl+p")
	first := m.composer.prompt.Value()
	if first == "draft" || first == "" {
		t.Fatalf("ctrl+p should bring the newest stored prompt, got %q", first)
	}
	m = press(t, m, "ctrl+p")
	if m.composer.prompt.Value() == first {
		t.Fatal("a second ctrl+p should go further back")
	}
	m = press(t, m, "ctrl+n", "ctrl+n")
	if m.composer.prompt.Value() != "draft" {
		t.Fatalf("ctrl+n past the newest should restore the draft, got %q", m.composer.prompt.Value())
	}
}

func TestTheCharacterCountWarnsPastTheLimit(t *testing.T) {
	c := newComposer(app.DefaultConfig(), newComposerKeys())
	c.SetSize(100, 30)
	c.prompt.SetValue(strings.Repeat("a", app.MaxPromptChars+1))
	if got := c.View(newStyles(true, true)); !strings.Contains(got, fmt.Sprintf("%d/%d", app.MaxPromptChars+1, app.MaxPromptChars)) {
		t.Fatalf("count missing:\n%s", got)
	}
}

func TestABatchSubmitShowsEveryNewRow(t *testing.T) {
	r := newRig(t, false)
	m := r.model(t, 100, 30)
	m = press(t, m, "n")
	m = typeText(t, m, "three foxes")
	for range 7 {
		m = press(t, m, "tab")
	}
	m = press(t, m, "backspace")
	m = typeText(t, m, "3")
	m = press(t, m, "ctrl+s")
	if len(m.list.rows) != 3 || !slices.ContainsFunc(m.list.rows, func(r app.Request) bool { return r.Params.Prompt == "three foxes" }) {
		t.Fatalf("rows %d", len(m.list.rows))
	}
	if m.list.rows[0].ID < m.list.rows[2].ID {
		t.Fatal("newest first")
	}
}

func TestSubmittingKeepsTheFilterAndSearchAndSaysTheNewRowsAreHidden(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 100, 30)
	m = press(t, m, "4", "/") // completed only, searching for a fox
	m = typeText(t, m, "fox")
	m = press(t, m, "enter", "n")
	m = typeText(t, m, "a heron in the reeds")
	m = press(t, m, "ctrl+s")
	if m.list.filter != 4 || m.list.search != "fox" || len(m.list.rows) != 1 {
		t.Fatalf("filter %d search %q rows %d", m.list.filter, m.list.search, len(m.list.rows))
	}
	if !strings.Contains(m.flash, "submitted 1 request — hidden by the current filter") {
		t.Fatalf("flash %q", m.flash)
	}
}

func TestSubmittingUnfilteredPutsTheNewRowOnTop(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 100, 30)
	m = press(t, m, "n")
	m = typeText(t, m, "a heron in the reeds")
	m = press(t, m, "ctrl+s")
	if top, _ := m.list.selected(); top.Params.Prompt != "a heron in the reeds" || len(m.list.rows) != 9 {
		t.Fatalf("top %q, %d rows", top.Params.Prompt, len(m.list.rows))
	}
}

func TestEveryFormProblemShowsAtOnceAndClearsWhenFixed(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 120, 40)
	m = press(t, m, "n", "tab", "tab", "tab", "tab", "tab", "tab") // seed
	m = typeText(t, m, "abc")
	m = press(t, m, "tab", "backspace")
	m = typeText(t, m, "20")
	m = press(t, m, "ctrl+s")
	for _, f := range []string{app.FieldPrompt, app.FieldSeed, app.FieldCount} {
		if m.composer.errs == nil || m.composer.errs.For(f) == "" {
			t.Fatalf("%s is not flagged; errors %v", f, m.composer.errs)
		}
	}
	m = step(t, m, tea.PasteMsg{Content: "5"}) // count 205? no: the field holds at most 2 characters
	m = press(t, m, "backspace", "backspace")
	m = typeText(t, m, "3")
	if m.composer.errs.For(app.FieldCount) != "" {
		t.Fatalf("count 3 is fine, still flagged: %q", m.composer.errs.For(app.FieldCount))
	}
	m = press(t, m, "shift+tab", "ctrl+a", "ctrl+k")
	m = typeText(t, m, "-5")
	if got := m.composer.errs.For(app.FieldSeed); !strings.Contains(got, "-1") {
		t.Fatalf("seed -5 message %q", got)
	}
	for range 6 {
		m = press(t, m, "shift+tab")
	}
	m = step(t, m, tea.PasteMsg{Content: "a pasted prompt"})
	if m.composer.errs.For(app.FieldPrompt) != "" {
		t.Fatal("the prompt error should go once a prompt is pasted")
	}
}

func TestTheChosenSizePresetStaysVisibleAt80Columns(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 80, 24)
	m = press(t, m, "n", "tab", "tab", "tab", "left", "left") // classic 3:4
	line := ""
	for _, l := range strings.Split(screenText(m), "\n") {
		if strings.Contains(l, "Size") {
			line = l
		}
	}
	if !strings.Contains(line, "‹ classic 3:4 ›") {
		t.Fatalf("the chosen preset is not on screen: %q", line)
	}
	if m.composer.prompt.Height() < 8 {
		t.Fatalf("the prompt box is %d lines high with room to spare", m.composer.prompt.Height())
	}
}
