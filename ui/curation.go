package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/influencegen/influencegen/app"
)

// The pick of the keepers from the grid and the viewer: a star (f), a
// verdict (+ approve, - reject, 0 back to undecided: a is the admin
// screen's key in the list, so the verdict keys are symbols), "more like
// this" (V: four seeds after the picture's; R: four fresh seeds) and
// export of the approved pictures (E).

// decisionKeys act on the selected picture, the same in grid and viewer.
type decisionKeys struct {
	Favorite, Approve, Reject, Undecide, Vary, Reroll key.Binding
}

func newDecisionKeys() decisionKeys {
	return decisionKeys{
		Favorite: key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "★ favourite")),
		Approve:  key.NewBinding(key.WithKeys("+"), key.WithHelp("+", "approve")),
		Reject:   key.NewBinding(key.WithKeys("-"), key.WithHelp("-", "reject")),
		Undecide: key.NewBinding(key.WithKeys("0"), key.WithHelp("0", "undecided")),
		Vary:     key.NewBinding(key.WithKeys("V"), key.WithHelp("V", "vary ×4")),
		Reroll:   key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "re-roll ×4")),
	}
}

func (k *decisionKeys) setEnabled(has bool, img app.Image) {
	k.Favorite.SetEnabled(has)
	k.Approve.SetEnabled(has && img.Approval != app.ApprovalApproved)
	k.Reject.SetEnabled(has && img.Approval != app.ApprovalRejected)
	k.Undecide.SetEnabled(has && img.Approval != app.ApprovalUndecided && img.Approval != "")
	k.Vary.SetEnabled(has)
	k.Reroll.SetEnabled(has)
}

// handleDecisionKey runs f, +, -, 0, V and R on the selected picture.
func (m Model) handleDecisionKey(msg tea.KeyPressMsg, k decisionKeys) (Model, tea.Cmd, bool) {
	it, ok := m.cur.gallery.selected()
	if !ok {
		return m, nil, false
	}
	id := it.img.ID
	switch {
	case key.Matches(msg, k.Favorite):
		return m, favoriteCmd(m.ctx, m.b.Service, id, !it.img.Favorite), true
	case key.Matches(msg, k.Approve):
		return m, approvalCmd(m.ctx, m.b.Service, id, app.ApprovalApproved), true
	case key.Matches(msg, k.Reject):
		return m, approvalCmd(m.ctx, m.b.Service, id, app.ApprovalRejected), true
	case key.Matches(msg, k.Undecide):
		return m, approvalCmd(m.ctx, m.b.Service, id, app.ApprovalUndecided), true
	case key.Matches(msg, k.Vary):
		m.flash, m.flashErr = fmt.Sprintf("varying seed %d…", it.seed()), false
		return m, varyCmd(m.ctx, m.b.Service, id, false), true
	case key.Matches(msg, k.Reroll):
		m.flash, m.flashErr = "re-rolling with fresh seeds…", false
		return m, varyCmd(m.ctx, m.b.Service, id, true), true
	}
	return m, nil, false
}

func (m Model) handleImageDecided(msg imageDecidedMsg) (Model, tea.Cmd) {
	if msg.err != nil {
		m.flash, m.flashErr = msg.what+": "+errText(msg.err), true
		return m, nil
	}
	g := &m.cur.gallery
	items := make([]galleryItem, len(g.items)) // the previous model keeps its own
	copy(items, g.items)
	for i := range items {
		if items[i].img.ID == msg.img.ID {
			items[i].img = msg.img
		}
	}
	g.items = items
	m.headerDirty = true
	m.flash, m.flashErr = decisionFlash(msg), false
	return m, nil
}

