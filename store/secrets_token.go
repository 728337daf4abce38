package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"time"

	"github.com/influencegen/influencegen/app"
)

// DefaultRotationGrace is how long the previous callback token stays valid
// after a rotation: long enough to update the n8n credential.
const DefaultRotationGrace = 15 * time.Minute

// tokenCache holds the callback tokens' digests (never the tokens) for
// ValidateCallbackToken.
type tokenCache struct {
	loaded        bool
	loadedAt      time.Time
	current       [32]byte
	hasCurrent    bool
	previous      [32]byte
	previousUntil time.Time // zero: no usable previous token
}

// NewCallbackToken returns 32 random bytes, base64url without padding.
func NewCallbackToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", app.Errorf(app.EINTERNAL, "generate callback token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// RotateCallbackToken stores a new callback token; the old one becomes
// callback-token-previous, accepted until now+grace. grace 0 drops the old
// token at once.
func (s *Secrets) RotateCallbackToken(ctx context.Context, grace time.Duration) (string, time.Time, error) {
	if grace < 0 {
		return "", time.Time{}, app.Errorf(app.EINVALID, "--grace %s is negative: use 0 to drop the old token at once, or e.g. 15m", grace)
	}
	if _, src, ok, _ := s.override(app.SecretCallbackToken); ok {
		env := EnvVarFor(app.SecretCallbackToken)
		if src == app.SourceFile {
			env += "_FILE"
		}
		return "", time.Time{}, app.Errorf(app.ECONFLICT,
			"callback-token comes from %s, which wins over the keyring: change the value there, or unset it to rotate the keyring's token", env)
	}
	token, err := NewCallbackToken()
	if err != nil {
		return "", time.Time{}, err
	}
	old, err := s.stored(ctx, app.SecretCallbackToken)
	if err != nil {
		return "", time.Time{}, err
	}
	var expires time.Time
	// Order matters if we die half-way: the previous token and its expiry
	// are written before the current one is replaced, so at every moment
	// the token n8n holds is accepted.
	if old != "" && grace > 0 {
		expires = s.clock.Now().Add(grace).UTC()
		if err := s.store(ctx, app.SecretCallbackTokenPrevious, old); err != nil {
			return "", time.Time{}, err
		}
		if err := s.settings.SetSetting(ctx, s.previousExpiryKey(), expires.Format(time.RFC3339Nano)); err != nil {
			return "", time.Time{}, err
		}
	} else {
		if _, err := s.remove(ctx, app.SecretCallbackTokenPrevious); err != nil {
			return "", time.Time{}, err
		}
		if err := s.settings.SetSetting(ctx, s.previousExpiryKey(), ""); err != nil {
			return "", time.Time{}, err
		}
	}
	if err := s.store(ctx, app.SecretCallbackToken, token); err != nil {
		return "", time.Time{}, err
	}
	s.forgetTokens()
	s.log.Info("callback token rotated", "secret_fingerprint", app.Fingerprint(token),
		"previous_fingerprint", app.Fingerprint(old), "previous_expires_at", expires)
	return token, expires, nil
}

// ValidateCallbackToken reports whether presented is the current callback
// token or, until its expiry, the previous one. Both comparisons always run
// on SHA-256 digests (fixed length), so neither timing nor a length check
// tells which token matched or how long they are.
func (s *Secrets) ValidateCallbackToken(ctx context.Context, presented string) (bool, error) {
	c, err := s.callbackTokens(ctx)
	if err != nil {
		return false, err
	}
	if !c.hasCurrent {
		return false, app.ReasonErrorf(app.ENOTCONFIGURED, "secret_missing",
			"callback-token is not set: run `influencegen secrets rotate callback-token` (or set INFLUENCEGEN_CALLBACK_TOKEN)")
	}
	p := sha256.Sum256([]byte(presented))
	matchCurrent := subtle.ConstantTimeCompare(p[:], c.current[:])
	matchPrevious := subtle.ConstantTimeCompare(p[:], c.previous[:])
	previousValid := 0
	if s.clock.Now().Before(c.previousUntil) {
		previousValid = 1
	}
	return matchCurrent|(matchPrevious&previousValid) == 1, nil
}

// callbackTokens returns the cached digests, re-reading them when older than
// the cache TTL. One refill at a time: a burst of callbacks waits for one
// keyring read instead of sending one each.
func (s *Secrets) callbackTokens(ctx context.Context) (tokenCache, error) {
	s.tokenMu.Lock()
	defer s.tokenMu.Unlock()
	now := s.clock.Now()
	if s.tokens.loaded && now.Sub(s.tokens.loadedAt) < s.cacheTTL && !now.Before(s.tokens.loadedAt) {
		return s.tokens, nil
	}
	var c tokenCache
	current, _, err := s.lookup(ctx, app.SecretCallbackToken)
	if err != nil {
		return tokenCache{}, err
	}
	if current != "" {
		c.current, c.hasCurrent = digest(current), true
	}
	// The previous token only counts while the current one is the keyring's:
	// with an env override there is no rotation and no grace.
	if _, _, overridden, _ := s.override(app.SecretCallbackToken); !overridden {
		previous, err := s.stored(ctx, app.SecretCallbackTokenPrevious)
		if err != nil {
			return tokenCache{}, err
		}
		if previous != "" {
			until, err := s.previousExpiry(ctx)
			if err != nil {
				return tokenCache{}, err
			}
			c.previous, c.previousUntil = digest(previous), until
		}
	}
	if !c.hasCurrent || c.previousUntil.IsZero() {
		// Compare against a random digest so the work done is the same.
		if _, err := rand.Read(c.previous[:]); err != nil {
			return tokenCache{}, app.Errorf(app.EINTERNAL, "random: %w", err)
		}
	}
	c.loaded, c.loadedAt = true, now
	s.tokens = c
	return c, nil
}

// forgetTokens drops the validation cache after this process changed a token.
func (s *Secrets) forgetTokens() {
	s.tokenMu.Lock()
	s.tokens = tokenCache{}
	s.tokenMu.Unlock()
}
