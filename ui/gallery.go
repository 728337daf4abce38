package ui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/influencegen/influencegen/app"
)

// The grid: thumbnails of the recent images (the gallery, v from the list)
// or of one request's images (v from its detail), sized to the terminal,
// the selected one outlined and its seed under each. Thumbnails are
// rendered by Cmds into the bounded thumbnail cache; the view only reads
// that cache, so a frame never decodes or scales anything.

// galleryItem is one picture and the request that made it.
type galleryItem struct {
	img app.Image
	req app.Request
}

// seed is the picture's own seed when n8n sent one, else the request's.
func (it galleryItem) seed() int64 {
	if it.img.Seed != nil {
		return *it.img.Seed
	}
	return it.req.Params.Seed
}

// galleryModel is the grid's state: what it shows and where the cursor is.
type galleryModel struct {
	width, height int
	requestID     string // one request's grid; "" with batchID "" is the gallery of recent images
	batchID       string // one batch's grid (all its requests' pictures)
	items         []galleryItem
	loaded        bool
	err           error
	seq           int // the load sequence: an older answer is dropped
	sel           int
	top           int            // the first tile row shown
	marked        map[int64]bool // image ids marked for compare; replaced, never changed in place
	markOrder     []int64        // in the order they were marked: compare shows the last two
}

// galleryLimit bounds how many pictures the gallery holds: the newest ones.
const galleryLimit = 1000

// gridLayout is how tiles fill the body: each tile is a bordered
// thumbnail with one caption line under it and one column of air after.
type gridLayout struct {
	cols, rows           int // tiles across and down
	tileW, tileH         int
	thumbCols, thumbRows int // the picture's box inside the border, in cells
}

// layoutGrid sizes the tiles so that at least two rows fit (three from 40
// lines up), with half-block-square thumbnails: a cell is twice as tall as
// wide, so a square picture is twice as many columns as rows.
func layoutGrid(w, h int) gridLayout {
	h-- // the title line
	rowsWanted := max(2, h/14)
	thumbRows := max(h/rowsWanted-3, 2)
	thumbCols := thumbRows * 2
	if thumbCols+3 > w {
		thumbCols = max(w-3, 4)
	}
	l := gridLayout{thumbCols: thumbCols, thumbRows: thumbRows, tileW: thumbCols + 3, tileH: thumbRows + 3}
	l.cols = max(w/l.tileW, 1)
	l.rows = max(h/l.tileH, 1)
	return l
}

func (g *galleryModel) SetSize(w, h int) {
	g.width, g.height = w, h
	g.keepSelectionVisible()
}

func (g galleryModel) layout() gridLayout { return layoutGrid(g.width, g.height) }

// visible is the range of item indexes on screen.
func (g galleryModel) visible() (from, to int) {
	l := g.layout()
	from = g.top * l.cols
	return min(from, len(g.items)), min(from+l.cols*l.rows, len(g.items))
}

func (g galleryModel) selected() (galleryItem, bool) {
	if g.sel < 0 || g.sel >= len(g.items) {
		return galleryItem{}, false
	}
	return g.items[g.sel], true
}

// move shifts the selection by dc columns and dr rows, clamped to the items.
func (g galleryModel) move(dc, dr int) galleryModel {
	if len(g.items) == 0 {
		return g
	}
	l := g.layout()
	g.sel = min(max(g.sel+dc+dr*l.cols, 0), len(g.items)-1)
	g.keepSelectionVisible()
	return g
}

func (g galleryModel) selectIndex(i int) galleryModel {
	if len(g.items) == 0 {
		return g
	}
	g.sel = min(max(i, 0), len(g.items)-1)
	g.keepSelectionVisible()
	return g
}

