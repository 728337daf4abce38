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
		return m.handleSecretInputKey(msg)
	case adminShowToken:
		if key.Matches(msg, a.keys.Copy) {
			m.admin.copied = true
			return m, copyCmd(a.token)
		}
		// any other key hides the token for good
		m.admin = a.leave()
		return m, nil
	}
	switch {
	case key.Matches(msg, a.keys.Close):
		return m.closeAdmin(), nil
	case key.Matches(msg, a.keys.Quit):
		return m, quitCmd()
	case key.Matches(msg, a.keys.Help):
		return m.openHelp()
	case key.Matches(msg, a.keys.Set):
		var cmd tea.Cmd
		m.admin, cmd = a.startSetting()
		return m, cmd
	case key.Matches(msg, a.keys.Rotate):
		m.admin.notice = ""
		return m.askRotate()
	case key.Matches(msg, a.keys.CopyURL):
		url := a.callbackURL()
		m.admin.notice, m.admin.noticeErr = "copied "+url+" (OSC 52)", false
		return m, copyCmd(url)
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

// handleSecretInputKey edits the masked value; enter asks to confirm.
func (m Model) handleSecretInputKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	a := m.admin
	switch {
	case key.Matches(msg, a.inputKeys.Cancel):
		m.admin = a.leave()
		m.admin.notice, m.admin.noticeErr = "not changed", false
		return m, nil
	case key.Matches(msg, a.inputKeys.Save):
		if a.input.Value() == "" {
			name := a.settingName
			m.admin = a.leave()
			m.admin.notice, m.admin.noticeErr = "empty value: "+name+" not changed", true
			return m, nil
		}
		m.admin.pending = a.input.Value()
		m.admin.input.Reset()
		m.admin.input.Blur()
		return m.askSetSecret(a.settingName)
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
		m.admin.notice, m.admin.noticeErr = "could not set "+msg.name+": "+errText(msg.err), true
		return m, nil
	}
	m.admin.notice, m.admin.noticeErr = msg.name+" saved", false
	if msg.name == app.SecretN8NAdminKey {
		m = m.forgetExplained()
	}
	return m, loadSecretsCmd(m.ctx, m.b.Secrets)
}

func (m Model) handleTokenRotated(msg tokenRotatedMsg) (Model, tea.Cmd) {
	if msg.err != nil {
		m.admin.notice, m.admin.noticeErr = "rotation failed: "+errText(msg.err), true
		return m, nil
	}
	m.admin.mode, m.admin.token, m.admin.tokenExpires, m.admin.copied = adminShowToken, msg.token, msg.expires, false
	m.admin.pushed = msg.pushTried && msg.pushErr == nil
	m.admin.keys.Copy.SetEnabled(true)
	m.admin.notice, m.admin.noticeErr = "", false
	switch {
	case m.admin.pushed:
		m.admin.notice = "pushed to n8n credential for callback-token (fingerprint " + app.Fingerprint(msg.token) + "): runs started from now on send the new token; runs under way still use the previous one, valid until " +
			msg.expires.UTC().Format("2006-01-02 15:04 UTC") + "."
	case msg.pushTried:
		m.admin.notice, m.admin.noticeErr = "rotated, but not pushed to n8n: "+errText(msg.pushErr)+
			". Fix: paste the token above into n8n's callback credential (Header Auth value) before "+msg.expires.UTC().Format("15:04 UTC")+
			", or repair the n8n access (`influencegen n8n status`) and run `influencegen secrets rotate callback-token --push-n8n`.", true
	}
	m.admin.now = m.b.Clock.Now()
	return m, loadSecretsCmd(m.ctx, m.b.Secrets)
}

// canPushToN8N says a rotation from here also pushes the token to n8n:
// an n8n admin is wired and the secrets table shows an n8n-admin-key.
func (m Model) canPushToN8N() bool {
	return m.b.N8NAdmin != nil && m.admin.n8nKeySet()
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
	case key.Matches(msg, k.Help):
		return m.openHelp()
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
