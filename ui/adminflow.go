package ui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/influencegen/influencegen/app"
)

// Admin and activity screens: the root performs the actions (they need the
// backend); the children render and edit their own state.

func (m Model) openAdmin() (Model, tea.Cmd) {
	if !app.MayAdmin(m.ctx) {
		m.flash, m.flashErr = "the admin screen is for admins: ask one to change secrets, rotate the token or test Odoo", true
		return m, nil
	}
	m.screen = screenAdmin
	m.admin = m.admin.leave()
	m.admin.now = m.b.Clock.Now()
	m.admin.erpChecked, m.admin.notice = false, ""
	return m, tea.Batch(loadSecretsCmd(m.ctx, m.b.Secrets), loadHeaderCmd(m.ctx, m.b))
}

func (m Model) closeAdmin() Model {
	m.admin = m.admin.leave()
	m.screen = screenMain
	return m
}

func (m Model) handleAdminKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	a := m.admin
	switch a.mode {
	case adminSetting:
		switch msg.String() {
		case "esc":
			m.admin = a.leave()
			m.admin.notice, m.admin.noticeErr = "not changed", false
			return m, nil
		case "enter":
			value := a.input.Value()
			name := a.settingName
			m.admin = a.leave()
			if value == "" {
				m.admin.notice, m.admin.noticeErr = "empty value: "+name+" not changed", true
				return m, nil
			}
			m.admin.notice, m.admin.noticeErr = "saving "+name+"…", false
			return m, setSecretCmd(m.ctx, m.b.Secrets, name, value)
		}
		var cmd tea.Cmd
		m.admin, cmd = a.Update(msg)
		return m, cmd
	case adminConfirmRotate:
		switch msg.String() {
		case "y":
			m.admin.mode, m.admin.notice, m.admin.noticeErr = adminBrowse, "rotating…", false
			return m, rotateTokenCmd(m.ctx, m.b.Secrets, m.b.TokenGrace)
		case "n", "esc":
			m.admin.mode, m.admin.notice, m.admin.noticeErr = adminBrowse, "token not rotated", false
		}
		return m, nil
	case adminShowToken:
		if key.Matches(msg, a.keys.Copy) {
			m.admin.copied = true
			return m, tea.SetClipboard(a.token)
		}
		// any other key hides the token for good
		m.admin = a.leave()
		return m, nil
	}
	switch {
	case key.Matches(msg, a.keys.Close), msg.String() == "a":
		return m.closeAdmin(), nil
	case msg.String() == "q":
		return m, tea.Quit
	case msg.String() == "?":
		m.back, m.screen = screenAdmin, screenHelp
		return m, nil
	case key.Matches(msg, a.keys.Set):
		if m.b.Secrets == nil {
			return m, nil
		}
		var cmd tea.Cmd
		m.admin, cmd = a.startSetting()
		return m, cmd
	case key.Matches(msg, a.keys.Rotate):
		if m.b.Secrets == nil {
			return m, nil
		}
		m.admin.mode, m.admin.notice = adminConfirmRotate, ""
		return m, nil
	case key.Matches(msg, a.keys.TestOdoo):
		m.admin.erpChecking, m.admin.erpChecked = true, false
		return m, checkERPCmd(m.ctx, m.b.ERP, m.b.Clock)
	case key.Matches(msg, a.keys.Refresh):
		m.admin.now = m.b.Clock.Now()
		return m, tea.Batch(loadSecretsCmd(m.ctx, m.b.Secrets), loadHeaderCmd(m.ctx, m.b))
	}
	var cmd tea.Cmd
	m.admin, cmd = a.Update(msg)
	return m, cmd
}

func (m Model) handleSecretsLoaded(msg secretsLoadedMsg) (Model, tea.Cmd) {
	var cmd tea.Cmd
	m.admin, cmd = m.admin.Update(msg)
	return m, cmd
}

func (m Model) handleSecretSet(msg secretSetMsg) (Model, tea.Cmd) {
	if msg.err != nil {
		m.admin.notice, m.admin.noticeErr = "could not set "+msg.name+": "+app.ErrorMessage(msg.err), true
		return m, nil
	}
	m.admin.notice, m.admin.noticeErr = msg.name+" saved", false
	return m, loadSecretsCmd(m.ctx, m.b.Secrets)
}

func (m Model) handleTokenRotated(msg tokenRotatedMsg) (Model, tea.Cmd) {
	if msg.err != nil {
		m.admin.notice, m.admin.noticeErr = "rotation failed: "+app.ErrorMessage(msg.err), true
		return m, nil
	}
	m.admin.mode, m.admin.token, m.admin.tokenExpires, m.admin.copied = adminShowToken, msg.token, msg.expires, false
	m.admin.keys.Copy.SetEnabled(true)
	m.admin.notice = ""
	m.admin.now = m.b.Clock.Now()
	return m, loadSecretsCmd(m.ctx, m.b.Secrets)
}

func (m Model) handleERPChecked(msg erpCheckedMsg) (Model, tea.Cmd) {
	m.admin.erpChecking, m.admin.erpChecked, m.admin.erpErr, m.admin.erpAt = false, true, msg.err, msg.at
	m.admin.erpCheck = msg.check
	return m, nil
}

func (m Model) handleActivityKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.activity.keys
	switch {
	case key.Matches(msg, k.Close):
		m.screen = screenMain
		return m, nil
	case msg.String() == "q":
		return m, tea.Quit
	case msg.String() == "?":
		m.back, m.screen = screenActivity, screenHelp
		return m, nil
	case key.Matches(msg, k.Refresh):
		return m, loadActivityCmd(m.ctx, m.b.Store)
	}
	var cmd tea.Cmd
	m.activity, cmd = m.activity.Update(msg)
	return m, cmd
}

func (m Model) handleActivityLoaded(msg activityLoadedMsg) (Model, tea.Cmd) {
	var cmd tea.Cmd
	m.activity, cmd = m.activity.Update(msg)
	return m, cmd
}
