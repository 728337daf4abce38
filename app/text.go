package app

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Text from outside (n8n callbacks, image hosts, Odoo) is data, never
// terminal input: a stored error message must not be able to retitle the
// window, clear the screen or plant an OSC 8 link when it is printed later.
// It is cleaned once when it enters (CleanLine/CleanText + ClipText) and
// escaped again when it is drawn (TerminalSafe), so a row written by an
// older version, or a path that forgot to clean, still cannot reach the tty.

// MaxOutsideText is the most of one outside string that is stored or logged:
// enough for any real error message, far too little to fill a disk.
const MaxOutsideText = 4 << 10

// CleanLine returns s as a single line of printable text: C0 and C1 control
// characters and DEL are dropped (newline and tab become a space) and
// invalid UTF-8 becomes U+FFFD.
func CleanLine(s string) string { return clean(s, false) }

// CleanText is CleanLine for multi-line fields: newline and tab are kept.
func CleanText(s string) string { return clean(s, true) }

// OutsideLine and OutsideText clean and clip a field from outside in one
// step, the form every adapter stores.
func OutsideLine(s string) string { return ClipText(CleanLine(s), MaxOutsideText) }

// OutsideText is OutsideLine for multi-line fields.
func OutsideText(s string) string { return ClipText(CleanText(s), MaxOutsideText) }

func clean(s string, multiline bool) string {
	if isClean(s, multiline) {
		return s // the common case allocates nothing
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '\n' || r == '\t':
			if multiline {
				b.WriteRune(r)
			} else {
				b.WriteByte(' ')
			}
		case isControl(r):
			// dropped
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isClean(s string, multiline bool) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				if !multiline || (c != '\n' && c != '\t') {
					return false
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || isControl(r) {
			return false
		}
		i += size
	}
	return true
}

// isControl reports C0, DEL and C1 (U+0080–U+009F: a UTF-8 terminal reads
// U+009B as CSI, so these are as dangerous as ESC).
func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0)
}

// ClipText shortens s to at most max bytes (on a rune boundary), marking
// what was cut so a reader knows the text is not whole.
func ClipText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	marker := fmt.Sprintf(" … [clipped, %d bytes in all]", len(s))
	keep := max - len(marker)
	if keep < 0 {
		keep = 0
	}
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return s[:keep] + marker
}

// TerminalSafe is the last line of defence before text is printed or drawn:
// every control character except newline and tab is shown as a visible
// escape (`\x1b`, `\u009b`) instead of being sent to the terminal.
func TerminalSafe(s string) string {
	if isClean(s, true) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x80 && isControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case isControl(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
