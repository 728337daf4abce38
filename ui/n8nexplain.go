package ui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/influencegen/influencegen/app"
)

// The detail of a failed or timed-out request shows the n8n run behind
// it (its status, the failing node, n8n's message and a link to it in
// n8n's editor) when an n8n-admin-key is set, like `status ID`. The
// lookup is a Cmd through app.ExplainFailure, once per request id.

// explainCacheMax bounds the per-request cache; past it the cache starts
// over (a lookup is cheap to repeat, memory is not unbounded).
const explainCacheMax = 256

// n8nExplained is one request's lookup: under way, its answer, or that no
// n8n-admin-key is set.
type n8nExplained struct {
	loading bool
	noAdmin bool
	run     *app.N8NExecution
	err     error
}

// n8nExplainedMsg answers explainCmd.
type n8nExplainedMsg struct {
	id string
	n8nExplained
}

func explainable(st app.Status) bool { return st == app.StatusFailed || st == app.StatusTimedOut }

// explainSelected starts the lookup for the request in the detail when it
// failed or timed out and was not looked up yet.
func (m Model) explainSelected() (Model, tea.Cmd) {
	r := m.detail.req
	if m.b.N8NAdmin == nil || !m.detail.has || !explainable(r.Status) {
		return m, nil
	}
	if _, ok := m.detail.explained[r.ID]; ok {
		return m, nil
	}
	if m.detail.explained == nil || len(m.detail.explained) >= explainCacheMax {
		m.detail.explained = map[string]n8nExplained{}
	}
	m.detail.explained[r.ID] = n8nExplained{loading: true}
	return m, explainCmd(m.ctx, m.b.N8NAdmin, r)
}

func (m Model) handleN8NExplained(msg n8nExplainedMsg) (Model, tea.Cmd) {
	if m.detail.explained == nil {
		m.detail.explained = map[string]n8nExplained{}
	}
	m.detail.explained[msg.id] = msg.n8nExplained
	if msg.id == m.detail.req.ID {
		m.detail = m.detail.measure(m.styles, m.b.Clock.Now())
	}
	return m, nil
}

// forgetExplained drops every lookup: a new n8n-admin-key may explain
// what the old one (or none) could not.
func (m Model) forgetExplained() Model {
	m.detail.explained = map[string]n8nExplained{}
	return m
}

// n8nRunLines are the detail's lines about the n8n run, all of n8n's text
// made terminal-safe.
func (d detailModel) n8nRunLines(s *styles, w int) []string {
	x, ok := d.explained[d.req.ID]
	if !ok || !explainable(d.req.Status) {
		return nil
	}
	label := s.label.Render(fmt.Sprintf("%-10s", "n8n run")) + " "
	switch {
	case x.loading:
		return []string{"", label + s.muted.Render("looking it up in n8n…")}
	case x.noAdmin:
		return append([]string{""}, labelled(label, "set n8n-admin-key (a, then e on it) to see n8n's own account of this failure here", s.muted, w)...)
	case x.err != nil:
		return append([]string{""}, labelled(label, "not found: "+errText(x.err), s.err, w)...)
	case x.run == nil:
		return nil
	}
	r := x.run
	out := []string{"", label + safe(r.ID) + " " + s.status[app.StatusFailed].Render(safe(r.Status))}
	field := func(name, v string) {
		if v != "" {
			out = append(out, s.label.Render(fmt.Sprintf("%-10s", name))+" "+v)
		}
	}
	field("Node", safe(r.FailedNode))
	for i, l := range wrap(safe(r.Message), w-11) {
		name := "n8n says"
		if i > 0 {
			name = ""
		}
		field(name, l)
	}
	if r.EditorURL != "" {
		// on a line of its own: a link cut by the pane is no link
		out = append(out, s.label.Render("Open in n8n's editor:"), "  "+safe(r.EditorURL))
	}
	return out
}

// labelled wraps text beside label, the next lines indented under it.
func labelled(label, text string, st lipgloss.Style, w int) []string {
	var out []string
	for i, l := range wrap(text, w-11) {
		if i > 0 {
			label = strings.Repeat(" ", 11)
		}
		out = append(out, label+st.Render(l))
	}
	return out
}
