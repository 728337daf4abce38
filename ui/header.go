package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/influencegen/influencegen/app"
)

// headerModel is the two status lines at the top.
type headerModel struct {
	width    int
	profile  string
	demo     bool
	memory   bool // secrets kept in memory only
	loaded   bool
	counts   map[app.Status]int
	outbox   app.OutboxStats
	odoo     bool
	n8nError *app.Activity // the latest n8n outcome, when it was an error
	listener ListenerStatus
	curation app.CurationCounts // favourites and verdicts (curationPart)
	err      error
	// the shared queue (odoo.accept_requests): Odoo requests no host took
	queueShown   bool
	queueWaiting int
	queueErr     error
}

const headerHeight = 2

func (h *headerModel) SetSize(w int) { h.width = w }

func (h headerModel) apply(msg headerLoadedMsg) headerModel {
	h.loaded, h.err = true, msg.err
	h.outbox, h.odoo, h.n8nError, h.listener = msg.outbox, msg.odoo, msg.n8nError, msg.listener
	h.curation = msg.curation
	return h
}

// headerPart is one piece of a header line: its renderings from longest
// to shortest ("" drops it) and how much it matters. When a line is too
// wide, the least important part steps down first.
type headerPart struct {
	variants []string
	priority int
	glue     bool // joined to the previous part by a space, not the separator
}

func part(priority int, variants ...string) headerPart {
	return headerPart{variants: variants, priority: priority}
}

// fitParts joins the parts with sep, shortening the least important ones
// until the line fits in width.
func fitParts(parts []headerPart, sep string, width int) string {
	level := make([]int, len(parts))
	render := func() string {
		var b strings.Builder
		for i, p := range parts {
			v := p.variants[level[i]]
			if v == "" {
				continue
			}
			if b.Len() > 0 {
				if p.glue {
					b.WriteByte(' ')
				} else {
					b.WriteString(sep)
				}
			}
			b.WriteString(v)
		}
		return b.String()
	}
	for {
		line := render()
		if lipgloss.Width(line) <= width {
			return line
		}
		pick := -1
		for i, p := range parts {
			if level[i] < len(p.variants)-1 && (pick < 0 || p.priority < parts[pick].priority) {
				pick = i
			}
		}
		if pick < 0 {
			return truncate(line, width)
		}
		level[pick]++
	}
}

func (h headerModel) View(s *styles, now time.Time) string {
	return h.line1(s) + "\n" + h.line2(s, now)
}

func (h headerModel) line1(s *styles) string {
	parts := []headerPart{part(100, s.title.Render("InfluenceGen")), part(40, s.text.Render(h.profile), "")}
	if h.demo {
		parts = append(parts, part(70, s.demo.Render("DEMO")))
	}
	if h.memory {
		parts = append(parts, part(50, s.warn.Render("secrets in memory (no Secret Service)"), s.warn.Render("secrets in memory"), ""))
	}
	l := h.listener
	if l.Address == "" {
		parts = append(parts, part(60, s.muted.Render("listener off")))
	} else {
		where := []string{s.text.Render(l.Address), ""}
		if l.PublicURL != "" {
			where = []string{s.text.Render(l.Address) + s.muted.Render(" ← ") + s.text.Render(l.PublicURL), s.text.Render(l.PublicURL), ""}
		}
		parts = append(parts, part(30, where...))
		var mark headerPart
		switch {
		case !l.Checked:
			mark = part(80, s.muted.Render("(self-check pending)"), s.muted.Render("…"))
		case l.SelfCheck == nil:
			mark = part(90, s.ok.Render("✓ reachable"), s.ok.Render("✓"))
		default:
			mark = part(90, s.err.Render("✗ not reachable"), s.err.Render("✗"))
		}
		mark.glue = true
		parts = append(parts, mark)
	}
	if l.Warning != "" {
		// The full text is in the admin panel; the header only has room to alarm.
		parts = append(parts, part(85, s.err.Render("⚠ n8n cannot reach this callback URL (see a)"), s.err.Render("⚠ see a")))
	}
	if l.Exposed != "" {
		// A bind beyond loopback is a choice the user must see every time.
		parts = append(parts, part(88, s.err.Render("⚠ listening beyond this machine"), s.err.Render("⚠ exposed")))
	}
	return fitParts(parts, s.muted.Render(" · "), h.width)
}

func (h headerModel) line2(s *styles, now time.Time) string {
	if h.err != nil {
		return truncate(s.err.Render("status unavailable: "+errText(h.err)), h.width)
	}
	var full, short []string
	for _, st := range app.Statuses {
		if n := h.counts[st]; n > 0 {
			full = append(full, s.status[st].Render(fmt.Sprintf("%d %s", n, statusLabel(st))))
			short = append(short, s.status[st].Render(fmt.Sprintf("%s%d", statusIcon(st, 0), n)))
		}
	}
	if len(full) == 0 {
		full, short = []string{s.muted.Render("no requests")}, []string{s.muted.Render("none")}
	}
	parts := []headerPart{
		part(50, strings.Join(full, s.muted.Render(" · ")), strings.Join(short, " ")),
		part(60, h.odooView(s), ""),
	}
	if h.queueShown {
		parts = append(parts, h.queuePart(s))
	}
	if p, ok := curationPart(s, h.curation); ok {
		parts = append(parts, p)
	}
	if e := h.n8nError; e != nil {
		msg := oneLine(app.TerminalSafe(e.Message))
		age := relativeAge(now, e.CreatedAt)
		parts = append(parts, part(70,
			s.err.Render("n8n: "+msg+" ("+age+" ago)"),
			s.err.Render("n8n: "+clipRunes(msg, 30)+" ("+age+")"),
			s.err.Render("n8n error ("+age+")")))
	}
	return fitParts(parts, s.muted.Render("  │  "), h.width)
}

func (h headerModel) odooView(s *styles) string {
	switch {
	case !h.odoo:
		return s.muted.Render("Odoo off")
	case h.outbox.Parked > 0:
		return s.err.Render(fmt.Sprintf("Odoo errors %d", h.outbox.Parked))
	case h.outbox.Pending > 0:
		return s.warn.Render(fmt.Sprintf("Odoo pending %d", h.outbox.Pending))
	}
	return s.ok.Render("Odoo ok")
}

// clipRunes cuts s to n characters with an ellipsis.
func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// queuePart is "Odoo queue: N waiting": requests made in Odoo that no host
// has claimed. It outranks the full state counts (they shorten first) and
// steps down before Odoo's sync line.
func (h headerModel) queuePart(s *styles) headerPart {
	if h.queueErr != nil {
		return part(55, s.warn.Render("Odoo queue: unknown ("+clipRunes(errText(h.queueErr), 40)+")"), s.warn.Render("Odoo queue: ?"), "")
	}
	st := s.muted
	if h.queueWaiting > 0 {
		st = s.warn
	}
	n := itoa(h.queueWaiting)
	return part(55, st.Render("Odoo queue: "+n+" waiting"), st.Render("queue "+n), "")
}
