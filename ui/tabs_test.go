package ui

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// click sends a left click the way the program does: through the last
// frame's OnMouse, whose message then goes to Update.
func click(t testing.TB, m Model, x, y int) Model {
	t.Helper()
	on := m.View().OnMouse
	if on == nil {
		t.Fatalf("the frame has no clickable areas")
	}
	cmd := on(tea.MouseClickMsg{X: x, Y: y, Button: tea.MouseLeft})
	if cmd == nil {
		t.Fatalf("nothing clickable at %d,%d", x, y)
	}
	return step(t, m, cmd())
}

func TestTheActiveTabIsAlwaysVisibleAndHighlighted(t *testing.T) {
	r := newRig(t, true)
	for _, w := range []int{60, 80, 100, 120, 160, 220} {
		m := r.model(t, w, 24)
		for f := 0; f <= 8; f++ {
			t.Run(fmt.Sprintf("%d columns, tab %d", w, f), func(t *testing.T) {
				m.list.filter = f
				line, spans := m.list.tabLayout(m.styles)
				plain := ansi.Strip(line)
				if ansi.StringWidth(line) != m.list.width {
					t.Fatalf("the tab line is %d cells, want %d", ansi.StringWidth(line), m.list.width)
				}
				want := m.list.tabLabel(f, 2)
				if !strings.Contains(plain, fmt.Sprintf("%d ", f)) || !strings.Contains(line, m.styles.tabActive.Render(want)) && !strings.Contains(line, m.styles.tabActive.Render(m.list.tabLabel(f, 0))) {
					t.Fatalf("tab %d is not shown highlighted: %q", f, plain)
				}
				if strings.Contains(plain, "…") {
					t.Fatalf("a label was cut: %q", plain)
				}
				if len(spans) < 9 && !strings.Contains(plain, "‹") && !strings.Contains(plain, "›") {
					t.Fatalf("hidden tabs are not marked: %q", plain)
				}
			})
		}
	}
}

func TestEightShowsTheCancelledTabAt80Columns(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 80, 24)
	m = press(t, m, "8")
	tabs := strings.Split(screenText(m), "\n")[headerHeight]
	if !strings.Contains(tabs, "8 Cancel") || !strings.Contains(tabs, "‹") {
		t.Fatalf("tab line %q", tabs)
	}
	if len(m.list.rows) != 1 || !strings.Contains(screenText(m), "lighthouse") {
		t.Fatalf("the cancelled request is not listed:\n%s", screenText(m))
	}
}

func TestClickingATabFiltersByItsState(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 160, 40)
	_, spans := m.list.tabLayout(m.styles)
	for _, sp := range spans {
		if sp.filter == 5 {
			m = click(t, m, sp.x0+1, headerHeight)
		}
	}
	if m.list.filter != 5 || len(m.list.rows) != 1 || m.list.rows[0].ID != testID(5) {
		t.Fatalf("filter %d rows %d", m.list.filter, len(m.list.rows))
	}
}