func decisionFlash(msg imageDecidedMsg) string {
	seed := ""
	if msg.img.Seed != nil {
		seed = fmt.Sprintf(" (seed %d)", *msg.img.Seed)
	}
	switch msg.what {
	case "favourite":
		return "★ favourite" + seed
	case "unfavourite":
		return "star removed" + seed
	case string(app.ApprovalApproved):
		return "✓ approved" + seed + " — synced to Odoo through the outbox"
	case string(app.ApprovalRejected):
		return "✗ rejected" + seed
	}
	return "back to undecided" + seed
}

// handleVaried follows the new batch like a submit: one notification
// when it is done, the terminal's progress bar meanwhile.
func (m Model) handleVaried(msg variedMsg) (Model, tea.Cmd) {
	what := "vary"
	if msg.reroll {
		what = "re-roll"
	}
	if msg.err != nil {
		m.flash, m.flashErr = what+": "+errText(msg.err), true
		return m, nil
	}
	m.batches.add(msg.reqs)
	m.list = m.list.prepend(msg.reqs)
	m.headerDirty = true
	seeds := make([]string, 0, len(msg.reqs))
	for _, r := range msg.reqs {
		seeds = append(seeds, fmt.Sprint(r.Params.Seed))
	}
	m.flash, m.flashErr = fmt.Sprintf("%s: batch of %d queued (seeds %s)", what, len(msg.reqs), strings.Join(seeds, ", ")), false
	return m, tea.Batch(m.spinCmd(), m.batchSummariesCmd(msg.reqs))
}

// startExport exports the approved pictures of what the grid shows: the
// batch's, the request's, or every approved one from the gallery.
func (m Model) startExport() (Model, tea.Cmd) {
	g := m.cur.gallery
	q := app.ImageQuery{Approval: app.ApprovalApproved, RequestID: g.requestID, BatchID: g.batchID}
	if g.batchID != "" {
		q.RequestID = ""
	}
	m.flash, m.flashErr = "exporting the approved pictures…", false
	return m, exportCmd(m.ctx, m.b.Store, m.b.ExportDir, m.b.Clock.Now(), q)
}

func (m Model) handleExported(msg exportedMsg) (Model, tea.Cmd) {
	if msg.err != nil {
		m.flash, m.flashErr = "export: "+errText(msg.err), true
		return m, nil
	}
	if len(msg.res.Images) == 0 {
		m.flash, m.flashErr = "nothing to export: approve pictures with + first", true
		return m, nil
	}
	m.flash, m.flashErr = fmt.Sprintf("exported %s to %s (with %s)", plural(len(msg.res.Images), "picture"), msg.res.Dir, "manifest.json"), false
	return m, nil
}

// decisionMarks are a picture's star and verdict for captions.
func decisionMarks(img app.Image) string {
	var b strings.Builder
	if img.Favorite {
		b.WriteString("★")
	}
	switch img.Approval {
	case app.ApprovalApproved:
		b.WriteString("✓")
	case app.ApprovalRejected:
		b.WriteString("✗")
	}
	return b.String()
}

// curationPart is the header's "★ 3 · ✓ 2 approved" when anything is.
func curationPart(s *styles, c app.CurationCounts) (headerPart, bool) {
	if c.Favorites == 0 && c.Approved == 0 && c.Rejected == 0 {
		return headerPart{}, false
	}
	var full, short []string
	if c.Favorites > 0 {
		full = append(full, s.warn.Render(fmt.Sprintf("★ %d", c.Favorites)))
		short = append(short, s.warn.Render(fmt.Sprintf("★%d", c.Favorites)))
	}
	if c.Approved > 0 {
		full = append(full, s.ok.Render(fmt.Sprintf("✓ %d approved", c.Approved)))
		short = append(short, s.ok.Render(fmt.Sprintf("✓%d", c.Approved)))
	}
	if c.Rejected > 0 {
		full = append(full, s.muted.Render(fmt.Sprintf("✗ %d rejected", c.Rejected)))
		short = append(short, s.muted.Render(fmt.Sprintf("✗%d", c.Rejected)))
	}
	return part(55, strings.Join(full, s.muted.Render(" · ")), strings.Join(short, " ")), true
}
