package ui

import (
	"testing"

	"charm.land/bubbles/v2/spinner"
)

func TestOneSpinnerTurnsTheRowsAndTheDetailAndStopsWhenNoneIsActive(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 160, 40)
	m = press(t, m, "j") // processing: its detail spins too
	before := screenText(m)
	m = step(t, m, spinner.TickMsg{})
	if m.list.frame != 1 || m.detail.frame != 1 || screenText(m) == before {
		t.Fatalf("one tick should turn every spinner: list %d detail %d", m.list.frame, m.detail.frame)
	}
	m = press(t, m, "4") // completed only: nothing spins
	m = step(t, m, spinner.TickMsg{})
	if m.spinning || m.list.frame != 1 {
		t.Fatalf("with no active request the loop should stop (spinning %v, frame %d)", m.spinning, m.list.frame)
	}
}
