package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/influencegen/influencegen/app"
)

// detailModel shows one request: parameters, error with a hint, the first
// image's preview and the timeline. It scrolls when taller than its pane.
type detailModel struct {
	width, height int
	req           app.Request
	has           bool
	loadedID      string
	images        []app.Image
	activity      []app.Activity
	err           error
	// vp holds the laid-out body (measure fills it): its offset is the
	// scroll, clamped to the end, moved by the keys and the mouse wheel.
	vp           viewport.Model
	preview      *previewRenderedMsg
	previewWant  previewKey
	inlineImages bool // a terminal-graphics protocol draws over a blank block
	odooOff      bool // odoo.url is empty: sync states mean nothing yet
	frame        int  // the spinner frame, shared with the list
	// explained caches the n8n run of failed requests by id (n8nexplain.go)
	explained map[string]n8nExplained
	batch     *app.Batch // the request's batch and its progress (batchrow.go)
	// asBatch: the list's batch row is selected, so the pane shows the
	// batch's requests too (batchreqs, read with the batch)
	asBatch   bool
	batchReqs []app.Request
}

// newDetailViewport is the detail's scroller with the detail's keys.
func newDetailViewport(keys viewport.KeyMap) viewport.Model {
	vp := viewport.New()
	vp.KeyMap = keys
	return vp
}

func (d *detailModel) SetSize(w, h int) {
	d.width, d.height = max(w, 10), max(h, 3)
	d.vp.SetWidth(d.width)
	d.vp.SetHeight(d.height)
}

// bodyHeight is the rows the body scrolls in: one less than the pane when
// it overflows, for the line that shows the scroll percentage.
func (d detailModel) bodyHeight(total, h int) int {
	if total > h {
		return h - 1
	}
	return h
}

// show switches the pane to req; the images and timeline load separately.
func (d detailModel) show(req app.Request) detailModel {
	if d.req.ID != req.ID {
		d.vp.GotoTop()
		d.images, d.activity, d.loadedID, d.err, d.preview, d.batch = nil, nil, "", nil, nil, nil
		d.batchReqs = nil
	}
	d.req, d.has = req, true
	return d
}

func (d detailModel) Update(msg tea.Msg) (detailModel, tea.Cmd) {
	switch msg := msg.(type) {
	case detailLoadedMsg:
		if msg.id != d.req.ID {
			return d, nil
		}
		d.loadedID, d.images, d.activity, d.err = msg.id, msg.images, msg.activity, msg.err
		d.batch, d.batchReqs = msg.batch, msg.batchReqs
	case tea.KeyPressMsg, tea.MouseWheelMsg:
		var cmd tea.Cmd
		d.vp, cmd = d.vp.Update(msg)
		return d, cmd
	}
	return d, nil
}

// measure lays the body out into the viewport, so scrolling stops at its
// end (60 j then one k moves up at once). It runs before each scroll and
// when the body changes, not per frame: the viewport measures every line's
// width, and the picture's lines are thousands of escapes.
func (d detailModel) measure(s *styles, now time.Time) detailModel {
	if !d.has {
		d.vp.SetContentLines(nil)
		return d
	}
	body := d.body(s, now, d.width)
	d.vp.SetWidth(d.width)
	d.vp.SetHeight(d.bodyHeight(len(body), d.height))
	d.vp.SetContentLines(body)
	return d
}

// previewBox is the cell box the preview is fitted into: at most what is
// left of the pane below the line where it starts, so a full-screen detail
// shows the whole picture without scrolling.
func (d detailModel) previewBox(startLine int) (cols, rows int) {
	rows = d.height - startLine - 1
	if startLine < 0 || rows < 8 {
		// too little room below the fields: a picture that fits the pane
		// whole once scrolled to
		rows = d.height - 1
	}
	return max(min(d.width-2, 64), 8), max(min(rows, 24), 4)
}

func (d detailModel) firstImage() (app.Image, bool) {
	if len(d.images) == 0 {
		return app.Image{}, false
	}
	return d.images[0], true
}

// previewLine is the line (before scrolling) where the preview starts,
// used to place terminal-graphics images.
func (d detailModel) previewLine(s *styles, now time.Time) int {
	for i, l := range d.content(s, now) {
		if l == previewMarker {
			return i
		}
	}
	return -1
}

const previewMarker = "\x00preview"

func (d detailModel) View(s *styles, now time.Time) string {
	return strings.Join(d.lines(s, now, d.width, d.height), "\n")
}

