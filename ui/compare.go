package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// Compare: the two marked pictures side by side at the largest size that
// fits, their parameters under them, the ones that differ highlighted.

// compareGap is the air between the two pictures.
const compareGap = 3

// compareParam is one row of the parameter table under the pictures.
type compareParam struct {
	label string
	value func(galleryItem) string
}

var compareParams = []compareParam{
	{"Prompt", func(it galleryItem) string { return oneLine(safe(it.req.Params.Prompt)) }},
	{"Negative", func(it galleryItem) string { return oneLine(safe(it.req.Params.NegativePrompt)) }},
	{"Model", func(it galleryItem) string { return safe(it.req.Params.Model) }},
	{"Size", func(it galleryItem) string { return fmt.Sprintf("%d×%d", it.img.Width, it.img.Height) }},
	{"Seed", func(it galleryItem) string { return fmt.Sprint(it.seed()) }},
	{"Request", func(it galleryItem) string { return it.req.ID }},
}

// compareBox is each picture's box for a w×h body.
func compareBox(w, h int) (cols, rows int) {
	return max((w-compareGap)/2, 4), max(h-2-len(compareParams), 2)
}

// differing names the parameters whose values differ between a and b.
func differing(a, b galleryItem) map[string]bool {
	out := map[string]bool{}
	for _, p := range compareParams {
		if p.value(a) != p.value(b) {
			out[p.label] = true
		}
	}
	return out
}

// compareView draws a and b side by side.
func compareView(s *styles, a, b galleryItem, w, h int, thumb thumbLookup, inline bool) string {
	cols, rows := compareBox(w, h)
	diff := differing(a, b)
	title := s.title.Render("Compare")
	if len(diff) == 0 {
		title += s.muted.Render(" · the same parameters")
	} else {
		names := make([]string, 0, len(diff))
		for _, p := range compareParams {
			if diff[p.label] {
				names = append(names, strings.ToLower(p.label))
			}
		}
		title += s.muted.Render(" · differs in ") + s.warn.Render(strings.Join(names, ", "))
	}
	lines := []string{ansi.Truncate(title, w, "…")}
	pics := [2][]string{}
	for i, it := range []galleryItem{a, b} {
		r, ok := thumb(it.img.SHA256, cols, rows)
		var rp *previewRenderedMsg
		if ok {
			rp = &r
		}
		pics[i] = pictureLines(s, it, cols, rows, rp, inline)
	}
	gap := strings.Repeat(" ", compareGap)
	for i := range rows {
		lines = append(lines, pics[0][i]+gap+pics[1][i])
	}
	lines = append(lines, "")
	for _, p := range compareParams {
		cells := [2]string{}
		for i, it := range []galleryItem{a, b} {
			label := fmt.Sprintf("%-9s", p.label)
			v := p.value(it)
			v = ansi.Truncate(v, max(cols-10, 1), "…")
			cell := s.label.Render(" "+label) + s.muted.Render(v)
			if diff[p.label] {
				cell = s.warn.Render("≠"+label) + s.warn.Bold(true).Render(v)
			}
			cells[i] = padRight(cell, cols)
		}
		lines = append(lines, cells[0]+gap+cells[1])
	}
	return strings.Join(lines, "\n")
}

// compareOrigin is where picture i (0 left, 1 right) starts in the body.
func compareOrigin(w, h, i int, r previewRenderedMsg) (x, y int) {
	cols, rows := compareBox(w, h)
	return i*(cols+compareGap) + (cols-r.cols)/2, 1 + (rows-r.rows)/2
}
