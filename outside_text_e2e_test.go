package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/n8n/n8ntest"
)

// hostileText is what a hostile workflow puts in every text field: a window
// title change (OSC 0), a screen clear (CSI 2J), a C1 CSI colour (U+009B),
// an OSC 8 hyperlink and a BEL.
const hostileText = "\x1b]0;pwned\x07 boom \x1b[2J \u009b31mred\u009b0m \x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\ \u0085end"

// reachesTerminal reports a control character a terminal would act on.
func reachesTerminal(s string) (rune, bool) {
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == utf8.RuneError {
			return r, true
		}
	}
	return 0, false
}

// Issue 10 item 2: a callback's error_message, error_code and execution_id
// were stored raw and printed raw by `status ID` and `generate --wait`.
// End to end: the fake n8n calls the real listener back with escape
// sequences in every text field; nothing of them reaches the output of any
// command, text or --json, and the stored text is clean.
func TestOutsideControlCharactersNeverReachTheTerminal(t *testing.T) {
	const token = "e2e-callback-token"
	fake := n8ntest.New(t, n8ntest.Options{})
	t.Setenv("INFLUENCEGEN_HOME", t.TempDir())
	t.Setenv("INFLUENCEGEN_PROFILE", "e2e")
	t.Setenv("INFLUENCEGEN_CALLBACK_TOKEN", token)
	t.Setenv("INFLUENCEGEN_N8N_API_KEY", "test-api-key")
	t.Setenv("INFLUENCEGEN_N8N_WEBHOOK_URL", fake.WebhookURL)
	t.Setenv("INFLUENCEGEN_CALLBACK_LISTEN", freeAddr(t))
	fake.CallbackFirst(token, func(id string) []byte {
		b, _ := json.Marshal(map[string]any{"ai_generation_request_id": id, "status": "failed",
			"error_message": hostileText, "error_code": "E\x1b[31m\u009d1", "execution_id": "x\x1b]0;t\x07y"})
		return b
	}, nil)

	ctx := context.Background()
	check := func(what, out string) {
		t.Helper()
		if r, bad := reachesTerminal(out); bad {
			t.Fatalf("%s printed control character %U:\n%q", what, r, out)
		}
	}
	code, out, errOut := runCLI(ctx, "generate", "--prompt", "a red fox", "--wait")
	check("generate --wait", out)
	check("generate --wait (stderr)", errOut)
	if code != 0 || !strings.Contains(out, "failed") || !strings.Contains(out, "boom") {
		t.Fatalf("generate --wait exited %d: %q %q", code, out, errOut)
	}
	id := strings.Fields(out)[0]

	for _, args := range [][]string{{"status", id}, {"status", id, "--json"}, {"status"}, {"status", "--json"}} {
		code, out, errOut := runCLI(ctx, args...)
		check(strings.Join(args, " "), out)
		check(strings.Join(args, " ")+" (stderr)", errOut)
		if code != 0 {
			t.Fatalf("%v exited %d: %s", args, code, errOut)
		}
	}

	// What was stored is clean: the JSON decodes to text without controls.
	_, js, _ := runCLI(ctx, "status", id, "--json")
	var detail struct {
		Request  app.Request    `json:"request"`
		Timeline []app.Activity `json:"timeline"`
	}
	if err := json.Unmarshal([]byte(js), &detail); err != nil {
		t.Fatal(err)
	}
	stored := []string{detail.Request.ErrorMessage, detail.Request.ErrorCode, detail.Request.ExecutionID}
	for _, a := range detail.Timeline {
		stored = append(stored, a.Message)
	}
	for _, s := range stored {
		check("the stored text", s)
	}
	if detail.Request.ErrorCode != "E[31m1" || detail.Request.ExecutionID != "x]0;ty" {
		t.Fatalf("stored error_code %q, execution_id %q: want the text without its control characters", detail.Request.ErrorCode, detail.Request.ExecutionID)
	}

	// And the CLI escapes again what an older version stored raw.
	code, out, _ = runCLI(ctx, "generate", "--prompt", hostileText, "--json")
	check("generate --json with a hostile prompt", out)
	if code != 0 {
		t.Fatalf("generate exited %d", code)
	}
}
