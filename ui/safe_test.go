package ui

import (
	"context"
	"strings"
	"testing"

	"github.com/influencegen/influencegen/app"
)

// A stored error_message that slipped past cleaning (an older row, another
// writer) must still never reach the terminal as escape sequences.
func TestOutsideTextIsDrawnInertEvenWithEscapeSequences(t *testing.T) {
	r := newRig(t, true)
	evil := "see \x1b]8;;https://evil.example/\x1b\\this link\x1b]8;;\x1b\\ and \x1b[31mred\x1b[0m \x9b2J"
	move(t, r.db, testID(6), app.Change{ErrorCode: "n8n_\x1b[5mbad", ErrorMessage: evil}, app.StatusInitiationFailed)
	if err := r.db.AppendActivity(context.Background(), app.Activity{RequestID: testID(6), Kind: app.ActivityN8NError,
		Level: app.LevelError, Message: "odoo said \x1b]0;pwned\x07", CreatedAt: testNow}); err != nil {
		t.Fatal(err)
	}
	m := r.model(t, 160, 48)
	m = press(t, m, "j", "j", "enter") // the sending row, now init failed
	for _, screen := range []string{m.View().Content, press(t, m, "esc", "l").View().Content} {
		for _, bad := range []string{"\x1b]8;;https://evil", "\x1b[31mred", "\x1b[5mbad", "\x1b]0;pwned", "\x9b2J"} {
			if strings.Contains(screen, bad) {
				t.Fatalf("outside text reached the terminal raw: %q", bad)
			}
		}
	}
	// The store drops the escapes when it writes (app.OutsideText); an older
	// row would keep them and the view shows them as `\x1b`. Either way the
	// words stay readable as plain text.
	if txt := screenText(m); !strings.Contains(txt, "]8;;https://evil.example/") || !strings.Contains(txt, "this link") {
		t.Fatalf("the error should be shown as plain text:\n%s", txt)
	}
}
