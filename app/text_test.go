package app

import (
	"strings"
	"testing"
)

func TestCleanLineDropsEveryControlCharacter(t *testing.T) {
	cases := map[string]struct{ in, line, text string }{
		"plain text is kept as is":        {"provider said no", "provider said no", "provider said no"},
		"window title change is removed":  {"a\x1b]0;pwned\x07b", "a]0;pwnedb", "a]0;pwnedb"},
		"screen clear is removed":         {"x\x1b[2Jy", "x[2Jy", "x[2Jy"},
		"C1 CSI is removed":               {"x\u009b31my", "x31my", "x31my"},
		"OSC 8 link loses its escapes":    {"\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\", "]8;;http://evil\\click]8;;\\", "]8;;http://evil\\click]8;;\\"},
		"newline and tab only in text":    {"a\nb\tc", "a b c", "a\nb\tc"},
		"carriage return is removed":      {"ok\rFAKE", "okFAKE", "okFAKE"},
		"invalid UTF-8 becomes U+FFFD":    {"a\xffb", "a\uFFFDb", "a\uFFFDb"},
		"wide and accented text survives": {"日本語 café", "日本語 café", "日本語 café"},
		"DEL is removed":                  {"a\x7fb", "ab", "ab"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := CleanLine(c.in); got != c.line {
				t.Errorf("CleanLine(%q) = %q, want %q", c.in, got, c.line)
			}
			if got := CleanText(c.in); got != c.text {
				t.Errorf("CleanText(%q) = %q, want %q", c.in, got, c.text)
			}
		})
	}
}

func TestClipTextMarksWhatWasCut(t *testing.T) {
	long := strings.Repeat("é", 10000) // 20000 bytes
	got := ClipText(long, MaxOutsideText)
	if len(got) > MaxOutsideText {
		t.Fatalf("clipped to %d bytes, want at most %d", len(got), MaxOutsideText)
	}
	if !strings.HasSuffix(got, "[clipped, 20000 bytes in all]") {
		t.Fatalf("no marker: %q", got[len(got)-40:])
	}
	if strings.ContainsRune(got, '\uFFFD') {
		t.Fatal("clipping split a rune")
	}
	if ClipText("short", 10) != "short" {
		t.Fatal("short text must not change")
	}
}

func TestOutsideLineCleansThenClips(t *testing.T) {
	in := strings.Repeat("\x1b[31m", 2000) + strings.Repeat("x", 8<<20)
	got := OutsideLine(in)
	if len(got) > MaxOutsideText || strings.ContainsRune(got, '\x1b') {
		t.Fatalf("OutsideLine left %d bytes or an escape", len(got))
	}
}

func TestTerminalSafeShowsEscapesVisibly(t *testing.T) {
	cases := map[string]string{
		"a\x1b]0;t\x07b": `a\x1b]0;t\x07b`,
		"x\u009by":       `x\u009by`,
		"ok\nnext\tcol":  "ok\nnext\tcol",
		"bad\xffbyte":    `bad\xffbyte`,
		"clean":          "clean",
	}
	for in, want := range cases {
		if got := TerminalSafe(in); got != want {
			t.Errorf("TerminalSafe(%q) = %q, want %q", in, got, want)
		}
	}
}
