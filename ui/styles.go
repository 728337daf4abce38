package ui

import (
	"image/color"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/table"
	"charm.land/bubbles/v2/textarea"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/influencegen/influencegen/app"
)

// palette names colours by what they mean, so every style below reads as
// intent ("danger", "muted") and light and dark terminals stay legible.
type palette struct {
	text, muted, subtle, accent, success, warning, danger, info, selectedBg, badgeFg color.Color
}

func newPalette(isDark bool) palette {
	ld := lipgloss.LightDark(isDark)
	return palette{
		text:       ld(lipgloss.Color("#1f2328"), lipgloss.Color("#e6edf3")),
		muted:      ld(lipgloss.Color("#656d76"), lipgloss.Color("#8b949e")),
		subtle:     ld(lipgloss.Color("#d0d7de"), lipgloss.Color("#30363d")),
		accent:     ld(lipgloss.Color("#8250df"), lipgloss.Color("#bc8cff")),
		success:    ld(lipgloss.Color("#1a7f37"), lipgloss.Color("#3fb950")),
		warning:    ld(lipgloss.Color("#9a6700"), lipgloss.Color("#d29922")),
		danger:     ld(lipgloss.Color("#cf222e"), lipgloss.Color("#f85149")),
		info:       ld(lipgloss.Color("#0969da"), lipgloss.Color("#58a6ff")),
		selectedBg: ld(lipgloss.Color("#eaeef2"), lipgloss.Color("#21262d")),
		badgeFg:    ld(lipgloss.Color("#ffffff"), lipgloss.Color("#0d1117")),
	}
}

// styles is every style the dashboard uses. It is rebuilt whole when the
// terminal reports its background colour.
type styles struct {
	isDark    bool
	noColor   bool
	title     lipgloss.Style
	demo      lipgloss.Style
	muted     lipgloss.Style
	text      lipgloss.Style
	bold      lipgloss.Style
	accent    lipgloss.Style
	ok        lipgloss.Style
	warn      lipgloss.Style
	err       lipgloss.Style
	tab       lipgloss.Style
	tabActive lipgloss.Style
	selected  lipgloss.Style
	pane      lipgloss.Style
	paneFocus lipgloss.Style
	label     lipgloss.Style
	fieldErr  lipgloss.Style
	flash     lipgloss.Style
	flashErr  lipgloss.Style
	secret    lipgloss.Style
	status    map[app.Status]lipgloss.Style
	help      help.Styles
	// the bubbles' own styles, from the same palette: their defaults
	// assume a dark terminal (black cursor line, light grey values)
	textarea  textarea.Styles
	textinput textinput.Styles
	table     table.Styles // the request list's headings and cells
	// ready-made pieces of list rows, rendered once per theme
	badges    map[app.Status][]string // per spinner frame for active states, one entry otherwise
	syncMarks map[app.SyncState]string
}

// badge is the styled state column of a row.
func (s *styles) badge(st app.Status, frame int) string {
	b := s.badges[st]
	if len(b) == 0 {
		return padRight(string(st), badgeWidth)
	}
	return b[frame%len(b)]
}

// withRowPieces renders the badges and sync marks once.
func (s *styles) withRowPieces() *styles {
	s.table = tableStyles(s)
	s.badges = map[app.Status][]string{}
	for _, st := range app.Statuses {
		frames := 1
		if st == app.StatusSending || st == app.StatusProcessing {
			frames = len(spinnerFrames)
		}
		for f := range frames {
			s.badges[st] = append(s.badges[st], s.status[st].Render(statusIcon(st, f)+" "+padRight(statusLabel(st), badgeWidth-2)))
		}
	}
	s.syncMarks = map[app.SyncState]string{}
	for _, ss := range []app.SyncState{app.SyncOff, app.SyncPending, app.SyncDone, app.SyncParked, ""} {
		s.syncMarks[ss] = s.accent.Render(syncMark(ss))
	}
	return s
}

