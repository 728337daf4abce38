package ui

import (
	"fmt"
	"image/color"
	"math"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	uv "github.com/charmbracelet/ultraviolet"
)

// luminance is WCAG's relative luminance of c.
func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	ch := func(v uint32) float64 {
		x := float64(v) / 0xffff
		if x <= 0.03928 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(r) + 0.7152*ch(g) + 0.0722*ch(b)
}

func contrast(a, b color.Color) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// decoration is drawn in faint colours on purpose: borders, separators,
// the picture's half blocks.
func decoration(s string) bool {
	r := []rune(s)
	return len(r) == 1 && (r[0] >= 0x2500 && r[0] <= 0x259f || r[0] == '•' || r[0] == '·')
}

// illegibleCells draws the frame in a terminal with the given default
// colours and lists every character whose colour is too close to the
// colour behind it.
func illegibleCells(content string, w, h int, termFg, termBg color.Color) []string {
	buf := uv.NewScreenBuffer(w, h)
	uv.NewStyledString(content).Draw(buf, buf.Bounds())
	var bad []string
	for y := range h {
		for x := range w {
			c := buf.CellAt(x, y)
			if c == nil || strings.TrimSpace(c.Content) == "" || decoration(c.Content) {
				continue
			}
			fg, bg := termFg, termBg
			if c.Style.Fg != nil {
				fg = c.Style.Fg
			}
			if c.Style.Bg != nil {
				bg = c.Style.Bg
			}
			if c.Style.Attrs&uv.AttrReverse != 0 {
				fg, bg = bg, fg
			}
			if ratio := contrast(fg, bg); ratio < 3 {
				bad = append(bad, fmt.Sprintf("%q at %d,%d: contrast %.1f", c.Content, x, y, ratio))
			}
		}
	}
	return bad
}

// TestEveryScreenIsReadableInLightAndDarkTerminals draws the screens as
// the terminal would and checks every character stands out from what is
// behind it: the bubbles (textarea, textinput, help) follow the theme too.
func TestEveryScreenIsReadableInLightAndDarkTerminals(t *testing.T) {
	screens := []struct {
		name string
		keys []string
		text string
	}{
		{"list", nil, ""},
		{"detail", []string{"enter"}, ""},
		{"composer with typed text", []string{"n"}, "a red fox"},
		{"composer on the size field", []string{"n", "tab", "tab", "tab"}, ""},
		{"admin", []string{"a"}, ""},
		{"admin setting a secret", []string{"a", "j", "j", "j", "j", "e"}, "abc"},
		{"help", []string{"?"}, ""},
		{"activity", []string{"l"}, ""},
		{"search", []string{"/"}, "fox"},
		{"confirm", []string{"d"}, "del"},
		{"team scope", []string{"T"}, ""},
		{"team row", []string{"T", "j", "j"}, ""},
	}
	terms := []struct {
		name   string
		bg     tea.BackgroundColorMsg
		fg, bk color.Color
	}{
		{"light", lightTerminal, color.Black, color.White},
		{"dark", darkTerminal, color.White, color.Black},
	}
	r, _ := teamRig(t)
	for _, term := range terms {
		for _, sc := range screens {
			t.Run(term.name+" "+sc.name, func(t *testing.T) {
				m := r.model(t, 100, 30)
				m = step(t, m, term.bg)
				m = press(t, m, sc.keys...)
				m = typeText(t, m, sc.text)
				if bad := illegibleCells(m.View().Content, 100, 30, term.fg, term.bk); len(bad) > 0 {
					t.Fatalf("%d characters are hard to read, e.g. %v\n%s", len(bad), bad[:min(len(bad), 5)], screenText(m))
				}
			})
		}
	}
}
