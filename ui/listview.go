package ui

import (
	"fmt"

	"charm.land/bubbles/v2/spinner"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/influencegen/influencegen/app"
)

// Rendering of the request list: the tab line and one row per request.

// filterLine says which search and whose requests the list shows.
func (l listModel) filterLine() string {
	line := ""
	if l.mine {
		line = "mine only (m for everyone's)"
	}
	if l.search != "" {
		if line != "" {
			line += " · "
		}
		line += "search: " + l.search + "  (/ to change, esc in search to clear)"
	}
	return line
}

func (l listModel) View(s *styles, focused bool, now time.Time) string {
	var b strings.Builder
	b.WriteString(l.tabsView(s))
	if l.searching {
		line := l.input.View()
		if l.searchErr != nil {
			line = ansi.Truncate(strings.TrimSpace(l.input.Value()), max(l.width/3, 10), "…") + "  " +
				s.err.Render(app.TerminalSafe(errText(l.searchErr)))
			line = "/ " + line
		}
		b.WriteString("\n" + padRight(truncate(line, l.width), l.width))
	} else if l.search != "" || l.mine {
		b.WriteString("\n" + padRight(s.muted.Render(ansi.Truncate(app.TerminalSafe(l.filterLine()), l.width, "…")), l.width))
	}
	table := l.visibleTable(s, focused, now).View()
	if note := l.emptyNote(s); note != "" {
		// the headings stay; the note takes the first row's line
		head, rest, _ := strings.Cut(table, "\n")
		_, rest, _ = strings.Cut(rest, "\n")
		table = head + "\n" + padRight(truncate(note, l.width), l.width)
		if rest != "" {
			table += "\n" + rest
		}
	}
	b.WriteString("\n" + table)
	return b.String()
}

// emptyNote says why no row shows: an error, a read in flight, a filter
// that matches nothing, or no requests at all.
func (l listModel) emptyNote(s *styles) string {
	switch {
	case l.err != nil:
		return s.err.Render(ansi.Truncate("cannot read requests: "+errText(l.err), l.width, "…"))
	case !l.loaded:
		return s.muted.Render("loading…")
	case len(l.rows) == 0 && (l.filter > 0 || l.search != ""):
		return s.muted.Render("No requests match. Press 0 for all states, / to change the search.")
	case len(l.rows) == 0:
		return s.muted.Render("No requests yet. Press n to compose one.")
	}
	return ""
}

const badgeWidth = 13 // icon, space, the longest label ("init failed", "processing")

// spinnerFrames are bubbles/spinner's MiniDot: the one spinner model ticks,
// the badges for each frame are rendered once per theme.
var spinnerFrames = spinner.MiniDot.Frames

func statusIcon(st app.Status, frame int) string {
	switch st {
	case app.StatusSending, app.StatusProcessing:
		return spinnerFrames[frame%len(spinnerFrames)]
	case app.StatusCompleted:
		return "✓"
	case app.StatusFailed, app.StatusInitiationFailed:
		return "✗"
	case app.StatusTimedOut:
		return "?"
	case app.StatusCancelled:
		return "–"
	}
	return "·"
}

func statusLabel(st app.Status) string {
	if st == app.StatusInitiationFailed {
		return "init failed"
	}
	if st == app.StatusTimedOut {
		return "timed out"
	}
	return string(st)
}

func syncMark(st app.SyncState) string {
	switch st {
	case app.SyncDone:
		return "◆"
	case app.SyncPending:
		return "◇"
	case app.SyncParked:
		return "!"
	}
	return " "
}

// syncMark and styledSyncMark leave the column blank while sync is off,
// where every row would otherwise show "pending" forever.
func (l listModel) syncMark(st app.SyncState) string {
	if l.odooOff {
		return " "
	}
	return syncMark(st)
}

func (l listModel) styledSyncMark(s *styles, st app.SyncState) string {
	if l.odooOff {
		return " "
	}
	return s.syncMarks[st]
}

const (
	rowFixedWidth = 1 + badgeWidth + 1 + 4 + 1 + 12 + 1 + 1 + 1 // cursor, badge, age, model, mark and gaps
	seedSizeWidth = 1 + 10 + 1 + 9                              // " seed" and " size": rows of one batch differ there
)

// showSeedSize reports whether the seed and size columns fit beside a
// prompt of at least 20 cells.
func (l listModel) showSeedSize() bool { return l.width-rowFixedWidth-seedSizeWidth >= 20 }

// fitText cuts or pads plain text to exactly w cells.
func fitText(t string, w int) string {
	if len(t) <= w && isASCII(t) {
		return t + strings.Repeat(" ", w-len(t))
	}
	return padRight(ansi.Truncate(t, w, "…"), w)
}

func isASCII(t string) bool {
	for i := 0; i < len(t); i++ {
		if t[i] >= 0x80 {
			return false
		}
	}
	return true
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// relativeAge renders how long ago t was in at most four cells.
func relativeAge(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < 5*time.Second:
		return "now"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	case d < 14*24*time.Hour:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	case d < 365*24*time.Hour:
		return fmt.Sprintf("%dw", int(d.Hours()/24/7))
	}
	return fmt.Sprintf("%dy", int(d.Hours()/24/365))
}
