package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/table"
	"github.com/charmbracelet/x/ansi"

	"github.com/influencegen/influencegen/app"
)

// The team scope (T, issue 15 §3): everyone's recent requests as Odoo
// holds them — other laptops, other hosts, requests made in Odoo — read by
// polling what changed (app.TeamFeed: write_date newer than the last seen).
// Rows are read-only unless this host holds the request; images are
// fetched from Odoo only when a row's detail is opened.

// TeamBackend is the team scope's link to Odoo. main wires it from
// app.TeamFeed over the Odoo adapter, ERP.TeamImages and ERP.QueueWaiting;
// Backend.Team is nil while Odoo is not configured.
type TeamBackend struct {
	Feed *app.TeamFeed
	// Images fetches a team request's images (by its Odoo record id) from
	// Odoo's attachments, verified against their sha256 and kept in the
	// content-addressed image folder.
	Images func(ctx context.Context, odooID int64) ([]app.StoredFile, error)
	// QueueWaiting counts requests made in Odoo that no host has claimed;
	// nil unless odoo.accept_requests is on.
	QueueWaiting func(ctx context.Context) (int, error)
	// Host is this host's name in Odoo's claimed_by.
	Host string
}

// teamImages is what the detail knows of one team request's images.
type teamImages struct {
	files []app.StoredFile
	err   error
}

type teamModel struct {
	keys          teamKeys
	width, height int

	rows    []app.TeamRequest
	owned   map[string]bool // request ids this host holds: only those take actions
	cursor  int
	offset  int
	loaded  bool
	loading bool
	err     error
	seen    int // how many rows the last refresh brought new or changed

	detail      bool                 // the selected row's detail is open
	images      map[int64]teamImages // fetched on demand, by Odoo record id
	preview     *previewRenderedMsg
	previewWant previewKey
}

type teamKeys struct {
	Up, Down, Detail, Refresh, Retry, Cancel, Back, Help, Quit key.Binding
}

func newTeamKeys(g globalKeys) teamKeys {
	return teamKeys{
		Up:      key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "up")),
		Down:    key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", "down")),
		Detail:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "detail + image")),
		Refresh: key.NewBinding(key.WithKeys("ctrl+r"), key.WithHelp("ctrl+r", "refresh")),
		Retry:   key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retry")),
		Cancel:  key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "cancel")),
		Back:    key.NewBinding(key.WithKeys("esc", "T"), key.WithHelp("esc", "back")),
		Help:    g.Help,
		Quit:    g.Quit,
	}
}

func (k teamKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Detail, k.Retry, k.Cancel, k.Refresh, k.Down, k.Up}
}

func (k teamKeys) Essential() []key.Binding { return []key.Binding{k.Back, k.Help} }

func (k teamKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.Detail, k.Refresh}, {k.Retry, k.Cancel}, {k.Back, k.Help, k.Quit}}
}

// withKeys enables exactly what acts on the selected row: a row of
// another host or member is read-only, and a scope without Odoo has no
// rows to move over.
func (t teamModel) withKeys(configured bool) teamModel {
	r, ok := t.selected()
	mine := ok && t.owns(r)
	t.keys.Up.SetEnabled(ok && !t.detail)
	t.keys.Down.SetEnabled(ok && !t.detail)
	t.keys.Detail.SetEnabled(ok && !t.detail)
	t.keys.Refresh.SetEnabled(configured)
	t.keys.Retry.SetEnabled(mine && retryable(app.Status(r.State)))
	t.keys.Cancel.SetEnabled(mine && isAppStatus(r.State) && !app.Status(r.State).Final())
	return t
}

func isAppStatus(s string) bool {
	for _, st := range app.Statuses {
		if string(st) == s {
			return true
		}
	}
	return false
}

func (t teamModel) selected() (app.TeamRequest, bool) {
	if t.cursor < 0 || t.cursor >= len(t.rows) {
		return app.TeamRequest{}, false
	}
	return t.rows[t.cursor], true
}

// owns reports whether this host holds the request: made here (it is in
// the local store) or claimed from Odoo's queue by this host.
func (t teamModel) owns(r app.TeamRequest) bool { return r.ID != "" && t.owned[r.ID] }

func (t *teamModel) SetSize(w, h int) {
	t.width, t.height = w, max(h, 1)
	t.clamp()
}

// visibleRows is how many rows fit under the title and the headings.
func (t teamModel) visibleRows() int { return max(t.height-2, 1) }

