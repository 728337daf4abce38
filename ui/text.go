package ui

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/influencegen/influencegen/app"
)

// errText is an error as the dashboard draws it: the human message, with
// any control characters from outside (n8n, Odoo, image hosts) made visible
// instead of reaching the terminal.
func errText(err error) string { return app.TerminalSafe(app.ErrorMessage(err)) }

// safe draws outside text (error messages, execution ids, activity
// details) without letting it drive the terminal.
func safe(s string) string { return app.TerminalSafe(s) }

func itoa(n int) string { return strconv.Itoa(n) }

func truncate(s string, w int) string { return ansi.Truncate(s, w, "") }

func padRight(s string, w int) string {
	return s + strings.Repeat(" ", max(w-ansi.StringWidth(s), 0))
}
