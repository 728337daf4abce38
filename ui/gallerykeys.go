package ui

import "charm.land/bubbles/v2/key"

// Keymaps of the grid, the viewer and compare. refreshGalleryKeys
// disables what cannot act now, so the footer never offers it.

type galleryKeys struct {
	Up, Down, Left, Right, PageUp, PageDown, Top, Bottom key.Binding
	View, Mark, Compare, Open, Export, Back, Help, Quit  key.Binding
	decisionKeys
}

func newGalleryKeys(g globalKeys) galleryKeys {
	return galleryKeys{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Left:     key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/h", "left")),
		Right:    key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→/l", "right")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d"), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "newest")),
		Bottom:   key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "oldest")),
		View:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "full screen")),
		Mark:     key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "mark")),
		Compare:  key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "compare 2 marked")),
		Open:     key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "open in viewer")),
		Export:   key.NewBinding(key.WithKeys("E"), key.WithHelp("E", "export approved")),
		Back:     key.NewBinding(key.WithKeys("esc", "v"), key.WithHelp("esc", "back")),
		Help:     g.Help,
		Quit:     g.Quit,

		decisionKeys: newDecisionKeys(),
	}
}

func (k galleryKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.View, k.Favorite, k.Approve, k.Reject, k.Mark, k.Compare, k.Vary, k.Open, k.Export, k.Undecide, k.Reroll}
}

func (k galleryKeys) Essential() []key.Binding { return []key.Binding{k.Back, k.Help} }

func (k galleryKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Left, k.Right, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.View, k.Mark, k.Compare, k.Open, k.Export},
		{k.Favorite, k.Approve, k.Reject, k.Undecide, k.Vary, k.Reroll},
		{k.Back, k.Help, k.Quit},
	}
}

type viewerKeys struct {
	Prev, Next, Mark, Open, Back, Help, Quit key.Binding
	decisionKeys
}

func newViewerKeys(g globalKeys) viewerKeys {
	return viewerKeys{
		Prev: key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←", "previous")),
		Next: key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→", "next")),
		Mark: key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "mark")),
		Open: key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "open in viewer")),
		Back: key.NewBinding(key.WithKeys("esc", "enter"), key.WithHelp("esc", "back to grid")),
		Help: g.Help,
		Quit: g.Quit,

		decisionKeys: newDecisionKeys(),
	}
}

func (k viewerKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Prev, k.Next, k.Favorite, k.Approve, k.Reject, k.Vary, k.Open, k.Mark, k.Undecide, k.Reroll}
}

func (k viewerKeys) Essential() []key.Binding { return []key.Binding{k.Back, k.Help} }

func (k viewerKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Prev, k.Next, k.Mark, k.Open}, {k.Favorite, k.Approve, k.Reject, k.Undecide, k.Vary, k.Reroll}, {k.Back, k.Help, k.Quit}}
}

type compareKeys struct {
	Back, Help, Quit key.Binding
}

func newCompareKeys(g globalKeys) compareKeys {
	return compareKeys{
		Back: key.NewBinding(key.WithKeys("esc", "c"), key.WithHelp("esc", "back to grid")),
		Help: g.Help,
		Quit: g.Quit,
	}
}

func (k compareKeys) ShortHelp() []key.Binding  { return nil }
func (k compareKeys) Essential() []key.Binding  { return []key.Binding{k.Back, k.Help} }
func (k compareKeys) FullHelp() [][]key.Binding { return [][]key.Binding{{k.Back, k.Help, k.Quit}} }
