package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

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
	n8nError string
	listener ListenerStatus
	err      error
}

const headerHeight = 2

func (h *headerModel) SetSize(w int) { h.width = w }

func (h headerModel) apply(msg headerLoadedMsg) headerModel {
	h.loaded, h.err = true, msg.err
	if msg.counts != nil {
		h.counts = msg.counts
	}
	h.outbox, h.odoo, h.n8nError, h.listener = msg.outbox, msg.odoo, msg.n8nError, msg.listener
	return h
}

func (h headerModel) View(s styles) string {
	line1 := s.title.Render("InfluenceGen") + s.muted.Render(" · ") + s.text.Render(h.profile)
	if h.demo {
		line1 += " " + s.demo.Render("DEMO")
	}
	if h.memory {
		line1 += " " + s.warn.Render("secrets in memory (no Secret Service)")
	}
	line1 += s.muted.Render(" · ") + h.listenerView(s)

	var parts []string
	for _, st := range app.Statuses {
		if n := h.counts[st]; n > 0 {
			parts = append(parts, s.status[st].Render(fmt.Sprintf("%d %s", n, statusLabel(st))))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, s.muted.Render("no requests"))
	}
	line2 := strings.Join(parts, s.muted.Render(" · ")) + s.muted.Render("  │  ") + h.odooView(s)
	if h.n8nError != "" {
		line2 += s.muted.Render("  │  ") + s.err.Render("n8n: "+oneLine(h.n8nError))
	}
	if h.err != nil {
		line2 = s.err.Render("status unavailable: " + app.ErrorMessage(h.err))
	}
	return ansi.Truncate(line1, h.width, "…") + "\n" + ansi.Truncate(line2, h.width, "…")
}

func (h headerModel) listenerView(s styles) string {
	l := h.listener
	if l.Address == "" {
		return s.muted.Render("listener off")
	}
	out := s.text.Render(l.Address)
	if l.PublicURL != "" {
		out += s.muted.Render(" ← ") + s.text.Render(l.PublicURL)
	}
	switch {
	case !l.Checked:
		out += " " + s.muted.Render("(self-check pending)")
	case l.SelfCheck == nil:
		out += " " + s.ok.Render("✓ reachable")
	default:
		out += " " + s.err.Render("✗ not reachable")
	}
	if l.Warning != "" {
		// The full text is in the admin panel; the header only has room to alarm.
		out += " " + s.err.Render("⚠ n8n cannot reach this callback URL (see a)")
	}
	if l.Exposed != "" {
		out += " " + s.err.Render("⚠ listening beyond this machine")
	}
	return out
}

func (h headerModel) odooView(s styles) string {
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
