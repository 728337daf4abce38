package ui

import (
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
)

// Each screen has its own KeyMap built by a constructor. Bindings that
// cannot act right now are disabled with SetEnabled(false) (refreshKeys),
// so neither the footer nor the help ever offers a key that does nothing.
// ShortHelp lists a screen's keys most important first; Essential ones
// (the way out, help) are never dropped from the footer.

type globalKeys struct {
	Quit, Help, Compose, Admin, Activity, Team, Back key.Binding
}

func newGlobalKeys() globalKeys {
	return globalKeys{
		Quit:     key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		Help:     key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Compose:  key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "new")),
		Admin:    key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "admin")),
		Activity: key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "activity")),
		Team:     key.NewBinding(key.WithKeys("T"), key.WithHelp("T", "team")),
		Back:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
	}
}

// requestKeys act on the selected request, from the list or the detail.
type requestKeys struct {
	Retry, Cancel, Remix, ReuseSeed, Delete, Open, CopyPath key.Binding
	Undo                                                    key.Binding // the last delete or cancel, for app.UndoWindow
}

func newRequestKeys() requestKeys {
	return requestKeys{
		Retry:     key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retry")),
		Cancel:    key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "cancel")),
		Remix:     key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "remix")),
		ReuseSeed: key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "reuse seed")),
		Delete:    key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "delete")),
		Open:      key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "open image")),
		CopyPath:  key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy path")),
		Undo:      key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "undo delete/cancel"), key.WithDisabled()),
	}
}

type listKeys struct {
	Up, Down, Top, Bottom, PageUp, PageDown key.Binding
	Detail, Focus, Filter, Search, Mine     key.Binding
	Gallery                                 key.Binding // the grid of recent images (gallery.go)
	Expand, Collapse                        key.Binding // a batch row (batchlist.go)
	requestKeys
	global globalKeys
}

func newListKeys(g globalKeys) listKeys {
	return listKeys{
		Up:          key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "up")),
		Down:        key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", "down")),
		Top:         key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "newest")),
		Bottom:      key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "oldest")),
		PageUp:      key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("pgup", "page up")),
		PageDown:    key.NewBinding(key.WithKeys("pgdown", "ctrl+d"), key.WithHelp("pgdn", "page down")),
		Detail:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "detail")),
		Focus:       key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "switch pane")),
		Filter:      key.NewBinding(key.WithKeys("0", "1", "2", "3", "4", "5", "6", "7", "8", "[", "]"), key.WithHelp("0-8/[ ]", "filter")),
		Search:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search")),
		Mine:        key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "mine/all"), key.WithDisabled()), // team host only
		Gallery:     key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "gallery")),
		Expand:      key.NewBinding(key.WithKeys("right", "space"), key.WithHelp("→/space", "expand batch"), key.WithDisabled()),
		Collapse:    key.NewBinding(key.WithKeys("left"), key.WithHelp("←", "collapse batch"), key.WithDisabled()),
		requestKeys: newRequestKeys(),
		global:      g,
	}
}

func (k listKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Undo, k.global.Compose, k.Detail, k.Expand, k.Collapse, k.Retry, k.Cancel, k.Remix, k.Filter, k.Search, k.global.Admin, k.global.Activity, k.global.Team}
}

func (k listKeys) Essential() []key.Binding { return []key.Binding{k.global.Help, k.global.Quit} }

func (k listKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown},
		{k.Detail, k.Expand, k.Collapse, k.Focus, k.Filter, k.Search, k.Mine, k.Open, k.CopyPath, k.Gallery},
		{k.global.Compose, k.Retry, k.Cancel, k.Remix, k.ReuseSeed, k.Delete, k.Undo},
		{k.global.Admin, k.global.Activity, k.global.Team, k.global.Help, k.global.Quit},
	}
}

// detailKeys are the detail's, full screen or focused beside the list.
type detailKeys struct {
	Scroll viewport.KeyMap
	requestKeys
	Back, Help, Quit key.Binding
	Grid             key.Binding // this request's pictures as a grid (gallery.go)
}

func newDetailKeys(g globalKeys) detailKeys {
	sc := viewport.DefaultKeyMap()
	sc.Left.SetEnabled(false)
	sc.Right.SetEnabled(false)
	sc.HalfPageUp.SetKeys("ctrl+u") // u and d stay free for the request keys
	sc.HalfPageDown.SetKeys("ctrl+d")
	sc.HalfPageUp.SetHelp("ctrl+u", "½ page up")
	sc.HalfPageDown.SetHelp("ctrl+d", "½ page down")
	sc.PageUp.SetKeys("pgup", "b")
	return detailKeys{Scroll: sc, requestKeys: newRequestKeys(), Back: g.Back, Help: g.Help, Quit: g.Quit,
		Grid: key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "grid"))}
}

func (k detailKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Undo, k.Open, k.Grid, k.CopyPath, k.Retry, k.Cancel, k.Remix, k.ReuseSeed, k.Scroll.Down, k.Delete}
}