func (g *galleryModel) keepSelectionVisible() {
	if g.width == 0 || g.height == 0 {
		return
	}
	l := g.layout()
	row := g.sel / l.cols
	if row < g.top {
		g.top = row
	}
	if row >= g.top+l.rows {
		g.top = row - l.rows + 1
	}
	lastRow := max((len(g.items)+l.cols-1)/l.cols-l.rows, 0)
	g.top = min(max(g.top, 0), lastRow)
}

// toggleMark marks or unmarks the selected picture, copying the set so a
// previous copy of the model keeps its own.
func (g galleryModel) toggleMark() galleryModel {
	it, ok := g.selected()
	if !ok {
		return g
	}
	marked := make(map[int64]bool, len(g.marked)+1)
	var order []int64
	for _, id := range g.markOrder {
		if id != it.img.ID {
			marked[id] = true
			order = append(order, id)
		}
	}
	if !g.marked[it.img.ID] {
		marked[it.img.ID] = true
		order = append(order, it.img.ID)
	}
	g.marked, g.markOrder = marked, order
	return g
}

// comparePair is the two pictures compare shows: the last two marked.
func (g galleryModel) comparePair() (a, b galleryItem, ok bool) {
	if len(g.markOrder) != 2 {
		return a, b, false
	}
	byID := map[int64]galleryItem{}
	for _, it := range g.items {
		byID[it.img.ID] = it
	}
	a, okA := byID[g.markOrder[0]]
	b, okB := byID[g.markOrder[1]]
	return a, b, okA && okB
}

// thumbLookup finds the finished rendering of a picture at a box size;
// the root reads it from the thumbnail cache.
type thumbLookup func(sha string, cols, rows int) (previewRenderedMsg, bool)

// View is the title line and the visible tiles. inline says a terminal
// graphics protocol draws the pictures over blank cells.
func (g galleryModel) View(s *styles, thumb thumbLookup, inline bool) string {
	title := g.title(s)
	switch {
	case g.err != nil:
		return title + "\n" + s.err.Render("cannot read the images: "+errText(g.err))
	case !g.loaded:
		return title + "\n" + s.muted.Render("loading images…")
	case len(g.items) == 0 && g.requestID == "" && g.batchID == "":
		return title + "\n" + s.muted.Render("No images yet: the pictures of completed requests appear here.")
	case len(g.items) == 0:
		return title + "\n" + s.muted.Render("No pictures here yet.")
	}
	l := g.layout()
	from, to := g.visible()
	var b strings.Builder
	b.Grow(l.rows * l.tileH * g.width * 8)
	b.WriteString(title)
	for row := 0; from+row*l.cols < to; row++ {
		tiles := make([][]string, 0, l.cols)
		for c := range l.cols {
			i := from + row*l.cols + c
			if i >= to {
				break
			}
			it := g.items[i]
			r, ok := thumb(it.img.SHA256, l.thumbCols, l.thumbRows)
			var rp *previewRenderedMsg
			if ok {
				rp = &r
			}
			tiles = append(tiles, tileLines(s, it, l, i == g.sel, g.marked[it.img.ID], rp, inline))
		}
		for line := range l.tileH {
			b.WriteByte('\n')
			for _, t := range tiles {
				b.WriteString(t[line])
				b.WriteByte(' ')
			}
		}
	}
	return b.String()
}

func (g galleryModel) title(s *styles) string {
	name := "Gallery"
	switch {
	case g.batchID != "":
		name = "Batch " + shortID(g.batchID)
	case g.requestID != "":
		name = "Request " + shortID(g.requestID)
	}
	parts := []string{plural(len(g.items), "image")}
	if g.requestID == "" && g.batchID == "" && len(g.items) >= galleryLimit {
		parts[0] = fmt.Sprintf("newest %d images", len(g.items))
	}
	if len(g.items) > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d", g.sel+1, len(g.items)))
	}
	if n := len(g.markOrder); n > 0 {
		parts = append(parts, fmt.Sprintf("%d marked", n))
	}
	return ansi.Truncate(s.title.Render(name)+s.muted.Render(" · "+strings.Join(parts, " · ")), g.width, "…")
}

