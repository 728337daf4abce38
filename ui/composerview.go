package ui

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/influencegen/influencegen/app"
)

// Rendering of the composer: the fields, their problems and the pickers.

func (c composerModel) View(s *styles) string {
	w := c.width
	var b []string
	add := func(l string) { b = append(b, ansi.Truncate(l, w, "…")) }
	label := func(f composerField, text string) string {
		if c.focus == f {
			return s.accent.Bold(true).Render("› " + text)
		}
		return s.label.Render("  " + text)
	}
	fieldErr := func(fields ...string) {
		if c.errs == nil {
			return
		}
		for _, f := range fields {
			if msg := c.errs.For(f); msg != "" {
				for i, l := range wrap(msg, w-6) {
					mark := "    ✗ "
					if i > 0 {
						mark = "      "
					}
					add(s.fieldErr.Render(mark + l))
				}
			}
		}
	}
	title := s.title.Render("New request")
	if c.submitting {
		title += s.muted.Render("  submitting…")
	}
	switch {
	case c.presetNote != "" && c.presetNoteErr:
		title += "  " + s.err.Render(safe(c.presetNote))
	case c.presetNote != "":
		title += "  " + s.accent.Render(safe(c.presetNote))
	}
	add(title)
	n := utf8.RuneCountInString(strings.TrimSpace(c.prompt.Value()))
	countStyle := s.muted
	if n > app.MaxPromptChars {
		countStyle = s.err
	}
	hist := ""
	if c.histPos >= 0 {
		hist = s.muted.Render(fmt.Sprintf("  history %d/%d", c.histPos+1, len(c.history)))
	}
	add(label(fieldPrompt, "Prompt") + "  " + countStyle.Render(fmt.Sprintf("%d/%d", n, app.MaxPromptChars)) + hist)
	for _, l := range strings.Split(c.prompt.View(), "\n") {
		add("  " + l)
	}
	fieldErr(app.FieldPrompt)
	add(label(fieldNegative, "Negative  ") + " " + c.negative.View())
	fieldErr(app.FieldNegativePrompt)
	add(label(fieldModel, "Model     ") + " " + c.pickerView(s, c.cfg.Generation.Models, c.model, c.focus == fieldModel, w-13))
	fieldErr(app.FieldModel)
	presetNames := make([]string, len(aspectPresets))
	for i, p := range aspectPresets {
		presetNames[i] = p.name
	}
	cur := c.preset
	if cur == customPreset {
		presetNames = append(presetNames, "custom")
		cur = len(presetNames) - 1
	}
	add(label(fieldPreset, "Size      ") + " " + c.pickerView(s, presetNames, cur, c.focus == fieldPreset, w-13))
	add(label(fieldResolution, "Resolution") + " " + c.resolution.View() + "  " + label(fieldAspect, "Aspect") + " " + c.aspect.View())
	fieldErr(app.FieldResolution, app.FieldAspectRatio)
	seedNote := s.muted.Render("⟳ a new one for each request; type a number to lock it")
	if strings.TrimSpace(c.seed.Value()) != "" {
		seedNote = s.muted.Render("locked (a batch uses seed, seed+1, …)")
	}
	add(label(fieldSeed, "Seed      ") + " " + c.seed.View() + " " + seedNote)
	fieldErr(app.FieldSeed)
	add(label(fieldCount, "Count     ") + " " + c.count.View() + s.muted.Render(fmt.Sprintf(" requests (1-%d)", app.MaxCount)))
	fieldErr(app.FieldCount)
	if c.failure != "" {
		add("")
		for _, l := range wrap(c.failure, w-2) {
			add(s.err.Render(l))
		}
	}
	return strings.Join(b, "\n")
}

// pickerView shows the current choice between arrows, with as many
// neighbours as fit in width: the selected option is always visible.
func (c composerModel) pickerView(s *styles, items []string, cur int, focused bool, width int) string {
	if len(items) == 0 {
		return s.err.Render("none configured (generation.models)")
	}
	chosen := s.bold
	if focused {
		chosen = s.accent.Bold(true)
	}
	label := func(i int) string {
		if i == cur {
			return chosen.Render("‹ " + items[i] + " ›")
		}
		return s.muted.Render(items[i])
	}
	from, to := cur, cur+1
	w := lipgloss.Width(label(cur))
	for grown := true; grown; {
		grown = false
		if to < len(items) && w+1+lipgloss.Width(items[to])+4 <= width {
			w += 1 + lipgloss.Width(items[to])
			to, grown = to+1, true
		}
		if from > 0 && w+1+lipgloss.Width(items[from-1])+4 <= width {
			w += 1 + lipgloss.Width(items[from-1])
			from, grown = from-1, true
		}
	}
	parts := make([]string, 0, to-from+2)
	if from > 0 {
		parts = append(parts, s.muted.Render("…"))
	}
	for i := from; i < to; i++ {
		parts = append(parts, label(i))
	}
	if to < len(items) {
		parts = append(parts, s.muted.Render("…"))
	}
	return strings.Join(parts, " ")
}
