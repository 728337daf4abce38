package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/influencegen/influencegen/app"
)

// writeJSON prints one indented JSON document: what --json promises.
// encoding/json escapes C0 control characters but writes DEL and C1
// (U+0080–U+009F, which a UTF-8 terminal reads as CSI and friends) raw, so
// they are escaped here too: outside text in a --json document piped to a
// terminal stays data.
func writeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(escapeJSONControls(buf.Bytes()))
	return err
}

// escapeJSONControls rewrites raw DEL and C1 runes in encoded JSON as \u
// escapes. They can only occur inside strings, where the escape means the
// same character, so the document's meaning is unchanged.
func escapeJSONControls(b []byte) []byte {
	if !bytes.ContainsFunc(b, func(r rune) bool { return r == 0x7f || (r >= 0x80 && r < 0xa0) }) {
		return b
	}
	out := make([]byte, 0, len(b)+32)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == 0x7f || (r >= 0x80 && r < 0xa0) {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, b[:size]...)
		}
		b = b[size:]
	}
	return out
}

// shown makes text safe to print on one line of a terminal: control
// characters become visible escapes (app.TerminalSafe), and newlines and
// tabs, which would break a table row, become spaces.
func shown(s string) string {
	return app.TerminalSafe(strings.NewReplacer("\n", " ", "\r", " ", "\t", " ").Replace(s))
}

// redactURL hides what a URL may carry that is secret: the password of its
// user info and secret-looking query parameters (?token=…). Config holds no
// secrets by design, but a person may still paste one into a URL.
func redactURL(raw string) string {
	if raw == "" {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	changed := false
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			changed = true
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			if app.LooksSecret(k) {
				q[k] = []string{"xxxxx"}
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	if !changed {
		return raw
	}
	return u.String()
}