// tileLines draws one tile: the border (thick and in the accent colour
// when selected), the picture centred in it, and the seed under it. Every
// line is exactly tileW-1 cells; the picture's lines are never measured.
func tileLines(s *styles, it galleryItem, l gridLayout, selected, marked bool, r *previewRenderedMsg, inline bool) []string {
	edge, bd := s.muted, lipgloss.RoundedBorder()
	if selected {
		edge, bd = s.accent.Bold(true), lipgloss.ThickBorder()
	}
	inner := l.thumbCols
	out := make([]string, 0, l.tileH)
	out = append(out, edge.Render(bd.TopLeft+strings.Repeat(bd.Top, inner)+bd.TopRight))
	left, right := edge.Render(bd.Left), edge.Render(bd.Right)
	body := thumbBody(s, it, l, r, inline)
	for _, line := range body {
		out = append(out, left+line+right)
	}
	out = append(out, edge.Render(bd.BottomLeft+strings.Repeat(bd.Bottom, inner)+bd.BottomRight))
	caption := fmt.Sprintf("seed %d", it.seed())
	if d := decisionMarks(it.img); d != "" {
		caption = d + " " + caption
	}
	if marked {
		caption = "◆ " + caption
	}
	caption = ansi.Truncate(caption, inner+2, "…")
	st := s.muted
	if selected {
		st = s.bold
	}
	out = append(out, st.Render(caption)+strings.Repeat(" ", max(inner+2-ansi.StringWidth(caption), 0)))
	return out
}

// thumbBody is the thumbRows lines inside the border, each thumbCols wide.
func thumbBody(s *styles, it galleryItem, l gridLayout, r *previewRenderedMsg, inline bool) []string {
	blank := strings.Repeat(" ", l.thumbCols)
	lines := make([]string, l.thumbRows)
	for i := range lines {
		lines[i] = blank
	}
	note := func(st lipgloss.Style, text string) []string {
		text = ansi.Truncate(text, l.thumbCols, "…")
		w := ansi.StringWidth(text)
		lines[l.thumbRows/2] = strings.Repeat(" ", (l.thumbCols-w)/2) + st.Render(text) + strings.Repeat(" ", l.thumbCols-w-(l.thumbCols-w)/2)
		return lines
	}
	switch {
	case s.noColor:
		return note(s.muted, fmt.Sprintf("[%dx%d]", it.img.Width, it.img.Height))
	case r == nil:
		return note(s.muted, "…")
	case r.err != nil:
		return note(s.err, "no preview")
	case r.cols > l.thumbCols || r.rows > l.thumbRows:
		return note(s.muted, "…")
	}
	var pic []string
	if inline && r.inline != "" {
		pic = strings.Split(placeholderBlock(r.cols, r.rows), "\n")
	} else {
		pic = strings.Split(r.cells, "\n")
	}
	padL := (l.thumbCols - r.cols) / 2
	padR := strings.Repeat(" ", l.thumbCols-r.cols-padL)
	topPad := (l.thumbRows - len(pic)) / 2
	for i, p := range pic {
		if topPad+i < len(lines) {
			lines[topPad+i] = strings.Repeat(" ", padL) + p + padR
		}
	}
	return lines
}

// thumbOrigin is where the picture of item i starts on screen, relative to
// the body's top-left corner, for terminal-graphics placement.
func (g galleryModel) thumbOrigin(i int, r previewRenderedMsg) (x, y int, ok bool) {
	from, to := g.visible()
	if i < from || i >= to {
		return 0, 0, false
	}
	l := g.layout()
	pos := i - from
	col, row := pos%l.cols, pos/l.cols
	x = col*l.tileW + 1 + (l.thumbCols-r.cols)/2
	y = 1 + row*l.tileH + 1 + (l.thumbRows-r.rows)/2
	return x, y, true
}
