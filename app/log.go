package app

import (
	"log/slog"
	"net/http"
	"regexp"
	"strings"
)

// Secret is a string that must never be logged or printed. Logging it (as a
// slog attribute value) or formatting it with %v/%s shows only its
// fingerprint, so a secret passed to a logger by mistake still stays secret.
type Secret string

// secretShown is the one form a Secret takes outside its owner; MaskSecretAttr
// recognises it so an already-masked value is not masked twice.
var secretShown = regexp.MustCompile(`^\[secret fp:[0-9a-f]{0,8}\]$`)

func (s Secret) shown() string { return "[secret fp:" + Fingerprint(string(s)) + "]" }

// LogValue implements slog.LogValuer: only the fingerprint reaches a handler.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.shown()) }

// String keeps fmt and %v from printing the value.
func (s Secret) String() string { return s.shown() }

// GoString covers %#v.
func (s Secret) GoString() string { return s.shown() }

// MarshalText keeps encoders (JSON, TOML) from writing the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.shown()), nil }

// Reveal returns the value, for the one piece of code that must use it.
func (s Secret) Reveal() string { return string(s) }

// secretKeyWords are the attribute-name fragments that mark a value as a
// secret. "key" alone is checked separately (as a whole word) so that keys
// like "idempotency_key" or "keyring" are not masked.
var secretKeyWords = []string{"token", "password", "passwd", "secret", "authorization", "api_key", "apikey", "api-key", "cookie", "credential", "bearer"}

// notSecretSuffixes mark metadata about a secret (its fingerprint, name,
// source, expiry, header name), which is safe and useful in a log.
var notSecretSuffixes = []string{"_fingerprint", "_fp", "_name", "_source", "_expires_at", "_expiry", "_header", "_count", "_error", "_len"}

// notSecretKeys are exact names that contain a secret word but hold none.
var notSecretKeys = map[string]bool{"idempotency_key": true, "webhook-id": true}

// LooksSecret reports whether an attribute, header or config key name
// suggests that its value is a secret.
func LooksSecret(key string) bool {
	k := strings.ToLower(key)
	if notSecretKeys[k] {
		return false
	}
	for _, s := range notSecretSuffixes {
		if strings.HasSuffix(k, s) {
			return false
		}
	}
	for _, w := range secretKeyWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	// "key", "api.key", "x-api-key", "odoo_key" — but not "idempotency_key"
	// (excepted above) or "keyring"/"monkey".
	if k == "key" {
		return true
	}
	for _, sep := range []string{"_key", "-key", ".key"} {
		if strings.HasSuffix(k, sep) {
			return true
		}
	}
	return false
}

// MaskSecretAttr is a slog.HandlerOptions.ReplaceAttr that replaces the value
// of every attribute whose key looks secret with its fingerprint, and masks
// secret headers inside http.Header values. It is the second line of defence
// after the Secret type: code should never log a secret, and if it does, the
// log still does not hold it.
func MaskSecretAttr(_ []string, a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	if LooksSecret(a.Key) {
		if v.Kind() == slog.KindString && secretShown.MatchString(v.String()) {
			return slog.Attr{Key: a.Key, Value: v}
		}
		return slog.String(a.Key, maskValue(v))
	}
	if v.Kind() == slog.KindAny {
		switch h := v.Any().(type) {
		case http.Header:
			return slog.Any(a.Key, maskHeader(h))
		case map[string][]string:
			return slog.Any(a.Key, maskHeader(http.Header(h)))
		case map[string]string:
			out := make(map[string]string, len(h))
			for k, val := range h {
				if LooksSecret(k) {
					val = Secret(val).shown()
				}
				out[k] = val
			}
			return slog.Any(a.Key, out)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

func maskValue(v slog.Value) string {
	if v.Kind() == slog.KindString {
		return Secret(v.String()).shown()
	}
	// A non-string under a secret name (bytes, a struct): its text form
	// could still hold the secret, so show nothing of it.
	return "[secret]"
}

func maskHeader(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, vals := range h {
		if LooksSecret(k) {
			masked := make([]string, len(vals))
			for i, val := range vals {
				masked[i] = Secret(val).shown()
			}
			out[k] = masked
			continue
		}
		out[k] = vals
	}
	return out
}
