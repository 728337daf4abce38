package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	"charm.land/lipgloss/v2"
	"charm.land/lipgloss/v2/table"

	"github.com/influencegen/influencegen/app"
)

// The help screen: every screen's keys and what each state means, in a
// viewport (clamped scrolling, mouse wheel, percentage).

type helpKeys struct {
	Scroll viewport.KeyMap
	Close  key.Binding
}

func newHelpKeys() helpKeys {
	return helpKeys{
		Scroll: viewport.DefaultKeyMap(),
		Close:  key.NewBinding(key.WithKeys("esc", "q", "?"), key.WithHelp("esc/q", "close help")),
	}
}

func (k helpKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Scroll.Down, k.Scroll.Up, k.Scroll.PageDown}
}

func (k helpKeys) FullHelp() [][]key.Binding { return [][]key.Binding{append(k.ShortHelp(), k.Close)} }

func (m Model) renderHelpContent() string {
	s := m.styles
	var b strings.Builder
	b.WriteString(s.title.Render("Keys") + s.muted.Render("  (esc, q or ? closes this)") + "\n\n")
	sections := []struct {
		name string
		keys help.KeyMap
	}{
		{"Requests", m.listKeys}, {"Detail", m.detailKeys}, {"Composer", m.composer.keys}, {"Admin", m.admin.keys}, {"Activity", m.activity.keys},
		{"Team (T)", newTeamKeys(m.globalKeys)}, // every key of the scope, whichever row is selected
		{"Gallery and grid", m.cur.keys}, {"Viewer", m.cur.vkeys}, {"Compare", m.cur.ckeys},
	}
	full := m.help
	full.ShowAll = true
	for _, sec := range sections {
		b.WriteString(s.label.Render(sec.name) + "\n" + full.View(sec.keys) + "\n\n")
	}
	b.WriteString(s.label.Render("States") + "\n")
	rows := make([][]string, 0, len(app.Statuses))
	for _, st := range app.Statuses {
		rows = append(rows, []string{statusIcon(st, 0) + " " + statusLabel(st), stateMeaning[st]})
	}
	t := table.New().Border(lipgloss.HiddenBorder()).BorderTop(false).BorderBottom(false).BorderLeft(false).BorderRight(false).
		BorderColumn(false).BorderHeader(false).Width(m.width).Rows(rows...).
		StyleFunc(func(row, col int) lipgloss.Style {
			if col == 0 && row >= 0 && row < len(app.Statuses) {
				return s.status[app.Statuses[row]].PaddingRight(2)
			}
			return s.muted
		})
	b.WriteString(t.String() + "\n\n")
	b.WriteString(s.label.Render("Times") + "\n" + s.muted.Render(zoneNote(m.b.Clock.Now())) + "\n")
	return b.String()
}

// zoneNote says which zone the dashboard's times are in and how to read
// them as UTC: the zone's name, its offset now, and the time now in UTC.
func zoneNote(now time.Time) string {
	local := now.In(time.Local)
	name, off := local.Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	zone := name
	if loc := time.Local.String(); loc != name && loc != "Local" {
		zone = loc + " (" + name + ")"
	}
	return fmt.Sprintf("The dashboard shows local time: %s, UTC%s%02d:%02d (now %s, %s UTC). `status --json` and the logs use UTC.",
		zone, sign, off/3600, off%3600/60, local.Format("15:04"), now.UTC().Format("15:04"))
}

var stateMeaning = map[app.Status]string{
	app.StatusQueued:           "stored, waiting to be sent to n8n",
	app.StatusSending:          "the webhook call to n8n is in flight",
	app.StatusProcessing:       "n8n accepted it; waiting for the callback",
	app.StatusCompleted:        "the image arrived and is stored",
	app.StatusFailed:           "n8n reported a failure, or the image was unusable",
	app.StatusInitiationFailed: "n8n refused or was unreachable; r re-sends the same id",
	app.StatusTimedOut:         "no callback in time: lost, not done (a late one still completes it)",
	app.StatusCancelled:        "cancelled by you; a late result is kept but the state stays",
}
