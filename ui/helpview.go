package ui

import (
	"strings"

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

func (m Model) helpContent() string {
	s := m.styles
	var b strings.Builder
	b.WriteString(s.title.Render("Keys") + s.muted.Render("  (esc, q or ? closes this)") + "\n\n")
	sections := []struct {
		name string
		keys help.KeyMap
	}{
		{"Requests", m.listKeys}, {"Detail", m.detailKeys}, {"Composer", m.composer.keys}, {"Admin", m.admin.keys}, {"Activity", m.activity.keys},
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
	b.WriteString(s.label.Render("Times") + "\n" + s.muted.Render("The dashboard shows local time; `status --json` and the logs use UTC.") + "\n")
	return b.String()
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