func (t *teamModel) clamp() {
	t.cursor = min(max(t.cursor, 0), max(len(t.rows)-1, 0))
	vis := t.visibleRows()
	if t.cursor < t.offset {
		t.offset = t.cursor
	}
	if t.cursor >= t.offset+vis {
		t.offset = t.cursor - vis + 1
	}
	t.offset = max(min(t.offset, len(t.rows)-vis), 0)
}

func (t teamModel) moveBy(n int) teamModel {
	t.cursor += n
	t.clamp()
	return t
}

// apply takes a refresh: the feed's rows (its own merge of what changed),
// the selection kept on the same Odoo record.
func (t teamModel) apply(msg teamRefreshedMsg) teamModel {
	first := !t.loaded
	t.loading, t.loaded, t.err = false, true, msg.err
	if msg.err != nil {
		return t
	}
	keep := int64(0)
	if r, ok := t.selected(); ok {
		keep = r.OdooID
	}
	t.rows, t.owned, t.seen = msg.rows, msg.owned, msg.changed
	if first {
		t.seen = 0 // everything is new on the first read: not worth saying
	}
	for i, r := range t.rows {
		if r.OdooID == keep {
			t.cursor = i
			break
		}
	}
	t.clamp()
	return t
}

// View is the team list, or the selected row's detail.
func (t teamModel) View(s *styles, b *TeamBackend, interval time.Duration, now time.Time) string {
	if b == nil {
		return t.notConfiguredView(s)
	}
	if t.detail {
		return t.detailView(s, now)
	}
	title := s.bold.Render("Team") + s.muted.Render(fmt.Sprintf(" · everyone's requests as Odoo holds them · checked every %s", interval))
	switch {
	case t.err != nil:
		title = s.err.Render("cannot read the team's requests from Odoo: " + errText(t.err))
	case !t.loaded:
		title += s.muted.Render(" · loading…")
	case t.seen > 0:
		title += s.muted.Render(fmt.Sprintf(" · %d new or changed", t.seen))
	}
	out := padRight(ansi.Truncate(title, t.width, "…"), t.width) + "\n" + t.tableView(s, b.Host, now)
	if lines := strings.Split(out, "\n"); t.loaded && t.err == nil && len(t.rows) == 0 && len(lines) > 2 {
		lines[2] = padRight(s.muted.Render("Odoo holds no requests yet."), t.width)
		out = strings.Join(lines, "\n")
	}
	return out
}

func (t teamModel) notConfiguredView(s *styles) string {
	lines := []string{
		s.bold.Render("Team"),
		"",
		s.warn.Render("Odoo is not configured, so there is no team view."),
		s.muted.Render("The team scope lists everyone's requests from Odoo: other laptops, other hosts,"),
		s.muted.Render("requests made in Odoo. Set odoo.url, odoo.database and the API key"),
		s.muted.Render("(influencegen config set odoo.url …; see README: Odoo sync), then restart."),
	}
	for i, l := range lines {
		lines[i] = padRight(ansi.Truncate(l, t.width, "…"), t.width)
	}
	return strings.Join(lines, "\n")
}

// Team table columns: each width includes one cell of air.
const (
	teamColState = iota
	teamColWho
	teamColWhen
	teamColWhere
	teamColPrompt
	teamColCount
)

func (t teamModel) columns() []table.Column {
	cols := []table.Column{
		{Title: " STATE", Width: 1 + badgeWidth + 1},
		{Title: "WHO", Width: 13},
		{Title: "WHEN", Width: 5},
		{Title: "WHERE", Width: 19},
	}
	rest := t.width
	for _, c := range cols {
		rest -= c.Width
	}
	return append(cols, table.Column{Title: "PROMPT", Width: max(rest, 1)})
}

// where says which host runs a request, and marks the ones this host
// holds (the only rows that take actions).
func (t teamModel) where(r app.TeamRequest, host string) string {
	switch {
	case t.owns(r):
		return "this host"
	case r.Host != "" && r.Host == host:
		return "this host"
	case r.Host != "":
		return r.Host
	case r.Origin == "odoo":
		return "Odoo (unclaimed)"
	}
	return "another host"
}

