package ui

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// The root's side of the grid, the viewer and compare: opening them, their
// keys, the thumbnail Cmds and the terminal-graphics pictures.

// thumbCacheBytes bounds the thumbnails and viewer pictures kept in
// memory: scaled pixels and finished renderings together, least recently
// used first out.
const thumbCacheBytes = 64 << 20

// curationState is the root's state for the grid, the viewer and compare.
type curationState struct {
	gallery  galleryModel
	back     screen // where esc from the grid returns
	seq      int
	thumbs   *previewCache
	pending  map[previewKey]bool // renders in flight for the current window; replaced with it
	window   string              // the items and sizes the pending renders are for
	winCtx   context.Context     // ends when the window moves on, so stale renders stop
	winStop  context.CancelFunc
	noViewer string          // why o cannot open a system viewer here, "" when it can
	rung     map[string]bool // batches made elsewhere whose end was notified
	keys     galleryKeys
	vkeys    viewerKeys
	ckeys    compareKeys
}

func newCurationState(g globalKeys, getenv func(string) string, teamUser string) curationState {
	return curationState{
		thumbs:   newPreviewCache(thumbCacheBytes),
		pending:  map[previewKey]bool{},
		rung:     map[string]bool{},
		noViewer: systemViewerMissing(getenv, runtime.GOOS, teamUser),
		keys:     newGalleryKeys(g),
		vkeys:    newViewerKeys(g),
		ckeys:    newCompareKeys(g),
	}
}

// systemViewerMissing says why no picture viewer can open on this
// screen: a session over SSH (the viewer would open on the server), or a
// Unix without a display.
func systemViewerMissing(getenv func(string) string, goos, teamUser string) string {
	switch {
	case teamUser != "":
		return "this dashboard runs on the team host over SSH"
	case getenv("SSH_CONNECTION") != "" || getenv("SSH_TTY") != "":
		return "this is an SSH session"
	case goos != "darwin" && goos != "windows" && getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "":
		return "there is no graphical display (DISPLAY is not set)"
	}
	return ""
}

func (m Model) curationScreen() bool {
	return m.screen == screenGallery || m.screen == screenViewer || m.screen == screenCompare
}

// openGallery shows the grid of the newest pictures, or of one batch's
// or one request's when batchID or requestID is set.
func (m Model) openGallery(requestID, batchID string) (Model, tea.Cmd) {
	c := &m.cur
	c.seq++
	c.gallery = galleryModel{requestID: requestID, batchID: batchID, seq: c.seq}
	c.gallery.SetSize(m.width, m.bodyHeight())
	c.back = m.screen
	m.screen = screenGallery
	return m, loadGalleryCmd(m.ctx, m.b.Store, c.seq, requestID, batchID)
}

func (m Model) handleGalleryLoaded(msg galleryLoadedMsg) (Model, tea.Cmd) {
	g := &m.cur.gallery
	if msg.seq != g.seq {
		return m, nil
	}
	g.loaded, g.err, g.items = true, msg.err, msg.items
	*g = g.selectIndex(g.sel)
	return m, m.thumbCmds()
}

func (m Model) handleCurationKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	switch m.screen {
	case screenViewer:
		return m.handleViewerKey(msg)
	case screenCompare:
		return m.handleCompareKey(msg)
	}
	return m.handleGalleryKey(msg)
}

func (m Model) handleGalleryKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k, g := m.cur.keys, &m.cur.gallery
	rows := g.layout().rows
	if next, cmd, ok := m.handleDecisionKey(msg, k.decisionKeys); ok {
		return next, cmd
	}
	switch {
	case key.Matches(msg, k.Export):
		return m.startExport()
	case key.Matches(msg, k.Quit):
		return m, quitCmd()
	case key.Matches(msg, k.Help):
		return m.openHelp()
	case key.Matches(msg, k.Back):
		m.screen = m.cur.back
		return m, nil
	case key.Matches(msg, k.Up):
		*g = g.move(0, -1)
	case key.Matches(msg, k.Down):
		*g = g.move(0, 1)
	case key.Matches(msg, k.Left):
		*g = g.move(-1, 0)
	case key.Matches(msg, k.Right):
		*g = g.move(1, 0)
	case key.Matches(msg, k.PageUp):
		*g = g.move(0, -rows)
	case key.Matches(msg, k.PageDown):
		*g = g.move(0, rows)
	case key.Matches(msg, k.Top):
		*g = g.selectIndex(0)
	case key.Matches(msg, k.Bottom):
		*g = g.selectIndex(len(g.items) - 1)
	case key.Matches(msg, k.View):
		m.screen = screenViewer
	case key.Matches(msg, k.Mark):
		*g = g.toggleMark()
	case key.Matches(msg, k.Compare):
		m.screen = screenCompare
	case key.Matches(msg, k.Open):
		return m.openSelectedFile()
	default:
		return m, nil
	}
	return m, m.thumbCmds()
}

