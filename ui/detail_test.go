package ui

import (
	"strings"
	"testing"
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
	if m.detail.scroll != max(m.detail.total-m.detail.height, 0)-1 {
		t.Fatalf("scroll %d, total %d, height %d", m.detail.scroll, m.detail.total, m.detail.height)
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
