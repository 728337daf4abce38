package n8n

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks (https://www.standardwebhooks.com) signing, as n8n's
// "Standard Webhooks" style senders and Svix produce it.
const (
	HeaderWebhookID        = "Webhook-Id"
	HeaderWebhookTimestamp = "Webhook-Timestamp"
	HeaderWebhookSignature = "Webhook-Signature"
	// SignatureTolerance is how far webhook-timestamp may be from now.
	SignatureTolerance = 5 * time.Minute
	maxSignatureHeader = 4096
	maxWebhookIDLen    = 256
)

// Signature errors. They are logged, never sent: a 401 says nothing about
// which check failed.
var (
	ErrSignatureMissing   = errors.New("webhook-id, webhook-timestamp or webhook-signature header missing")
	ErrSignatureTimestamp = errors.New("webhook-timestamp is not a Unix time within 5 minutes of now")
	ErrSignatureMismatch  = errors.New("no webhook-signature matches the body")
	ErrSignatureSecret    = errors.New("webhook-secret is not whsec_ followed by base64")
)

// DecodeWebhookSecret turns "whsec_<base64>" into the HMAC key.
func DecodeWebhookSecret(secret string) ([]byte, error) {
	b64, ok := strings.CutPrefix(strings.TrimSpace(secret), "whsec_")
	if !ok || b64 == "" {
		return nil, ErrSignatureSecret
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		if key, err = base64.RawStdEncoding.DecodeString(b64); err != nil {
			return nil, ErrSignatureSecret
		}
	}
	if len(key) == 0 {
		return nil, ErrSignatureSecret
	}
	return key, nil
}

// SignWebhook returns the "v1,<base64>" signature of body (for tests, the
// fake n8n and the README example).
func SignWebhook(key []byte, id string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(strconv.FormatInt(ts, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// VerifySignature checks a Standard Webhooks signature over the raw body,
// before any JSON is parsed. sigHeader may hold several space-separated
// signatures (key rotation); one valid v1 signature is enough. Every
// candidate is compared in constant time.
func VerifySignature(key []byte, id, timestamp, sigHeader string, body []byte, now time.Time) error {
	if id == "" || timestamp == "" || sigHeader == "" || len(id) > maxWebhookIDLen || len(sigHeader) > maxSignatureHeader {
		return ErrSignatureMissing
	}
	ts, err := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
	if err != nil {
		return ErrSignatureTimestamp
	}
	sent := time.Unix(ts, 0)
	if sent.Before(now.Add(-SignatureTolerance)) || sent.After(now.Add(SignatureTolerance)) {
		return ErrSignatureTimestamp
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(strings.TrimSpace(timestamp)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	want := mac.Sum(nil)
	ok := false
	for _, candidate := range strings.Fields(sigHeader) {
		b64, found := strings.CutPrefix(candidate, "v1,")
		if !found {
			continue // other schemes (v1a asymmetric) are not ours
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(got) != len(want) {
			continue
		}
		if hmac.Equal(got, want) {
			ok = true // keep looping: time must not depend on which one matched
		}
	}
	if !ok {
		return ErrSignatureMismatch
	}
	return nil
}