func (m Model) handleViewerKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k, g := m.cur.vkeys, &m.cur.gallery
	if next, cmd, ok := m.handleDecisionKey(msg, k.decisionKeys); ok {
		return next, cmd
	}
	switch {
	case key.Matches(msg, k.Quit):
		return m, quitCmd()
	case key.Matches(msg, k.Help):
		return m.openHelp()
	case key.Matches(msg, k.Back):
		m.screen = screenGallery
	case key.Matches(msg, k.Prev):
		*g = g.selectIndex(g.sel - 1)
	case key.Matches(msg, k.Next):
		*g = g.selectIndex(g.sel + 1)
	case key.Matches(msg, k.Mark):
		*g = g.toggleMark()
	case key.Matches(msg, k.Open):
		return m.openSelectedFile()
	default:
		return m, nil
	}
	return m, m.thumbCmds()
}

func (m Model) handleCompareKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.cur.ckeys
	switch {
	case key.Matches(msg, k.Quit):
		return m, quitCmd()
	case key.Matches(msg, k.Help):
		return m.openHelp()
	case key.Matches(msg, k.Back):
		m.screen = screenGallery
		return m, m.thumbCmds()
	}
	return m, nil
}

// openSelectedFile opens the selected picture in the system viewer, or
// says where the file is when there is none to open it in.
func (m Model) openSelectedFile() (Model, tea.Cmd) {
	it, ok := m.cur.gallery.selected()
	if !ok {
		return m, nil
	}
	if m.cur.noViewer != "" {
		m.flash, m.flashErr = "no image viewer here: "+m.cur.noViewer+"; the file is "+it.img.Path, false
		return m, nil
	}
	return m, openFileCmd(m.ctx, m.b.OpenImage, it.img.Path)
}

func (m Model) handleFileOpened(msg fileOpenedMsg) (Model, tea.Cmd) {
	if msg.err != nil {
		m.flash, m.flashErr = errText(msg.err)+"; the file is "+msg.path, true
		return m, nil
	}
	m.flash, m.flashErr = "opened "+msg.path, false
	return m, nil
}

// refreshCurationKeys enables the keys that can act now.
func (m Model) refreshCurationKeys() Model {
	g := m.cur.gallery
	has := len(g.items) > 0
	k := &m.cur.keys
	for _, b := range []*key.Binding{&k.Up, &k.Down, &k.Left, &k.Right, &k.PageUp, &k.PageDown, &k.Top, &k.Bottom, &k.View, &k.Mark, &k.Open} {
		b.SetEnabled(has)
	}
	_, _, pair := g.comparePair()
	k.Compare.SetEnabled(pair)
	v := &m.cur.vkeys
	v.Prev.SetEnabled(g.sel > 0)
	v.Next.SetEnabled(g.sel < len(g.items)-1)
	v.Open.SetEnabled(has)
	v.Mark.SetEnabled(has)
	it, _ := g.selected()
	k.decisionKeys.setEnabled(has, it.img)
	v.decisionKeys.setEnabled(has, it.img)
	k.Export.SetEnabled(m.b.Store != nil)
	m.listKeys.Gallery.SetEnabled(true)
	m.detailKeys.Grid.SetEnabled(m.detail.has && (m.detail.req.BatchID != "" ||
		len(m.detail.images) > 1 && m.detail.loadedID == m.detail.req.ID))
	return m
}

// inlineImages says the pictures are drawn by a terminal-graphics protocol.
func (m Model) inlineImages() bool { return m.gfx.proto != protoHalfBlocks && !m.noColor }

// thumbKey names the rendering of a picture in a cols×rows box here.
func (m Model) thumbKey(sha string, cols, rows int) previewKey {
	k := m.gfx.previewKey(sha, cols, rows)
	if k.proto == protoKitty {
		k.kittyID = thumbKittyID(sha)
	}
	return k
}

func (m Model) thumbLookup() thumbLookup {
	return func(sha string, cols, rows int) (previewRenderedMsg, bool) {
		return m.cur.thumbs.get(m.thumbKey(sha, cols, rows))
	}
}