func newStyles(isDark, noColor bool) *styles {
	p := newPalette(isDark)
	s := styles{isDark: isDark, noColor: noColor}
	base := lipgloss.NewStyle()
	if noColor {
		// NO_COLOR: keep emphasis (bold, reverse) but no colour at all.
		s.title = base.Bold(true)
		s.demo = base.Reverse(true).Bold(true)
		s.muted, s.text, s.accent, s.ok, s.warn = base, base, base, base, base
		s.bold = base.Bold(true)
		s.err = base.Bold(true)
		s.tab = base
		s.tabActive = base.Reverse(true)
		s.selected = base.Reverse(true)
		s.pane = base.Border(lipgloss.NormalBorder())
		s.paneFocus = base.Border(lipgloss.ThickBorder())
		s.label = base.Bold(true)
		s.fieldErr = base.Bold(true)
		s.flash, s.flashErr, s.secret = base, base.Bold(true), base.Bold(true)
		s.status = map[app.Status]lipgloss.Style{}
		for _, st := range app.Statuses {
			s.status[st] = base
		}
		s.help = help.Styles{
			Ellipsis: base, ShortKey: base.Bold(true), ShortDesc: base, ShortSeparator: base,
			FullKey: base.Bold(true), FullDesc: base, FullSeparator: base,
		}
		s.textarea, s.textinput = plainInputStyles()
		return s.withRowPieces()
	}
	s.title = base.Bold(true).Foreground(p.accent)
	s.demo = base.Bold(true).Foreground(p.badgeFg).Background(p.warning).Padding(0, 1)
	s.muted = base.Foreground(p.muted)
	s.text = base.Foreground(p.text)
	s.bold = base.Bold(true).Foreground(p.text)
	s.accent = base.Foreground(p.accent)
	s.ok = base.Foreground(p.success)
	s.warn = base.Foreground(p.warning)
	s.err = base.Foreground(p.danger)
	s.tab = base.Foreground(p.muted)
	s.tabActive = base.Bold(true).Foreground(p.accent).Underline(true)
	s.selected = base.Background(p.selectedBg).Bold(true)
	s.pane = base.Border(lipgloss.RoundedBorder()).BorderForeground(p.subtle)
	s.paneFocus = base.Border(lipgloss.RoundedBorder()).BorderForeground(p.accent)
	s.label = base.Bold(true).Foreground(p.muted)
	s.fieldErr = base.Foreground(p.danger)
	s.flash = base.Foreground(p.info)
	s.flashErr = base.Bold(true).Foreground(p.danger)
	s.secret = base.Bold(true).Foreground(p.warning)
	s.status = map[app.Status]lipgloss.Style{
		app.StatusQueued:           base.Foreground(p.muted),
		app.StatusSending:          base.Foreground(p.info),
		app.StatusProcessing:       base.Foreground(p.accent),
		app.StatusCompleted:        base.Foreground(p.success),
		app.StatusFailed:           base.Foreground(p.danger),
		app.StatusInitiationFailed: base.Foreground(p.danger),
		app.StatusTimedOut:         base.Foreground(p.warning),
		app.StatusCancelled:        base.Foreground(p.muted),
	}
	key := base.Bold(true).Foreground(p.text)
	desc := base.Foreground(p.muted)
	sep := base.Foreground(p.subtle)
	s.help = help.Styles{Ellipsis: sep, ShortKey: key, ShortDesc: desc, ShortSeparator: sep, FullKey: key, FullDesc: desc, FullSeparator: sep}
	s.textarea, s.textinput = inputStyles(p)
	return s.withRowPieces()
}

// inputStyles themes textarea and textinput: typed text in the text colour
// on the terminal's own background, the cursor line a faint tint.
func inputStyles(p palette) (textarea.Styles, textinput.Styles) {
	base := lipgloss.NewStyle()
	text := base.Foreground(p.text)
	muted := base.Foreground(p.muted)
	focused := textarea.StyleState{
		Base: base, Text: text, CursorLine: text.Background(p.selectedBg), CursorLineNumber: muted,
		EndOfBuffer: base.Foreground(p.subtle), LineNumber: muted, Placeholder: muted,
		Prompt: base.Foreground(p.accent), Selection: base.Background(p.subtle),
	}
	blurred := focused
	blurred.CursorLine, blurred.Prompt = text, base.Foreground(p.subtle)
	ta := textarea.Styles{Focused: focused, Blurred: blurred,
		Cursor: textarea.CursorStyle{Color: p.accent, Shape: tea.CursorBlock, Blink: false}}
	ti := textinput.Styles{
		Focused: textinput.StyleState{Text: text, Placeholder: muted, Suggestion: muted, Prompt: base.Foreground(p.accent)},
		Blurred: textinput.StyleState{Text: text, Placeholder: muted, Suggestion: muted, Prompt: muted},
		Cursor:  textinput.CursorStyle{Color: p.accent, Shape: tea.CursorBlock, Blink: false},
	}
	return ta, ti
}

// plainInputStyles is NO_COLOR: no colour, the cursor shown by reverse video.
func plainInputStyles() (textarea.Styles, textinput.Styles) {
	base := lipgloss.NewStyle()
	st := textarea.StyleState{Base: base, Text: base, CursorLine: base, CursorLineNumber: base, EndOfBuffer: base,
		LineNumber: base, Placeholder: base.Faint(true), Prompt: base, Selection: base.Reverse(true)}
	ta := textarea.Styles{Focused: st, Blurred: st, Cursor: textarea.CursorStyle{Shape: tea.CursorBlock}}
	in := textinput.StyleState{Text: base, Placeholder: base.Faint(true), Suggestion: base.Faint(true), Prompt: base}
	ti := textinput.Styles{Focused: in, Blurred: in, Cursor: textinput.CursorStyle{Shape: tea.CursorBlock}}
	return ta, ti
}
