package ui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

func TestDetailScrollingStopsAtItsEnd(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 80, 24)
	m = press(t, m, "enter")
	for range 60 {
		m = press(t, m, "j")
	}
	bottom := screenText(m)
	m = press(t, m, "k")
	if screenText(m) == bottom {
		t.Fatal("after scrolling past the end, k should move up at once")
	}
	if m.detail.vp.YOffset() != max(m.detail.vp.TotalLineCount()-m.detail.vp.Height(), 0)-1 {
		t.Fatalf("scroll %d, total %d, height %d", m.detail.vp.YOffset(), m.detail.vp.TotalLineCount(), m.detail.vp.Height())
	}
}

func TestTheFullScreenDetailFitsThePictureInThePane(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 80, 24)
	m = press(t, m, "enter")
	if m.detail.preview == nil {
		t.Fatal("no picture")
	}
	if m.detail.preview.rows > m.detail.height {
		t.Fatalf("the picture is %d rows in a %d-row pane", m.detail.preview.rows, m.detail.height)
	}
	for range 60 {
		m = press(t, m, "j")
	}
	if n := strings.Count(screenText(m), "▀▀▀▀"); n < m.detail.preview.rows {
		t.Fatalf("scrolled to the end, %d of the picture's %d rows show", n, m.detail.preview.rows)
	}
}

func TestDetailTimesAreLocalAndProviderErrorsHaveAHint(t *testing.T) {
	if got := errorHint("failed", "provider_error"); !strings.Contains(got, "provider") {
		t.Fatalf("hint %q", got)
	}
	r := newRig(t, true)
	m := r.model(t, 80, 24)
	m = press(t, m, "enter")
	want := testNow.Add(-7 * 60e9).Local().Format("2006-01-02 15:04:05 MST")
	if !strings.Contains(screenText(m), want) {
		t.Fatalf("want local time %q in:\n%s", want, screenText(m))
	}
}

// The full-screen detail scrolls with the mouse wheel, clamped at both
// ends, and says how far down it is.
func TestTheMouseWheelScrollsTheDetailAndThePercentageShows(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 80, 24)
	m = press(t, m, "enter")
	if m.screen != screenDetail {
		t.Fatalf("screen %v, want the full-screen detail", m.screen)
	}
	if !strings.Contains(screenText(m), "── 0% · j/k scroll") {
		t.Fatalf("no percentage at the top:\n%s", screenText(m))
	}
	top := screenText(m)
	m = step(t, m, tea.MouseWheelMsg{X: 5, Y: 5, Button: tea.MouseWheelDown})
	if got := m.detail.vp.YOffset(); got != 3 {
		t.Fatalf("one wheel notch down moved to line %d, want 3", got)
	}
	if screenText(m) == top {
		t.Fatal("the wheel moved the offset but not the screen")
	}
	for range 60 {
		m = step(t, m, tea.MouseWheelMsg{X: 5, Y: 5, Button: tea.MouseWheelDown})
	}
	if want := m.detail.vp.TotalLineCount() - m.detail.vp.Height(); m.detail.vp.YOffset() != want {
		t.Fatalf("after 60 notches the offset is %d, want the end %d", m.detail.vp.YOffset(), want)
	}
	if !strings.Contains(screenText(m), "── 100% · j/k scroll") {
		t.Fatalf("no 100%% at the end:\n%s", screenText(m))
	}
	m = step(t, m, tea.MouseWheelMsg{X: 5, Y: 5, Button: tea.MouseWheelUp})
	if want := m.detail.vp.TotalLineCount() - m.detail.vp.Height() - 3; m.detail.vp.YOffset() != want {
		t.Fatalf("one notch up from the end is line %d, want %d", m.detail.vp.YOffset(), want)
	}
	for range 60 {
		m = step(t, m, tea.MouseWheelMsg{X: 5, Y: 5, Button: tea.MouseWheelUp})
	}
	if m.detail.vp.YOffset() != 0 || screenText(m) != top {
		t.Fatalf("60 notches up should be back at the top, offset %d", m.detail.vp.YOffset())
	}
}