func (t teamModel) tableView(s *styles, host string, now time.Time) string {
	tbl := newRequestTable()
	tbl.SetStyles(s.table)
	cols := t.columns()
	tbl.SetColumns(cols)
	tbl.SetWidth(t.width)
	vis := t.visibleRows()
	end := min(t.offset+vis, len(t.rows))
	rows := make([]table.Row, 0, max(end-t.offset, 0))
	for i := t.offset; i < end; i++ {
		r := t.rows[i]
		cursor := " "
		if i == t.cursor {
			cursor = "▌"
		}
		state := padRight(statusIcon(app.Status(r.State), 0)+" "+ansi.Truncate(safe(r.State), badgeWidth-2, "…"), badgeWidth)
		if st := app.Status(r.State); isAppStatus(r.State) {
			state = s.status[st].Render(state)
		} else {
			state = s.muted.Render(state)
		}
		when := r.RequestedAt
		if when.IsZero() {
			when = r.UpdatedAt
		}
		cells := table.Row{
			cursor + state + " ",
			padRight(ansi.Truncate(safe(r.RequestedBy), 12, "…"), 12) + " ",
			fmt.Sprintf("%4s ", relativeAge(now, when)),
			padRight(ansi.Truncate(safe(t.where(r, host)), 18, "…"), 18) + " ",
			fitText(oneLine(safe(r.Prompt)), cols[teamColPrompt].Width),
		}
		if i == t.cursor {
			for c := 1; c < teamColCount; c++ {
				cells[c] = s.selected.Render(cells[c])
			}
		}
		rows = append(rows, cells)
	}
	tbl.SetRows(rows)
	tbl.SetCursor(t.cursor - t.offset)
	tbl.SetHeight(vis + 1)
	return tbl.View()
}

// detailView is one team request: who, state, where, when, and its image
// once fetched from Odoo.
func (t teamModel) detailView(s *styles, now time.Time) string {
	r, _ := t.selected()
	label := func(l string) string { return s.label.Render(padRight(l, 10)) }
	id := r.ID
	if id == "" {
		id = "(draft in Odoo)"
	}
	access := s.muted.Render("read-only: another member's or host's request")
	if t.owns(r) {
		access = s.ok.Render("held by this host: its actions work here")
	}
	when := "—"
	if !r.RequestedAt.IsZero() {
		when = localTime(r.RequestedAt) + " (" + relativeAge(now, r.RequestedAt) + " ago)"
	}
	lines := []string{
		label("Request") + safe(id) + s.muted.Render(fmt.Sprintf("  Odoo #%d", r.OdooID)),
		label("State") + safe(r.State),
		label("By") + safe(r.RequestedBy),
		label("When") + when,
		label("Where") + safe(t.where(r, "")) + s.muted.Render("  (origin "+safe(r.Origin)+")"),
		label("Model") + safe(r.Model),
		label("Prompt") + oneLine(safe(r.Prompt)),
		access,
		"",
	}
	imgs, fetched := t.images[r.OdooID]
	switch {
	case r.Images == 0 && (!fetched || len(imgs.files) == 0):
		lines = append(lines, s.muted.Render("no image in Odoo yet"))
	case !fetched:
		lines = append(lines, s.muted.Render("fetching the image from Odoo…"))
	case imgs.err != nil:
		lines = append(lines, s.err.Render("image: "+errText(imgs.err)))
	case len(imgs.files) == 0:
		lines = append(lines, s.muted.Render("no image in Odoo yet"))
	default:
		f := imgs.files[0]
		lines = append(lines, s.muted.Render(fmt.Sprintf("Image  %dx%d %s  sha256 %s (verified, kept in the image folder)", f.Width, f.Height, safe(f.MimeType), f.SHA256[:12])))
		switch {
		case s.noColor:
			lines = append(lines, s.muted.Render("[image "+safe(f.Path)+"]"))
		case t.preview == nil:
			lines = append(lines, s.muted.Render("rendering preview…"))
		case t.preview.err != nil:
			lines = append(lines, s.err.Render("preview: "+t.preview.err.Error()))
		default:
			lines = append(lines, strings.Split(t.preview.cells, "\n")...)
		}
	}
	for i, l := range lines {
		lines[i] = padRight(ansi.Truncate(l, t.width, "…"), t.width)
	}
	return strings.Join(lines, "\n")
}

// teamDetailTextLines is how many lines the detail's text takes above the picture.
const teamDetailTextLines = 10

// previewBox is the cell box the picture gets under the detail's text.
func (t teamModel) previewBox() (cols, rows int) {
	return max(t.width-2, 1), max(t.height-teamDetailTextLines-1, 1)
}

func localTime(t time.Time) string { return t.Local().Format("2006-01-02 15:04") }
