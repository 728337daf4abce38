package ui

import (
	"fmt"

	tea "charm.land/bubbletea/v2"
)

// Terminal-graphics pictures of the grid, the viewer and compare: kitty,
// iTerm2 and sixel pictures live outside the cell grid, so they are placed
// by Cmds where the view left blank cells, and wiped when the screen stops
// showing them (each kitty picture has its own id: thumbKittyID).

// placeOne draws a terminal-graphics picture where the screen shows it.
func (m Model) placeOne(r previewRenderedMsg) tea.Cmd {
	g := m.cur.gallery
	switch m.screen {
	case screenGallery:
		l := g.layout()
		if r.key.cols != l.thumbCols || r.key.rows != l.thumbRows {
			return nil
		}
		var cmds []tea.Cmd
		from, to := g.visible()
		for i := from; i < to; i++ {
			if g.items[i].img.SHA256 == r.key.sha {
				x, y, _ := g.thumbOrigin(i, r)
				cmds = append(cmds, placeImageCmd(m.gfx, r.inline, x, headerHeight+y))
			}
		}
		return tea.Batch(cmds...)
	case screenViewer:
		it, ok := g.selected()
		cols, rows := viewerBox(g.width, g.height)
		if !ok || it.img.SHA256 != r.key.sha || r.key.cols != cols || r.key.rows != rows {
			return nil
		}
		x, y := viewerOrigin(g.width, g.height, r)
		return placeImageCmd(m.gfx, r.inline, x, headerHeight+y)
	case screenCompare:
		a, b, ok := g.comparePair()
		cols, rows := compareBox(g.width, g.height)
		if !ok || r.key.cols != cols || r.key.rows != rows {
			return nil
		}
		var cmds []tea.Cmd
		for i, it := range []galleryItem{a, b} {
			if it.img.SHA256 == r.key.sha {
				x, y := compareOrigin(g.width, g.height, i, r)
				cmds = append(cmds, placeImageCmd(m.gfx, r.inline, x, headerHeight+y))
			}
		}
		return tea.Batch(cmds...)
	}
	return nil
}

// placeAll draws every cached terminal-graphics picture the screen shows.
func (m Model) placeAll() tea.Cmd {
	items, cols, rows := m.wanted(false)
	var cmds []tea.Cmd
	seen := map[string]bool{}
	for _, it := range items {
		if seen[it.img.SHA256] {
			continue
		}
		seen[it.img.SHA256] = true
		if r, ok := m.cur.thumbs.get(m.thumbKey(it.img.SHA256, cols, rows)); ok && r.err == nil && r.inline != "" {
			cmds = append(cmds, m.placeOne(r))
		}
	}
	return tea.Batch(cmds...)
}

// curationInlineShown names what terminal-graphics pictures the screen
// shows, "" for none: when it changes, the old ones are wiped.
func (m Model) curationInlineShown() string {
	if !m.inlineImages() || !m.curationScreen() || !m.cur.gallery.loaded {
		return ""
	}
	g := m.cur.gallery
	switch m.screen {
	case screenViewer:
		it, _ := g.selected()
		return "viewer:" + it.img.SHA256
	case screenCompare:
		a, b, _ := g.comparePair()
		return "compare:" + a.img.SHA256 + b.img.SHA256
	}
	from, to := g.visible()
	return fmt.Sprintf("grid:%d:%d", from, to)
}

// clearStaleImages wipes the pictures the new state no longer shows and
// draws the ones it does, in that order: the detail's preview and the
// grid's, viewer's or compare's pictures.
func (m Model) clearStaleImages(next Model) tea.Cmd {
	before, after := m.curationInlineShown(), next.curationInlineShown()
	resized := m.width != next.width || m.height != next.height
	switch {
	case before == after && (before == "" || !resized):
		return m.clearStaleImage(next)
	case before == "":
		return tea.Sequence(m.clearStaleImage(next), next.placeAll())
	}
	return tea.Sequence(append(wipeAllImagesCmds(m.gfx), next.placeAll(), next.previewPlaceCmd())...)
}
