package ui

import (
	"strconv"
	"strings"

	"charm.land/bubbles/v2/textinput"

	"github.com/charmbracelet/x/ansi"
)

// steadyCursor turns off blinking: the dashboard repaints only when
// something changed.
func steadyCursor(in textinput.Model) textinput.Model {
	st := in.Styles()
	st.Cursor.Blink = false
	in.SetStyles(st)
	return in
}

func itoa(n int) string { return strconv.Itoa(n) }

func truncate(s string, w int) string { return ansi.Truncate(s, w, "") }

func padRight(s string, w int) string {
	return s + strings.Repeat(" ", max(w-ansi.StringWidth(s), 0))
}