func (k detailKeys) Essential() []key.Binding { return []key.Binding{k.Back, k.Help} }

func (k detailKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Scroll.Up, k.Scroll.Down, k.Scroll.PageUp, k.Scroll.PageDown, k.Scroll.HalfPageUp, k.Scroll.HalfPageDown},
		{k.Open, k.CopyPath, k.Retry, k.Cancel, k.Remix, k.ReuseSeed, k.Delete, k.Grid, k.Undo},
		{k.Back, k.Help, k.Quit},
	}
}

// searchKeys are the list's while the search line is being typed.
type searchKeys struct{ Apply, Clear key.Binding }

func newSearchKeys() searchKeys {
	return searchKeys{
		Apply: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "search")),
		Clear: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear search")),
	}
}

func (k searchKeys) ShortHelp() []key.Binding  { return []key.Binding{k.Apply} }
func (k searchKeys) Essential() []key.Binding  { return []key.Binding{k.Clear} }
func (k searchKeys) FullHelp() [][]key.Binding { return [][]key.Binding{{k.Apply, k.Clear}} }

type composerKeys struct {
	Submit, Next, Prev, HistoryPrev, HistoryNext, Cycle, Close key.Binding
	Preset                                                     key.Binding // the preset picker (presetpicker.go)
}

func newComposerKeys() composerKeys {
	return composerKeys{
		Submit:      key.NewBinding(key.WithKeys("ctrl+s"), key.WithHelp("ctrl+s", "submit")),
		Next:        key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next field")),
		Prev:        key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous field")),
		HistoryPrev: key.NewBinding(key.WithKeys("ctrl+p"), key.WithHelp("ctrl+p", "older prompt")),
		HistoryNext: key.NewBinding(key.WithKeys("ctrl+n"), key.WithHelp("ctrl+n", "newer prompt")),
		Cycle:       key.NewBinding(key.WithKeys("left", "right"), key.WithHelp("←/→", "choose")),
		Close:       key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close (draft kept)")),
		Preset:      key.NewBinding(key.WithKeys("ctrl+t"), key.WithHelp("ctrl+t", "preset")),
	}
}

func (k composerKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Next, k.Preset, k.Cycle, k.HistoryPrev, k.HistoryNext}
}

func (k composerKeys) Essential() []key.Binding { return []key.Binding{k.Submit, k.Close} }

func (k composerKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Submit, k.Close}, {k.Next, k.Prev, k.Cycle}, {k.HistoryPrev, k.HistoryNext, k.Preset}}
}

type adminKeys struct {
	Up, Down, Set, Rotate, Copy, CopyURL, TestOdoo, Refresh, Close, Help, Quit key.Binding
}

func newAdminKeys(g globalKeys) adminKeys {
	return adminKeys{
		Up:       key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", "down")),
		Set:      key.NewBinding(key.WithKeys("e", "enter"), key.WithHelp("e", "set secret")),
		Rotate:   key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "rotate token")),
		Copy:     key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy new token"), key.WithDisabled()),
		CopyURL:  key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "copy callback URL")),
		TestOdoo: key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "test Odoo")),
		Refresh:  key.NewBinding(key.WithKeys("ctrl+r"), key.WithHelp("ctrl+r", "refresh")),
		Close:    key.NewBinding(key.WithKeys("esc", "a"), key.WithHelp("esc", "back")),
		Help:     g.Help,
		Quit:     g.Quit,
	}
}

func (k adminKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Copy, k.Set, k.Rotate, k.CopyURL, k.TestOdoo, k.Refresh}
}

func (k adminKeys) Essential() []key.Binding { return []key.Binding{k.Close, k.Help} }

func (k adminKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.Set}, {k.Rotate, k.Copy, k.CopyURL}, {k.TestOdoo, k.Refresh, k.Close, k.Quit}}
}

type activityKeys struct {
	Scroll                    viewport.KeyMap
	Top, Refresh, Close, Help key.Binding
}

func newActivityKeys(g globalKeys) activityKeys {
	sc := viewport.DefaultKeyMap()
	sc.Left.SetEnabled(false)
	sc.Right.SetEnabled(false)
	return activityKeys{
		Scroll:  sc,
		Top:     key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "newest")),
		Refresh: key.NewBinding(key.WithKeys("ctrl+r"), key.WithHelp("ctrl+r", "refresh")),
		Close:   key.NewBinding(key.WithKeys("esc", "l", "q"), key.WithHelp("esc", "back")),
		Help:    g.Help,
	}
}

func (k activityKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Scroll.Down, k.Scroll.Up, k.Top, k.Refresh}
}

func (k activityKeys) Essential() []key.Binding { return []key.Binding{k.Close, k.Help} }

func (k activityKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Scroll.Up, k.Scroll.Down, k.Scroll.PageUp, k.Scroll.PageDown, k.Top}, {k.Refresh, k.Close}}
}