// lines is the visible part of the detail: exactly h lines, each exactly w
// cells wide, so the caller can frame it without measuring again.
func (d detailModel) lines(s *styles, now time.Time, w, h int) []string {
	if !d.has {
		return strings.Split(lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, s.muted.Render("Select a request to see its details.")), "\n")
	}
	out := d.body(s, now, w)
	bodyH := d.bodyHeight(len(out), h)
	// The viewport's offset, clamped again in case the body changed since
	// measure; the lines are sliced here rather than by vp.View, which
	// would re-measure and re-pad the picture's escapes on every frame.
	start := min(d.vp.YOffset(), max(len(out)-bodyH, 0))
	overflow := bodyH < h
	all := out
	out = out[start:min(start+bodyH, len(out))]
	blank := strings.Repeat(" ", w)
	for len(out) < bodyH {
		out = append(out, blank)
	}
	if overflow {
		// from the offset shown, as viewport.ScrollPercent computes it, so
		// a resize not yet measured cannot show a stale figure
		pct := 100 * start / max(len(all)-bodyH, 1)
		out = append(out, padRight(s.muted.Render(ansi.Truncate(fmt.Sprintf("── %d%% · j/k scroll", pct), w, "…")), w))
	}
	return out
}

// body is every line of the detail laid out at width w, the picture's
// lines included, each padded to w.
func (d detailModel) body(s *styles, now time.Time, w int) []string {
	content := d.content(s, now)
	out := make([]string, 0, len(content)+32)
	for _, l := range content {
		if l == previewMarker {
			out = append(out, d.previewLines(s, w)...)
			continue
		}
		out = append(out, padRight(l, w))
	}
	return out
}

// previewLines are the picture's lines padded to w. Their width is known
// from the rendering, so the escape-heavy half-block lines are never
// measured again.
func (d detailModel) previewLines(s *styles, w int) []string {
	img, ok := d.firstImage()
	one := func(l string) []string { return []string{padRight(ansi.Truncate(l, w, "…"), w)} }
	switch {
	case !ok && d.req.Status == app.StatusCompleted && d.loadedID == "":
		return one(s.muted.Render("loading images…"))
	case !ok:
		return nil
	case s.noColor:
		return one(s.muted.Render(fmt.Sprintf("[image %dx%d — press o to open, y to copy its path]", img.Width, img.Height)))
	case d.preview == nil:
		return one(s.muted.Render("rendering preview…"))
	case d.preview.err != nil:
		return one(s.err.Render("preview: " + d.preview.err.Error()))
	}
	p := d.preview
	if p.cols > w {
		return one(s.muted.Render("(the pane is too narrow for the picture: press o to open it)"))
	}
	pad := strings.Repeat(" ", w-p.cols)
	var lines []string
	if d.inlineImages && p.inline != "" {
		lines = strings.Split(placeholderBlock(p.cols, p.rows), "\n")
	} else {
		lines = strings.Split(p.cells, "\n")
	}
	for i := range lines {
		lines[i] += pad
	}
	return lines
}

