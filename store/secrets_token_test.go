package store

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

func TestRotationKeepsThePreviousTokenOnlyDuringTheGrace(t *testing.T) {
	ctx := context.Background()
	clock := newSecClock()
	kr := newSecKeyring()
	settings := &memorySettings{}
	s := NewSecrets("default", settings, SecretsOptions{Clock: clock, Keyring: kr, Getenv: func(string) string { return "" }})

	first, firstExpiry, err := s.RotateCallbackToken(ctx, DefaultRotationGrace)
	if err != nil {
		t.Fatal(err)
	}
	if !firstExpiry.IsZero() {
		t.Fatalf("the first rotation has no previous token, yet expiry %v", firstExpiry)
	}
	if raw, err := base64.RawURLEncoding.DecodeString(first); err != nil || len(raw) != 32 {
		t.Fatalf("token %q is not 32 random bytes in base64url (%v)", first, err)
	}

	second, expiry, err := s.RotateCallbackToken(ctx, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if want := clock.Now().Add(15 * time.Minute); !expiry.Equal(want) {
		t.Fatalf("expiry = %v, want now+15m = %v", expiry, want)
	}
	if raw, _, _ := settings.GetSetting(ctx, app.SettingPreviousTokenExpiry); raw != expiry.Format(time.RFC3339Nano) {
		t.Fatalf("settings hold expiry %q, want %q", raw, expiry.Format(time.RFC3339Nano))
	}
	if kr.items["influencegen|default/callback-token-previous"] != first {
		t.Fatal("the old token was not kept as callback-token-previous")
	}

	check := func(when, token string, want bool) {
		t.Helper()
		ok, err := s.ValidateCallbackToken(ctx, token)
		if err != nil || ok != want {
			t.Fatalf("%s: Validate = %v, %v; want %v", when, ok, err, want)
		}
	}
	check("inside the grace", second, true)
	check("inside the grace", first, true)
	check("inside the grace", "not-a-token", false)
	check("inside the grace", "", false)

	clock.Advance(15*time.Minute - time.Second)
	check("one second before expiry", first, true)
	clock.Advance(time.Second)
	check("at expiry", first, false)
	check("at expiry", second, true)

	statuses, err := s.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	prev := statuses[2]
	if prev.Name != app.SecretCallbackTokenPrevious || prev.Fingerprint != app.Fingerprint(first) ||
		prev.ExpiresAt == nil || !prev.ExpiresAt.Equal(expiry) || !prev.Expired {
		t.Fatalf("previous status = %+v, want fingerprint of the first token, expiry %v, expired", prev, expiry)
	}
	if cur := statuses[1]; cur.Fingerprint != app.Fingerprint(second) || cur.Source != app.SourceKeyring {
		t.Fatalf("current status = %+v", cur)
	}
}

func TestRotationWithZeroGraceDropsTheOldTokenAtOnce(t *testing.T) {
	ctx := context.Background()
	kr := newSecKeyring()
	s := newTestSecrets(t, kr, nil, newSecClock())
	first, _, err := s.RotateCallbackToken(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RotateCallbackToken(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	second, expiry, err := s.RotateCallbackToken(ctx, 0)
	if err != nil || !expiry.IsZero() {
		t.Fatalf("rotate with grace 0 = %v, %v", expiry, err)
	}
	if _, ok := kr.items["influencegen|default/callback-token-previous"]; ok {
		t.Fatal("grace 0 left a previous token in the keyring")
	}
	if ok, _ := s.ValidateCallbackToken(ctx, first); ok {
		t.Fatal("an older token was accepted after a grace-0 rotation")
	}
	if ok, _ := s.ValidateCallbackToken(ctx, second); !ok {
		t.Fatal("the current token was refused")
	}
	if _, _, err := s.RotateCallbackToken(ctx, -time.Second); app.ErrorCode(err) != app.EINVALID {
		t.Fatalf("negative grace: %v, want invalid", err)
	}
}

func TestAPreviousTokenWithoutAKnownExpiryIsNotAccepted(t *testing.T) {
	ctx := context.Background()
	kr := newSecKeyring()
	kr.items["influencegen|default/callback-token"] = "current-token"
	kr.items["influencegen|default/callback-token-previous"] = "old-token"
	s := newTestSecrets(t, kr, nil, newSecClock())
	if ok, err := s.ValidateCallbackToken(ctx, "old-token"); ok || err != nil {
		t.Fatalf("Validate(old) = %v, %v; an unknown expiry must count as expired", ok, err)
	}
}

func TestValidationCachesTokensBrieflyAndSeesAnotherProcessRotate(t *testing.T) {
	ctx := context.Background()
	clock := newSecClock()
	kr := newSecKeyring()
	kr.items["influencegen|default/callback-token"] = "token-a"
	s := newTestSecrets(t, kr, nil, clock)
	for range 50 {
		if ok, err := s.ValidateCallbackToken(ctx, "token-a"); !ok || err != nil {
			t.Fatalf("Validate = %v, %v", ok, err)
		}
	}
	// current + previous read once for the whole burst.
	if n := kr.callCount(); n != 2 {
		t.Fatalf("a burst of 50 validations made %d keyring calls, want 2", n)
	}
	// Another process rotates: this one sees it once the cache expires.
	kr.items["influencegen|default/callback-token"] = "token-b"
	if ok, _ := s.ValidateCallbackToken(ctx, "token-b"); ok {
		t.Fatal("the cache was bypassed inside its TTL")
	}
	clock.Advance(2 * time.Second)
	if ok, err := s.ValidateCallbackToken(ctx, "token-b"); !ok || err != nil {
		t.Fatalf("after the TTL the new token was refused: %v, %v", ok, err)
	}
}

func TestValidationWithoutATokenSaysHowToMakeOne(t *testing.T) {
	s := newTestSecrets(t, newSecKeyring(), nil, newSecClock())
	ok, err := s.ValidateCallbackToken(context.Background(), "anything")
	if ok || app.ErrorCode(err) != app.ENOTCONFIGURED {
		t.Fatalf("Validate = %v, %v; want not_configured", ok, err)
	}
}

func TestDeletingThePreviousTokenEndsItsGrace(t *testing.T) {
	ctx := context.Background()
	s := newTestSecrets(t, newSecKeyring(), nil, newSecClock())
	first, _, _ := s.RotateCallbackToken(ctx, time.Hour)
	if _, _, err := s.RotateCallbackToken(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.ValidateCallbackToken(ctx, first); !ok {
		t.Fatal("previous token refused inside its grace")
	}
	if err := s.Delete(ctx, app.SecretCallbackTokenPrevious); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.ValidateCallbackToken(ctx, first); ok {
		t.Fatal("previous token still accepted after delete")
	}
}
