package app

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestLooksSecretKnowsSecretNamesFromTheirMetadata(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{"token", true}, {"callback_token", true}, {"X-Callback-Token", true}, {"Authorization", true},
		{"api_key", true}, {"X-API-Key", true}, {"password", true}, {"odoo_password", true},
		{"webhook_secret", true}, {"key", true}, {"odoo.key", true}, {"Cookie", true},
		{"secret_fingerprint", false}, {"secret_name", false}, {"token_source", false},
		{"previous_expires_at", false}, {"api_key_header", false}, {"idempotency_key", false},
		{"keyring", false}, {"monkey", false}, {"request_id", false}, {"status", false},
	}
	for _, tt := range tests {
		if got := LooksSecret(tt.key); got != tt.want {
			t.Errorf("LooksSecret(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
}

func TestASecretShowsOnlyItsFingerprintWhereverItIsPrinted(t *testing.T) {
	const value = "p4ssw0rd-value"
	s := Secret(value)
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: MaskSecretAttr}))
	log.Info("x", "harmless_name", s)
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %s %#v", s, s, s), buf.String(), string(mustText(s.MarshalText()))} {
		if strings.Contains(out, value) || !strings.Contains(out, Fingerprint(value)) {
			t.Errorf("%q shows the secret or hides the fingerprint", out)
		}
	}
	if s.Reveal() != value {
		t.Fatal("Reveal must return the value")
	}
}

func mustText(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
