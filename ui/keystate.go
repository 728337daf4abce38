package ui

import (
	"github.com/influencegen/influencegen/app"
)

// refreshKeys enables exactly the bindings that can act in the state the
// last message left: the footer and the help then never offer a dead key.
func (m Model) refreshKeys() Model {
	r, ok := m.list.selected()
	_, hasImage := m.detail.firstImage()
	hasImage = hasImage && ok && m.detail.has && m.detail.req.ID == r.ID
	for _, k := range []*requestKeys{&m.listKeys.requestKeys, &m.detailKeys.requestKeys} {
		k.Retry.SetEnabled(ok && retryable(r.Status))
		k.Cancel.SetEnabled(ok && !r.Status.Final())
		k.Remix.SetEnabled(ok)
		k.ReuseSeed.SetEnabled(ok)
		k.Delete.SetEnabled(ok)
		k.Open.SetEnabled(hasImage)
		k.CopyPath.SetEnabled(hasImage)
		k.Undo.SetEnabled(m.undoLeft() > 0)
	}
	m.listKeys.Detail.SetEnabled(ok)
	m.listKeys.Focus.SetEnabled(ok)
	m = m.refreshBatchKeys()

	a := &m.admin.keys
	secrets := m.b.Secrets != nil
	name := m.admin.selectedName()
	a.Set.SetEnabled(secrets && name != "" && name != app.SecretCallbackTokenPrevious)
	a.Rotate.SetEnabled(secrets)
	a.TestOdoo.SetEnabled(m.b.ERP != nil && m.b.Config.OdooEnabled())

	m.team = m.team.withKeys(m.b.Team != nil)

	c := &m.composer.keys
	picker := m.composer.focus == fieldModel || m.composer.focus == fieldPreset
	c.Cycle.SetEnabled(picker)
	c.HistoryPrev.SetEnabled(len(m.composer.history) > 0)
	c.HistoryNext.SetEnabled(len(m.composer.history) > 0 && m.composer.histPos >= 0)
	c.Submit.SetEnabled(!m.composer.submitting)
	return m.refreshCurationKeys()
}

// retryable mirrors the service's rule: a refused send is re-sent with the
// same id; a failed or timed-out request is copied into a new one.
func retryable(st app.Status) bool {
	return st == app.StatusInitiationFailed || st == app.StatusFailed || st == app.StatusTimedOut
}
