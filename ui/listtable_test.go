package ui

import (
	"context"
	"image/color"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"

	"github.com/influencegen/influencegen/app"
)

// drawn is the frame as the terminal holds it: one cell per column.
func drawn(m Model) uv.ScreenBuffer {
	buf := uv.NewScreenBuffer(m.width, m.height)
	uv.NewStyledString(m.View().Content).Draw(buf, buf.Bounds())
	return buf
}

// rowLine is the screen line the list draws its i-th loaded row on.
func rowLine(m Model, i int) int { return headerHeight + m.list.rowsTop() + i - m.list.offset }

// lineText is one screen line without colours.
func lineText(buf uv.ScreenBuffer, y, w int) string {
	var b strings.Builder
	for x := 0; x < w; x++ {
		if c := buf.CellAt(x, y); c != nil {
			b.WriteString(c.Content)
		}
	}
	return b.String()
}

func sameColour(a, b color.Color) bool {
	if a == nil || b == nil {
		return a == b
	}
	ar, ag, ab, _ := a.RGBA()
	br, bg, bb, _ := b.RGBA()
	return ar>>8 == br>>8 && ag>>8 == bg>>8 && ab>>8 == bb>>8
}

func TestTheTableIsHandedOnlyTheVisibleWindowWithTheCursorOnTheSelection(t *testing.T) {
	r := newRig(t, false)
	fillRequests(t, r.db, manyRows())
	m := r.model(t, 100, 30)
	vis := m.list.visibleRows()
	// past the first screen, then past the first keyset page (a read of
	// the next window happens on the way)
	for _, moves := range []int{vis + 3, pageSize + 10} {
		for range moves {
			m = press(t, m, "j")
		}
		tbl := m.list.visibleTable(m.styles, true, testNow)
		if got := len(tbl.Rows()); got != vis {
			t.Fatalf("the table holds %d rows, want the %d on screen (window %d rows)", got, vis, len(m.list.rows))
		}
		if tbl.Cursor() != m.list.cursor-m.list.offset {
			t.Fatalf("table cursor %d, list cursor %d offset %d", tbl.Cursor(), m.list.cursor, m.list.offset)
		}
		sel, _ := m.list.selected()
		if got := ansi.Strip(tbl.SelectedRow()[colPrompt]); !strings.HasPrefix(got, sel.Params.Prompt) {
			t.Fatalf("the table's selected row shows %q, the list selected %q", got, sel.Params.Prompt)
		}
		if m.list.offset == 0 {
			t.Fatalf("after %d moves the window should have scrolled", moves)
		}
	}
}

func TestTheSelectedRowKeepsItsStateColourOnTheSelectionBackground(t *testing.T) {
	r := newRig(t, true)
	for _, theme := range []struct {
		name string
		bg   tea.BackgroundColorMsg
		dark bool
	}{{"dark", darkTerminal, true}, {"light", lightTerminal, false}} {
		t.Run(theme.name, func(t *testing.T) {
			m := r.model(t, 120, 30)
			m = step(t, m, theme.bg)
			p := newPalette(theme.dark)
			for i, want := range []color.Color{p.success, p.accent} { // completed, then processing
				if i > 0 {
					m = press(t, m, "j")
				}
				buf := drawn(m)
				y := rowLine(m, m.list.cursor)
				for x := 0; x < m.list.width; x++ {
					if c := buf.CellAt(x, y); c == nil || !sameColour(c.Style.Bg, p.selectedBg) {
						t.Fatalf("row %d, cell %d (%q) is off the selection background: %q", m.list.cursor, x, c.Content, lineText(buf, y, m.list.width))
					}
				}
				// the state label starts after the cursor mark and the glyph
				for x := 3; x < 3+len(statusLabel(m.list.rows[m.list.cursor].Status)); x++ {
					if c := buf.CellAt(x, y); !sameColour(c.Style.Fg, want) {
						t.Fatalf("state cell %d (%q) lost its colour on the selected row", x, c.Content)
					}
				}
			}
		})
	}
}

func TestTheHeadingsFollowTheThemeAfterTheBackgroundIsKnown(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 120, 30)
	for _, theme := range []struct {
		bg   tea.BackgroundColorMsg
		dark bool
	}{{lightTerminal, false}, {darkTerminal, true}, {lightTerminal, false}} {
		m = step(t, m, theme.bg)
		buf := drawn(m)
		y := headerHeight + m.list.rowsTop() - 1
		if !strings.HasPrefix(lineText(buf, y, m.list.width), " STATE") {
			t.Fatalf("line %d is not the headings: %q", y, lineText(buf, y, m.list.width))
		}
		if c := buf.CellAt(1, y); !sameColour(c.Style.Fg, newPalette(theme.dark).muted) {
			t.Fatalf("headings in the dark=%v theme are %v", theme.dark, c.Style.Fg)
		}
	}
}

