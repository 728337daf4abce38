package ui

import (
	"strconv"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
)

// viewMemo keeps the last rendering of two view parts that are costly to
// lay out and rarely change: the footer's key help (fitShortHelp renders
// it once per key it tries) and the help screen's text (five full keymaps
// and a table). A dashboard draws the footer on every frame, and on a team
// host 16 of them do, so redoing that layout for every spinner tick was a
// fifth of each frame's cost. Each part is kept with everything it is built
// from: the styles by identity (they are rebuilt whole on a new
// background), the width, and the keys' help text and enabled state.
// Bubble Tea copies the model on every Update, so the memo sits behind a
// pointer; it is only used on the program's event loop.
type viewMemo struct {
	footer, help memoPart
}

type memoPart struct {
	styles *styles
	key    string
	text   string
}

// get returns the remembered text if styles and key match, else renders it.
func (p *memoPart) get(s *styles, key string, render func() string) string {
	if p.styles != s || p.key != key || p.styles == nil {
		p.styles, p.key, p.text = s, key, render()
	}
	return p.text
}

// shortHelp is fitShortHelp, remembered while its inputs stay the same.
func (v *viewMemo) shortHelp(s *styles, h help.Model, km footerKeyMap, width int) string {
	render := func() string { return fitShortHelp(h, km, width) }
	if v == nil {
		return render()
	}
	var b strings.Builder
	b.WriteString(strconv.Itoa(width))
	writeBindingsKey(&b, km.ShortHelp())
	writeBindingsKey(&b, km.Essential())
	return v.footer.get(s, b.String(), render)
}

// helpContent is the help screen's text, remembered while its inputs stay
// the same (the zone note in it changes each minute).
func (m Model) helpContent() string {
	if m.memo == nil {
		return m.renderHelpContent()
	}
	var b strings.Builder
	b.WriteString(strconv.Itoa(m.width))
	for _, km := range []help.KeyMap{m.listKeys, m.detailKeys, m.composer.keys, m.admin.keys, m.activity.keys} {
		for _, col := range km.FullHelp() {
			writeBindingsKey(&b, col)
		}
	}
	b.WriteString(zoneNote(m.b.Clock.Now()))
	return m.memo.help.get(m.styles, b.String(), m.renderHelpContent)
}

func writeBindingsKey(b *strings.Builder, bindings []key.Binding) {
	for _, k := range bindings {
		if !k.Enabled() {
			b.WriteString("\x00-")
			continue
		}
		h := k.Help()
		b.WriteString("\x00" + h.Key + "\x01" + h.Desc)
	}
	b.WriteByte('\x02')
}
