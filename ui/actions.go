package ui

import (
	"context"
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/influencegen/influencegen/app"
)

// Destructive actions ask first, through the one confirm component, and
// look again when the answer comes: the world may have moved meanwhile.
// Delete and cancel do not ask: they act at once and can be undone
// (undo.go).

const (
	actionRotate    = "rotate"
	actionSetSecret = "set secret"
)

func (m Model) askRotate() (Model, tea.Cmd) {
	q := fmt.Sprintf("Rotate the callback token? A new token is made now; the current one stays valid as callback-token-previous for %s, then n8n must send the new one.", m.b.TokenGrace)
	if m.canPushToN8N() {
		q += " It is also pushed to n8n's callback credential (value only), so runs started after it use it."
	} else {
		q += " You paste it into n8n yourself (set n8n-admin-key to have it pushed)."
	}
	return m.ask(actionRotate, app.SecretCallbackToken, q, "rotate")
}

func (m Model) askSetSecret(name string) (Model, tea.Cmd) {
	q := fmt.Sprintf("Replace %s with the value you typed? Whatever uses the old value stops working at once.", name)
	return m.ask(actionSetSecret, name, q, name)
}

func (m Model) ask(action, target, question, word string) (Model, tea.Cmd) {
	c, cmd := newConfirm(action, target, question, word, m.styles)
	m.confirm = c
	return m, cmd
}

func (m Model) handleConfirmKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	c := m.confirm
	switch {
	case key.Matches(msg, c.keys.Keep):
		m.confirm = nil
		m = m.keepAfterConfirm(c.action, c.target)
		return m, nil
	case key.Matches(msg, c.keys.Confirm):
		if !c.answered() {
			c.wrong = true
			return m, nil
		}
		m.confirm = nil
		return m.confirmed(c.action, c.target)
	}
	var cmd tea.Cmd
	*m.confirm, cmd = c.Update(msg)
	return m, cmd
}

func (m Model) keepAfterConfirm(action, target string) Model {
	switch action {
	case actionRotate:
		m.admin.notice, m.admin.noticeErr = "token not rotated", false
	case actionSetSecret:
		m.admin = m.admin.leave()
		m.admin.notice, m.admin.noticeErr = target+" not changed", false
	default:
		m.flash, m.flashErr = "kept "+shortID(target), false
	}
	return m
}

// confirmed runs the action, after re-checking what the question assumed.
func (m Model) confirmed(action, target string) (Model, tea.Cmd) {
	switch action {
	case actionRotate:
		m.admin.notice, m.admin.noticeErr = "rotating…", false
		var push func(context.Context) (app.N8NAdmin, error)
		if m.canPushToN8N() {
			m.admin.notice = "rotating and pushing to n8n…"
			push = m.b.N8NAdmin
		}
		return m, rotateTokenCmd(m.ctx, m.b.Secrets, m.b.Store, m.b.Clock, m.b.TokenGrace, push)
	case actionSetSecret:
		value := m.admin.pending
		m.admin = m.admin.leave()
		m.admin.notice, m.admin.noticeErr = "saving "+target+"…", false
		return m, setSecretCmd(m.ctx, m.b.Secrets, m.b.Store, m.b.Clock, target, value)
	}
	m.flash, m.flashErr = action+" "+shortID(target)+"…", false
	return m, actionCmd(m.ctx, m.b.Service, action, target)
}

// handleInterrupt is ctrl+c: it quits at once unless a draft would be
// lost, in which case a second ctrl+c in a row is the answer.
func (m Model) handleInterrupt() (Model, tea.Cmd) {
	if !m.composer.hasDraft() || m.quitArmed {
		return m, quitCmd()
	}
	m.quitArmed = true
	m.flash, m.flashErr = "the composer holds an unsent draft: ctrl+c again quits and loses it; any other key keeps it", true
	return m, nil
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
