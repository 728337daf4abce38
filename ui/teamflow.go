package ui

import (
	"fmt"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/influencegen/influencegen/app"
)

// The team scope's handlers: opening it, its keys, the polls and the
// images fetched on demand. Every read of Odoo is a Cmd (cmds.go).

// odooInterval is odoo.poll_interval: how often the team scope and the
// header's queue count read Odoo.
func (m Model) odooInterval() time.Duration {
	if d := m.b.Config.Odoo.PollInterval.D(); d > 0 {
		return d
	}
	return 5 * time.Second
}

// queueShown says the header counts the shared queue: odoo.accept_requests
// is on and the count is wired.
func (m Model) queueShown() bool {
	return m.b.Config.Odoo.AcceptRequests && m.b.Team != nil && m.b.Team.QueueWaiting != nil
}

// openTeam is T: the team scope, read from Odoo at once. Without Odoo the
// screen says so instead of showing an empty list.
func (m Model) openTeam() (Model, tea.Cmd) {
	m.screen = screenTeam
	m.team.detail = false
	if m.b.Team == nil || m.team.loading {
		return m, nil
	}
	m.team.loading = true
	return m, refreshTeamCmd(m.ctx, m.b.Team, m.b.Store)
}

func (m Model) handleTeamKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.team.keys
	switch {
	case key.Matches(msg, k.Quit):
		return m, quitCmd()
	case key.Matches(msg, k.Help):
		return m.openHelp()
	case key.Matches(msg, k.Back):
		return m.leaveTeam(), nil
	case key.Matches(msg, k.Up):
		m.team = m.team.moveBy(-1)
	case key.Matches(msg, k.Down):
		m.team = m.team.moveBy(1)
	case key.Matches(msg, k.Detail):
		return m.openTeamDetail()
	case key.Matches(msg, k.Refresh):
		return m.refreshTeam()
	case key.Matches(msg, k.Retry):
		r, _ := m.team.selected()
		m.flash, m.flashErr = "retry "+shortID(r.ID)+"…", false
		return m, actionCmd(m.ctx, m.b.Service, actionRetry, r.ID)
	case key.Matches(msg, k.Cancel):
		r, _ := m.team.selected()
		return m.ask(actionCancel, r.ID, fmt.Sprintf("Cancel request %s? n8n may still finish it; the result would be kept but the state stays cancelled.", shortID(r.ID)), "cancel")
	}
	return m, nil
}

// leaveTeam is esc: from a row's detail back to the team list, from the
// list back to the requests.
func (m Model) leaveTeam() Model {
	if m.team.detail {
		m.team.detail = false
		return m
	}
	m.screen = screenMain
	return m
}

func (m Model) refreshTeam() (Model, tea.Cmd) {
	if m.b.Team == nil || m.team.loading {
		return m, nil
	}
	m.team.loading = true
	return m, refreshTeamCmd(m.ctx, m.b.Team, m.b.Store)
}

// openTeamDetail shows the selected row and fetches its image from Odoo
// the first time (the image folder keeps it by sha256 after that).
func (m Model) openTeamDetail() (Model, tea.Cmd) {
	r, ok := m.team.selected()
	if !ok {
		return m, nil
	}
	m.team.detail, m.team.preview = true, nil
	if imgs, fetched := m.team.images[r.OdooID]; fetched && imgs.err == nil {
		return m, m.teamPreviewCmd(imgs)
	}
	if r.Images == 0 || m.b.Team == nil || m.b.Team.Images == nil {
		return m, nil
	}
	delete(m.team.images, r.OdooID) // "fetching…" again after a failure
	return m, fetchTeamImagesCmd(m.ctx, m.b.Team, r.OdooID)
}

func (m Model) handleTeamRefreshed(msg teamRefreshedMsg) (Model, tea.Cmd) {
	m.team = m.team.apply(msg)
	return m, nil
}

func (m Model) handleTeamImagesFetched(msg teamImagesFetchedMsg) (Model, tea.Cmd) {
	if m.team.images == nil {
		m.team.images = map[int64]teamImages{}
	}
	imgs := teamImages{files: msg.files, err: msg.err}
	m.team.images[msg.odooID] = imgs // a failed fetch shows its error and is tried again on the next open
	if r, ok := m.team.selected(); ok && m.team.detail && r.OdooID == msg.odooID {
		if msg.err != nil {
			m.flash, m.flashErr = "image of "+shortID(r.ID)+": "+errText(msg.err), true
			return m, nil
		}
		return m, m.teamPreviewCmd(imgs)
	}
	return m, nil
}

// teamPreviewCmd draws the first image as the detail draws a local one,
// in half blocks (the team detail is text, no inline graphics placement).
func (m *Model) teamPreviewCmd(imgs teamImages) tea.Cmd {
	if imgs.err != nil || len(imgs.files) == 0 || m.noColor || m.width == 0 {
		return nil
	}
	f := imgs.files[0]
	cols, rows := m.team.previewBox()
	k := previewKey{sha: f.SHA256, cols: cols, rows: rows, proto: protoHalfBlocks}
	if cached, ok := m.previews.get(k); ok {
		m.team.preview = &cached
		return nil
	}
	m.team.previewWant = k
	return renderPreviewCmd(m.ctx, m.previews, app.Image{Path: f.Path, SHA256: f.SHA256, Width: f.Width, Height: f.Height}, k)
}

// handleOdooPolled is the odoo.poll_interval tick: the open team scope
// reads what changed, the header counts the queue, and the timer re-arms.
func (m Model) handleOdooPolled() (Model, tea.Cmd) {
	cmds := []tea.Cmd{m.odooPollCmd()}
	if m.screen == screenTeam {
		var cmd tea.Cmd
		m, cmd = m.refreshTeam()
		cmds = append(cmds, cmd)
	}
	if m.queueShown() {
		cmds = append(cmds, countQueueCmd(m.ctx, m.b.Team))
	}
	return m, tea.Batch(cmds...)
}

func (m Model) handleQueueCounted(msg queueCountedMsg) (Model, tea.Cmd) {
	m.header.queueShown = true
	m.header.queueWaiting, m.header.queueErr = msg.waiting, msg.err
	return m, nil
}

// countQueueAtStart counts the shared queue once on start; the poll tick
// keeps it current.
func (m Model) countQueueAtStart() tea.Cmd {
	if !m.queueShown() {
		return nil
	}
	return countQueueCmd(m.ctx, m.b.Team)
}
