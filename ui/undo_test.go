package ui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"
	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/app/apptest"
)

// d deletes at once (no question), the footer offers the undo with its
// countdown, and u within the window brings the row back.
func TestDeleteActsAtOnceAndUBringsTheRowBack(t *testing.T) {
	r := newRig(t, true)
	clock := apptest.NewClock(testNow)
	r.b.Clock = clock
	m := r.model(t, 100, 24)
	m = press(t, m, "d")
	if m.confirm != nil {
		t.Fatal("d asked a question; it should act at once and offer an undo")
	}
	if calls := r.svc.Calls(); !slices.Contains(calls, "delete "+testID(8)) {
		t.Fatalf("calls %v", calls)
	}
	if _, listed := m.list.row(testID(8)); listed {
		t.Fatal("the deleted row is still listed")
	}
	if footer := screenText(m); !strings.Contains(footer, "deleted 1 request · u undo (10 s)") {
		t.Fatalf("no undo offer in the footer:\n%s", footer)
	}
	clock.Advance(1200 * time.Millisecond)
	m = step(t, m, pollTickedMsg{})
	if footer := screenText(m); !strings.Contains(footer, "deleted 1 request · u undo (9 s)") {
		t.Fatalf("the countdown did not move:\n%s", footer)
	}
	m = press(t, m, "u")
	if calls := r.svc.Calls(); !slices.Contains(calls, "undo delete "+testID(8)) {
		t.Fatalf("u did not undo the delete: calls %v", calls)
	}
	if _, listed := m.list.row(testID(8)); !listed {
		t.Fatalf("the restored row is not listed:\n%s", screenText(m))
	}
	if !strings.Contains(m.flash, "restored") || strings.Contains(screenText(m), "u undo") {
		t.Fatalf("after the undo: flash %q\n%s", m.flash, screenText(m))
	}
}

// x cancels at once; u puts the request back in processing. Once the
// window has passed, u is not offered and does nothing.
func TestCancelActsAtOnceAndTheUndoWindowCloses(t *testing.T) {
	r := newRig(t, true)
	clock := apptest.NewClock(testNow)
	r.b.Clock = clock
	m := r.model(t, 100, 24)
	m = press(t, m, "j", "x") // the processing one
	if sel, _ := m.list.selected(); sel.Status != app.StatusCancelled || m.confirm != nil {
		t.Fatalf("x: selected %s, question %v; want cancelled at once", sel.Status, m.confirm != nil)
	}
	if !strings.Contains(screenText(m), "cancelled 1 request · u undo (10 s)") {
		t.Fatalf("no undo offer:\n%s", screenText(m))
	}
	m = press(t, m, "u")
	if sel, _ := m.list.selected(); sel.Status != app.StatusProcessing {
		t.Fatalf("after u the request is %s, want processing again", sel.Status)
	}

	m = press(t, m, "x")
	clock.Advance(app.UndoWindow)
	m = step(t, m, pollTickedMsg{})
	if strings.Contains(screenText(m), "u undo") {
		t.Fatalf("the undo is still offered after the window:\n%s", screenText(m))
	}
	calls := len(r.svc.Calls())
	m = press(t, m, "u")
	if len(r.svc.Calls()) != calls {
		t.Fatalf("u after the window called the service: %v", r.svc.Calls())
	}
	if sel, _ := m.list.selected(); sel.Status != app.StatusCancelled {
		t.Fatalf("the request is %s, want still cancelled", sel.Status)
	}
}

// A cancel made while the request was sending cannot be undone (n8n may or
// may not have its POST), and the dashboard says so instead of offering u.
func TestACancelWhileSendingOffersNoUndo(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 120, 24)
	m = press(t, m, "j", "j", "x") // the sending one
	if sel, _ := m.list.selected(); sel.Status != app.StatusCancelled {
		t.Fatalf("selected %s, want cancelled", sel.Status)
	}
	if s := screenText(m); strings.Contains(s, "u undo") || !strings.Contains(s, "cannot be undone") {
		t.Fatalf("a cancel while sending offers an undo, or does not say why not:\n%s", s)
	}
}

// The footer with an undo offer, in a dark and a light terminal.
func TestUndoFooterGolden(t *testing.T) {
	for _, theme := range []struct {
		name string
		bg   any
	}{{"dark", darkTerminal}, {"light", lightTerminal}} {
		t.Run(theme.name, func(t *testing.T) {
			r := newRig(t, true)
			m := r.model(t, 100, 24)
			m = step(t, m, theme.bg)
			m = press(t, m, "d")
			golden.RequireEqual(t, []byte(screenText(m)))
		})
	}
}
