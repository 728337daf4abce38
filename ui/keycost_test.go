package ui

import (
	"testing"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
)

// BenchmarkKeyInComposer is the UI goroutine's own cost of one typed
// character: Update, then View (Bubble Tea renders after every message).
func BenchmarkKeyInComposer(b *testing.B) {
	r := newRig(b, true)
	m := r.model(b, 160, 48)
	m = press(b, m, "n")
	i := 0
	for b.Loop() {
		c := rune('a' + i%26)
		i++
		next, _ := m.Update(tea.KeyPressMsg{Code: c, Text: string(c)})
		m = next.(Model)
		_ = m.View()
		if i%200 == 0 { // keep the prompt short, as a person would
			m.composer.prompt.SetValue("")
		}
	}
}

// BenchmarkFrameOnTheList is one message's cost on the main screen with a
// picture in the detail pane: what every spinner tick and reload pays.
func BenchmarkFrameOnTheList(b *testing.B) {
	r := newRig(b, true)
	m := r.model(b, 160, 48)
	for b.Loop() {
		next, _ := m.Update(spinner.TickMsg{})
		m = next.(Model)
		_ = m.View()
	}
}
