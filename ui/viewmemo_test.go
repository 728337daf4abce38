package ui

import (
	"testing"
)

// The remembered footer and help text are what a fresh rendering would
// give, in every state that changes them: a key enabled or disabled, its
// help text, the width, the theme.
func TestRememberedViewPartsFollowTheirInputs(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 160, 48)
	check := func(state string) {
		t.Helper()
		if got, want := m.memo.shortHelp(m.styles, m.help, m.footerKeys(), m.width), fitShortHelp(m.help, m.footerKeys(), m.width); got != want {
			t.Fatalf("%s: remembered footer\n%q\nfresh\n%q", state, got, want)
		}
		if got, want := m.helpContent(), m.renderHelpContent(); got != want {
			t.Fatalf("%s: remembered help text differs from a fresh one", state)
		}
	}
	check("first frame")
	before := m.memo.shortHelp(m.styles, m.help, m.footerKeys(), m.width)
	m.listKeys.Filter.SetEnabled(false)
	check("a key disabled")
	if m.memo.shortHelp(m.styles, m.help, m.footerKeys(), m.width) == before {
		t.Fatal("disabling a key did not change the footer: the check above proves nothing")
	}
	m.listKeys.Mine.SetEnabled(true)
	check("a key enabled")
	m.listKeys.Search.SetHelp("/", "find")
	check("a key's help text changed")
	m.width = 80
	check("narrower")
	m.styles = newStyles(false, false)
	m.help.Styles = m.styles.help
	check("light theme")
}
