package ui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
)

// footerKeyMap is a screen's keymap as the footer sees it.
type footerKeyMap interface {
	help.KeyMap
	Essential() []key.Binding
}

// footerView is a status line (a flash message, "submitting…") and the
// current screen's keys. It drops the least important keys first and never
// the essential ones (the way out, help).
func (m Model) footerView() string {
	s := m.styles
	status := ""
	switch {
	case m.screen == screenComposer && m.composer.submitting:
		status = s.flash.Render("submitting… (keys typed now are ignored)")
	case m.flashBox:
		status = s.muted.Render("(message above: any key closes it)")
	case m.flash != "" && m.flashErr:
		status = s.flashErr.Render(safe(m.flash))
	case m.undoStatus() != "" && m.screen != screenComposer:
		status = s.flash.Render(m.undoStatus())
	case m.flash != "":
		status = s.flash.Render(safe(m.flash))
	}
	return fitLines(status+"\n"+m.memo.shortHelp(m.styles, m.help, m.footerKeys(), m.width), m.width, footerLines)
}

// footerKeys is the keymap of whatever owns the keyboard now.
func (m Model) footerKeys() footerKeyMap {
	switch {
	case m.confirm != nil:
		return m.confirm.keys
	case m.screen == screenComposer && m.composer.picker != nil:
		return m.composer.picker.keys
	case m.screen == screenComposer:
		return m.composer.keys
	case m.screen == screenAdmin && m.admin.mode == adminSetting:
		return m.admin.inputKeys
	case m.screen == screenAdmin:
		return m.admin.keys
	case m.screen == screenActivity:
		return m.activity.keys
	case m.screen == screenHelp:
		return m.helpKeys
	case m.screen == screenTeam:
		return m.team.keys
	case m.curationScreen():
		return m.curationFooterKeys()
	case m.list.searching:
		return m.searchKeys
	case m.screen == screenDetail || m.focus == focusDetail:
		return m.detailKeys
	}
	return m.listKeys
}

func (k confirmKeys) Essential() []key.Binding { return []key.Binding{k.Keep} }
func (k helpKeys) Essential() []key.Binding    { return []key.Binding{k.Close} }

// fitShortHelp renders the enabled essential keys and as many of the others
// (in their order of importance) as fit in width.
func fitShortHelp(h help.Model, km footerKeyMap, width int) string {
	h.SetWidth(0) // measure untruncated; this function does the fitting
	var essential []key.Binding
	for _, b := range km.Essential() {
		if b.Enabled() {
			essential = append(essential, b)
		}
	}
	chosen := []key.Binding{}
	for _, b := range km.ShortHelp() {
		if !b.Enabled() {
			continue
		}
		try := append(append(append([]key.Binding{}, chosen...), b), essential...)
		if lipgloss.Width(h.ShortHelpView(try)) > width {
			break
		}
		chosen = append(chosen, b)
	}
	return h.ShortHelpView(append(chosen, essential...))
}
