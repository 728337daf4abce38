package app

import (
	"strings"
	"testing"
)

func TestTokenStrengthBits(t *testing.T) {
	tests := []struct {
		token    string
		atLeast  int
		below128 bool
	}{
		{"abc", 0, true},
		{"test-callback-token", 0, true},
		{strings.Repeat("a", 64), 0, true},
		{"0123456789abcdef0123456789abcdef", 128, false},           // 32 hex digits
		{"q8Zr0bX2-Lm_4Kc9TvY1nP7sWd3Fh6Jg5Ae8Ru0Xo2", 200, false}, // rotate's 43 base64url characters
	}
	for _, tt := range tests {
		bits := TokenStrengthBits(tt.token)
		if (bits < MinCallbackTokenBits) != tt.below128 || bits < tt.atLeast {
			t.Errorf("TokenStrengthBits(%d chars) = %d, want below 128 = %v", len(tt.token), bits, tt.below128)
		}
	}
}

func TestExposedBindWarning(t *testing.T) {
	for listen, exposed := range map[string]bool{
		"127.0.0.1:8787": false, "localhost:8787": false, "[::1]:8787": false,
		":8787": true, "0.0.0.0:8787": true, "[::]:8787": true, "192.168.1.20:8787": true,
	} {
		w := ExposedBindWarning(listen)
		if (w != "") != exposed {
			t.Errorf("ExposedBindWarning(%q) = %q, want exposed = %v", listen, w, exposed)
		}
		if exposed && !strings.HasPrefix(w, "WARNING:") {
			t.Errorf("warning for %q is not loud: %q", listen, w)
		}
	}
}
