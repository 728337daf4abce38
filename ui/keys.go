package ui

import "charm.land/bubbles/v2/key"

// Each view has its own KeyMap built by a constructor; bindings that do not
// apply are disabled with SetEnabled(false) so help never lies.

type globalKeys struct {
	Quit, Help, Compose, Admin, Activity, Back key.Binding
}

func newGlobalKeys() globalKeys {
	return globalKeys{
		Quit:     key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Help:     key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Compose:  key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "new")),
		Admin:    key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "admin")),
		Activity: key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "activity")),
		Back:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
	}
}

type listKeys struct {
	Up, Down, Top, Bottom, PageUp, PageDown key.Binding
	Detail, Focus, Filter, Search, Mine     key.Binding
	Retry, Cancel, Remix, ReuseSeed, Delete key.Binding
	Open, CopyPath                          key.Binding
	global                                  globalKeys
}

func newListKeys(g globalKeys) listKeys {
	return listKeys{
		Up:        key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "up")),
		Down:      key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", "down")),
		Top:       key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "newest")),
		Bottom:    key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "oldest")),
		PageUp:    key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("pgup", "page up")),
		PageDown:  key.NewBinding(key.WithKeys("pgdown", "ctrl+d"), key.WithHelp("pgdn", "page down")),
		Detail:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "detail")),
		Focus:     key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "switch pane")),
		Filter:    key.NewBinding(key.WithKeys("0", "1", "2", "3", "4", "5", "6", "7", "8", "[", "]"), key.WithHelp("0-8/[ ]", "filter state")),
		Search:    key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search")),
		Mine:      key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "mine/all"), key.WithDisabled()), // team host only
		Retry:     key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retry")),
		Cancel:    key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "cancel")),
		Remix:     key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "remix")),
		ReuseSeed: key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "reuse seed")),
		Delete:    key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "delete")),
		Open:      key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "open image")),
		CopyPath:  key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy path")),
		global:    g,
	}
}

func (k listKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.global.Compose, k.Detail, k.Retry, k.Cancel, k.Remix, k.Filter, k.Search, k.global.Help, k.global.Quit}
}

func (k listKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown},
		{k.Detail, k.Focus, k.Filter, k.Search, k.Mine, k.Open, k.CopyPath},
		{k.global.Compose, k.Retry, k.Cancel, k.Remix, k.ReuseSeed, k.Delete},
		{k.global.Admin, k.global.Activity, k.global.Help, k.global.Back, k.global.Quit},
	}
}

type composerKeys struct {
	Submit, Next, Prev, HistoryPrev, HistoryNext, Cycle, Close key.Binding
}

func newComposerKeys() composerKeys {
	return composerKeys{
		Submit:      key.NewBinding(key.WithKeys("ctrl+s"), key.WithHelp("ctrl+s", "submit")),
		Next:        key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next field")),
		Prev:        key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous field")),
		HistoryPrev: key.NewBinding(key.WithKeys("ctrl+p"), key.WithHelp("ctrl+p", "older prompt")),
		HistoryNext: key.NewBinding(key.WithKeys("ctrl+n"), key.WithHelp("ctrl+n", "newer prompt")),
		Cycle:       key.NewBinding(key.WithKeys("left", "right"), key.WithHelp("←/→", "choose")),
		Close:       key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close")),
	}
}

func (k composerKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Submit, k.Next, k.Cycle, k.HistoryPrev, k.HistoryNext, k.Close}
}

func (k composerKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Submit, k.Close}, {k.Next, k.Prev, k.Cycle}, {k.HistoryPrev, k.HistoryNext}}
}

type adminKeys struct {
	Up, Down, Set, Rotate, Copy, TestOdoo, Refresh, Close key.Binding
}

func newAdminKeys() adminKeys {
	return adminKeys{
		Up:       key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", "down")),
		Set:      key.NewBinding(key.WithKeys("e", "enter"), key.WithHelp("e", "set secret")),
		Rotate:   key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "rotate callback token")),
		Copy:     key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy new token"), key.WithDisabled()),
		TestOdoo: key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "test Odoo")),
		Refresh:  key.NewBinding(key.WithKeys("ctrl+r"), key.WithHelp("ctrl+r", "refresh")),
		Close:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
	}
}

func (k adminKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Set, k.Rotate, k.Copy, k.TestOdoo, k.Refresh, k.Close}
}

func (k adminKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.Set}, {k.Rotate, k.Copy}, {k.TestOdoo, k.Refresh, k.Close}}
}

type activityKeys struct {
	Up, Down, Top, Refresh, Close key.Binding
}

func newActivityKeys() activityKeys {
	return activityKeys{
		Up:      key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "up")),
		Down:    key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", "down")),
		Top:     key.NewBinding(key.WithKeys("g"), key.WithHelp("g", "newest")),
		Refresh: key.NewBinding(key.WithKeys("ctrl+r"), key.WithHelp("ctrl+r", "refresh")),
		Close:   key.NewBinding(key.WithKeys("esc", "l"), key.WithHelp("esc", "back")),
	}
}

func (k activityKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.Top, k.Refresh, k.Close}
}
func (k activityKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.Top}, {k.Refresh, k.Close}}
}

type confirmKeys struct{ Yes, No key.Binding }

func newConfirmKeys() confirmKeys {
	return confirmKeys{
		Yes: key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "confirm")),
		No:  key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "keep")),
	}
}

func (k confirmKeys) ShortHelp() []key.Binding  { return []key.Binding{k.Yes, k.No} }
func (k confirmKeys) FullHelp() [][]key.Binding { return [][]key.Binding{{k.Yes, k.No}} }
