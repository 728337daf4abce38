package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Secret names (DESIGN §2). Keyring account: "<profile>/<name>".
const (
	SecretN8NAPIKey             = "n8n-api-key"
	SecretCallbackToken         = "callback-token"
	SecretCallbackTokenPrevious = "callback-token-previous"
	SecretWebhookSecret         = "webhook-secret"
	SecretOdooAPIKey            = "odoo-api-key"
	// SecretN8NAdminKey is n8n's own public-API key (header X-N8N-API-KEY),
	// used by `influencegen n8n …` to manage the workflow and its
	// credentials; the running app never needs it.
	SecretN8NAdminKey = "n8n-admin-key"
)

// SecretNames lists the secrets in display order.
var SecretNames = []string{SecretN8NAPIKey, SecretCallbackToken, SecretCallbackTokenPrevious, SecretWebhookSecret, SecretOdooAPIKey, SecretN8NAdminKey}

// Where a secret's value came from.
const (
	SourceEnv     = "env"
	SourceFile    = "file"
	SourceKeyring = "keyring"
	SourceMemory  = "memory" // demo mode without a Secret Service
	SourceMissing = "missing"
)

// SettingPreviousTokenExpiry is the settings key holding the RFC 3339
// expiry of callback-token-previous.
const SettingPreviousTokenExpiry = "callback_token_previous_expires_at"

// SecretStatus describes a secret without its value.
type SecretStatus struct {
	Name        string     `json:"name"`
	Source      string     `json:"source"`
	Fingerprint string     `json:"fingerprint,omitempty"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"` // callback-token-previous only
	Expired     bool       `json:"expired,omitempty"`
	Error       string     `json:"error,omitempty"` // e.g. keyring unavailable, with the remedy
}

// Secrets reads and writes secrets; values never leave it except to the
// code that uses them (and to a person who explicitly asks).
type Secrets interface {
	// Get returns a secret's value and source. A missing secret is
	// ENOTFOUND with reason "secret_missing" and a message naming the
	// command that sets it.
	Get(ctx context.Context, name string) (value, source string, err error)
	Set(ctx context.Context, name, value string) error
	Delete(ctx context.Context, name string) error
	Status(ctx context.Context) ([]SecretStatus, error)
	// RotateCallbackToken makes a new token from 32 random bytes
	// (base64url); the old one stays valid as callback-token-previous until
	// grace has passed.
	RotateCallbackToken(ctx context.Context, grace time.Duration) (token string, previousExpires time.Time, err error)
	// ValidateCallbackToken compares presented in constant time with the
	// current token and, until its expiry, the previous one.
	ValidateCallbackToken(ctx context.Context, presented string) (bool, error)
}

// Fingerprint identifies a secret without revealing it: the first 8 hex
// digits of its SHA-256.
func Fingerprint(value string) string {
	if value == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(value))
	return hex.EncodeToString(sum[:4])
}