// content is every logical line of the detail, cut to the pane width, with
// previewMarker where the picture goes.
func (d detailModel) content(s *styles, now time.Time) []string {
	r := d.req
	w := d.width
	var out []string
	add := func(l string) { out = append(out, ansi.Truncate(l, w, "…")) }
	field := func(label, value string) {
		if value == "" {
			return
		}
		add(s.label.Render(fmt.Sprintf("%-10s", label)) + " " + value)
	}
	if d.asBatch && d.batch != nil {
		// a batch row: the batch and its overall state head the pane
		st := batchState(*d.batch)
		add(s.bold.Render("Batch "+d.batch.ID) + "  " + s.status[st].Render(statusIcon(st, d.frame)+" "+statusLabel(st)))
	} else {
		add(s.bold.Render("Request "+r.ID) + "  " + s.status[r.Status].Render(statusIcon(r.Status, d.frame)+" "+statusLabel(r.Status)))
	}
	for i, l := range wrap(safe(r.Params.Prompt), w-11) {
		label := "Prompt"
		if i > 0 {
			label = ""
		}
		add(s.label.Render(fmt.Sprintf("%-10s", label)) + " " + l)
	}
	field("Negative", ansi.Truncate(oneLine(safe(r.Params.NegativePrompt)), w-11, "…"))
	field("Model", safe(r.Params.Model))
	field("Size", fmt.Sprintf("%s (%s)", r.Params.Resolution(), r.Params.AspectRatio))
	field("Seed", fmt.Sprintf("%d", r.Params.Seed))
	field("By", safe(r.RequestedBy))
	field("Created", fmtTime(r.CreatedAt, now))
	if r.SentAt != nil {
		field("Accepted", fmtTime(*r.SentAt, now))
	}
	if r.CompletedAt != nil {
		field("Finished", fmtTime(*r.CompletedAt, now))
	}
	field("Execution", safe(r.ExecutionID))
	if r.SendAttempts > 1 && !strings.Contains(r.ErrorMessage, "attempt") {
		// the error text counts the POSTs of the last send itself
		field("Sends", fmt.Sprintf("%d", r.SendAttempts))
	}
	field("Retry of", r.RetryOf)
	field("Batch", d.batchLine(s))
	for _, l := range d.batchRequestLines(s, w) {
		add(l)
	}
	odoo := string(r.SyncState)
	if d.odooOff {
		odoo = "sync off (odoo.url is not set)"
	} else if r.OdooID > 0 {
		odoo = fmt.Sprintf("#%d · %s", r.OdooID, r.SyncState)
	}
	field("Odoo", odoo)
	if r.ErrorCode != "" || r.ErrorMessage != "" {
		add("")
		add(s.err.Render("Error " + safe(r.ErrorCode)))
		for _, l := range wrap(safe(r.ErrorMessage), w-2) {
			add("  " + l)
		}
		if h := errorHint(r.Status, r.ErrorCode); h != "" {
			for i, l := range wrap(h, w-8) {
				prefix := "  hint: "
				if i > 0 {
					prefix = "        "
				}
				add(s.warn.Render(prefix + l))
			}
		}
	}
	for _, l := range d.n8nRunLines(s, w) {
		add(l)
	}
	if d.err != nil {
		add(s.err.Render("cannot read details: " + errText(d.err)))
	}
	if len(d.images) > 0 || r.Status == app.StatusCompleted {
		add("")
		label := "Image"
		if n := len(d.images); n > 1 {
			label = fmt.Sprintf("Images (%d, first shown)", n)
		}
		if img, ok := d.firstImage(); ok {
			label += fmt.Sprintf("  %dx%d %s  o open · y copy path", img.Width, img.Height, img.MimeType)
		}
		add(s.label.Render(label))
		out = append(out, previewMarker)
	}
	if len(d.activity) > 0 {
		add("")
		add(s.label.Render("Timeline"))
		for i := len(d.activity) - 1; i >= 0; i-- { // oldest first reads as a story
			a := d.activity[i]
			st := s.muted
			switch a.Level {
			case app.LevelError:
				st = s.err
			case app.LevelWarn:
				st = s.warn
			}
			add(s.muted.Render(a.CreatedAt.Local().Format("15:04:05")) + " " + st.Render(fmt.Sprintf("%-17s", safe(a.Kind))) + " " + oneLine(safe(a.Message)))
		}
	}
	return out
}

// fmtTime is local time with its age; UTC is in `status --json` and the
// logs, and the help says so.
func fmtTime(t, now time.Time) string {
	age := relativeAge(now, t)
	if age == "now" {
		return t.Local().Format("2006-01-02 15:04:05 MST") + " (just now)"
	}
	return t.Local().Format("2006-01-02 15:04:05 MST") + " (" + age + " ago)"
}

// errorHint says what to do about a stored error code (README
// troubleshooting has the long form).
func errorHint(st app.Status, code string) string {
	switch code {
	case "n8n_auth":
		return "n8n refused the API key: set it with `influencegen secrets set n8n-api-key` and check n8n.api_key_header matches the workflow's Header Auth credential."
	case "n8n_webhook_not_registered":
		return "the workflow is not active in n8n: activate it, or use the /webhook-test/ URL while editing."
	case "n8n_rejected_payload":
		return "the workflow rejected the body: check its Webhook node expects JSON."
	case "n8n_unreachable":
		return "n8n could not be reached: check n8n.webhook_url and the network, then press r to retry."
	case "image_unavailable", "image_fetch_failed":
		return "the image URL could not be fetched: allow its host in callback.allow_image_hosts if it is private."
	case "provider_error":
		return "the image provider behind n8n failed (quota, content policy or an outage): see the n8n execution log, then R remixes or r retries it."
	case "image_invalid", "image_too_large":
		return "n8n sent something that is not a usable image: check the workflow's output node."
	}
	if st == app.StatusTimedOut {
		return "n8n never called back: check the workflow's callback URL and token, the public URL and the tunnel (a → listener)."
	}
	if st == app.StatusInitiationFailed {
		return "press r to send it again with the same id."
	}
	return ""
}

// wrap breaks s into lines of at most width cells.
func wrap(s string, width int) []string {
	if width < 8 {
		width = 8
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	return strings.Split(ansi.Wrap(oneLineKeepBreaks(s), width, ""), "\n")
}

func oneLineKeepBreaks(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\t", " ")
}