// wanted is every picture the current screen shows, with its box; ahead
// adds the neighbours worth rendering next (the next page, the pictures
// either side).
func (m Model) wanted(ahead bool) (items []galleryItem, cols, rows int) {
	g := m.cur.gallery
	switch m.screen {
	case screenGallery:
		l := g.layout()
		from, to := g.visible()
		if ahead {
			to = min(to+l.cols*l.rows, len(g.items))
		}
		return g.items[from:to], l.thumbCols, l.thumbRows
	case screenViewer:
		cols, rows = viewerBox(g.width, g.height)
		if !ahead {
			return g.items[g.sel : g.sel+1], cols, rows
		}
		from, to := max(g.sel-1, 0), min(g.sel+2, len(g.items))
		return g.items[from:to], cols, rows
	case screenCompare:
		a, b, ok := g.comparePair()
		if !ok {
			return nil, 0, 0
		}
		cols, rows = compareBox(g.width, g.height)
		return []galleryItem{a, b}, cols, rows
	}
	return nil, 0, 0
}

// thumbCmds asks for the renderings the screen needs that are neither
// cached nor already on their way. When the window moves, renders for
// the old one are cancelled: scrolling fast through a thousand pictures
// decodes only the ones that stay on screen.
func (m *Model) thumbCmds() tea.Cmd {
	if !m.curationScreen() || m.noColor || m.width == 0 {
		return nil
	}
	// what is on screen first; the neighbours only once it is all there,
	// so they never hold the decode slot the screen is waiting for
	items, cols, rows := m.wanted(false)
	if m.allRendered(items, cols, rows) {
		items, cols, rows = m.wanted(true)
	}
	c := &m.cur
	window := fmt.Sprintf("%d:%d:%dx%d", m.screen, c.gallery.sel, cols, rows)
	if m.screen == screenGallery {
		from, _ := c.gallery.visible()
		window = fmt.Sprintf("%d:%d:%dx%d", m.screen, from, cols, rows)
	}
	if window != c.window || c.winCtx == nil {
		if c.winStop != nil {
			c.winStop()
		}
		c.winCtx, c.winStop = context.WithCancel(m.ctx)
		c.window, c.pending = window, map[previewKey]bool{}
	}
	var cmds []tea.Cmd
	for _, it := range items {
		k := m.thumbKey(it.img.SHA256, cols, rows)
		if c.pending[k] {
			continue
		}
		if _, ok := c.thumbs.get(k); ok {
			continue
		}
		c.pending[k] = true
		cmds = append(cmds, renderThumbCmd(c.winCtx, c.thumbs, it.img.Path, k))
	}
	return tea.Batch(cmds...)
}

func (m Model) allRendered(items []galleryItem, cols, rows int) bool {
	for _, it := range items {
		if _, ok := m.cur.thumbs.get(m.thumbKey(it.img.SHA256, cols, rows)); !ok {
			return false
		}
	}
	return true
}

func (m Model) handleThumbRendered(msg thumbRenderedMsg) (Model, tea.Cmd) {
	delete(m.cur.pending, msg.key)
	if errors.Is(msg.err, context.Canceled) {
		return m, nil // its window moved on; it is asked for again if it comes back
	}
	m.cur.thumbs.put(msg.previewRenderedMsg)
	more := m.thumbCmds() // the screen may be complete now: render ahead
	if msg.err != nil || msg.inline == "" || !m.inlineImages() {
		return m, more
	}
	return m, tea.Batch(m.placeOne(msg.previewRenderedMsg), more)
}

// curationView is the body of the grid, the viewer or compare.
func (m Model) curationView() string {
	g := m.cur.gallery
	inline := m.inlineImages()
	switch m.screen {
	case screenViewer:
		return viewerView(m.styles, g, m.thumbLookup(), inline)
	case screenCompare:
		a, b, ok := g.comparePair()
		if !ok {
			return m.styles.muted.Render("mark two pictures with space, then press c")
		}
		return compareView(m.styles, a, b, g.width, g.height, m.thumbLookup(), inline)
	}
	return g.View(m.styles, m.thumbLookup(), inline)
}

func (m Model) curationFooterKeys() footerKeyMap {
	switch m.screen {
	case screenViewer:
		return m.cur.vkeys
	case screenCompare:
		return m.cur.ckeys
	}
	return m.cur.keys
}