func TestTheSpinnerTurnsInTheStateColumn(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 120, 30)
	processing := 1 // the seeded rows: completed, processing, sending, …
	if m.list.rows[processing].Status != app.StatusProcessing {
		t.Fatalf("row %d is %s", processing, m.list.rows[processing].Status)
	}
	for f := range 3 {
		buf := drawn(m)
		if got := buf.CellAt(1, rowLine(m, processing)).Content; got != spinnerFrames[f] {
			t.Fatalf("frame %d: the state column shows %q, want %q", f, got, spinnerFrames[f])
		}
		m = step(t, m, spinner.TickMsg{})
	}
}

func TestWideCharactersKeepTheColumnsAligned(t *testing.T) {
	r := newRig(t, false)
	prompts := []string{"東京の夜景、ネオンの雨 a fox", "🦊🦊 emoji fox in snow", "plain ascii fox", "한국어 프롬프트 여우와 눈"}
	models := []string{"模型宽字符模型", "sdxl", "フラックス", "sd3.5-large"}
	reqs := make([]app.Request, len(prompts))
	for i := range prompts {
		at := testNow.Add(-time.Duration(len(prompts)-i) * time.Minute)
		reqs[i] = app.Request{ID: testID(i + 1), Params: params(prompts[i], models[i], int64(i)), CreatedAt: at, UpdatedAt: at}
	}
	if err := r.db.CreateRequests(context.Background(), reqs); err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{80, 120, 160} {
		m := r.model(t, w, 24)
		buf := drawn(m)
		cols := m.list.columns("")
		wantPrompt := 0
		for _, c := range cols[:colPrompt] {
			wantPrompt += c.Width
		}
		for i, req := range m.list.rows {
			y := rowLine(m, i)
			first := string([]rune(req.Params.Prompt)[:1])
			got := -1
			for x := range m.list.width {
				if buf.CellAt(x, y).Content == first {
					got = x
					break
				}
			}
			if got != wantPrompt {
				t.Fatalf("width %d: row %d's prompt starts at cell %d, want %d: %q", w, i, got, wantPrompt, lineText(buf, y, m.list.width))
			}
			if mark := buf.CellAt(m.list.width-1, y).Content; mark != syncMark(req.SyncState) && mark != " " {
				t.Fatalf("width %d: row %d ends in %q, want its sync mark in the last cell", w, i, mark)
			}
			if x := stateColWidth + ageColWidth; buf.CellAt(x, y).Content != string([]rune(req.Params.Model)[:1]) {
				t.Fatalf("width %d: row %d's model does not start at cell %d: %q", w, i, x, lineText(buf, y, m.list.width))
			}
		}
	}
}

func TestColumnsFitTheWidthAndThePromptTakesTheRest(t *testing.T) {
	r := newRig(t, true)
	for _, tc := range []struct {
		w        int
		seedSize bool
	}{{60, false}, {80, true}, {120, false}, {160, true}, {220, true}} {
		// 120 columns split the screen with the detail pane: the list is
		// too narrow for seed and size beside a 20-cell prompt there
		m := r.model(t, tc.w, 24)
		cols := m.list.columns(m.list.position())
		sum := 0
		for _, c := range cols {
			sum += c.Width
		}
		if sum != m.list.width {
			t.Fatalf("width %d: columns add up to %d, the list is %d wide", tc.w, sum, m.list.width)
		}
		if shown := cols[colSeed].Width > 0 && cols[colSize].Width > 0; shown != tc.seedSize {
			t.Fatalf("width %d: seed and size shown %v, want %v", tc.w, shown, tc.seedSize)
		}
		heads := strings.Split(screenText(m), "\n")[headerHeight+m.list.rowsTop()-1]
		if strings.Contains(heads, "SEED") != tc.seedSize || !strings.Contains(heads, "PROMPT") || !strings.Contains(heads, "row 1 of 8") {
			t.Fatalf("width %d: headings %q", tc.w, heads)
		}
	}
}

func TestAClickOnAScrolledWindowSelectsTheRowDrawnThere(t *testing.T) {
	r := newRig(t, false)
	fillRequests(t, r.db, 300)
	m := r.model(t, 100, 24)
	for range m.list.visibleRows() + 7 {
		m = press(t, m, "j")
	}
	if m.list.offset == 0 {
		t.Fatal("the window should have scrolled")
	}
	for _, k := range []int{0, 2, m.list.visibleRows() - 1} {
		want := m.list.offset + k
		y := rowLine(m, want)
		shown := lineText(drawn(m), y, m.list.width)
		m = click(t, m, 30, y)
		if m.list.cursor != want {
			t.Fatalf("a click on line %d selected row %d, want %d", y, m.list.cursor, want)
		}
		if !strings.Contains(shown, m.list.rows[want].Params.Prompt[:20]) {
			t.Fatalf("line %d shows %q, not row %d (%q)", y, shown, want, m.list.rows[want].Params.Prompt)
		}
	}
}
