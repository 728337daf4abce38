package store

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

// realKeyring skips unless INFLUENCEGEN_TEST_REAL_KEYRING=1 (set by .ci/run
// inside a private D-Bus session with an unlocked gnome-keyring).
func realKeyring(t *testing.T) {
	t.Helper()
	if os.Getenv("INFLUENCEGEN_TEST_REAL_KEYRING") != "1" {
		t.Skip("real keyring test skipped: set INFLUENCEGEN_TEST_REAL_KEYRING=1 inside a D-Bus session with an unlocked Secret Service (see .ci/run)")
	}
}

func TestRealKeyringRoundTripAndRotation(t *testing.T) {
	realKeyring(t)
	ctx := context.Background()
	// A unique profile keeps the test's entries apart from a person's.
	profile := "test-" + app.NewID(time.Now())
	settings := &memorySettings{}
	s := NewSecrets(profile, settings, SecretsOptions{Getenv: func(string) string { return "" }})
	t.Cleanup(func() {
		for _, name := range app.SecretNames {
			_ = s.Delete(context.Background(), name)
		}
	})

	if err := s.Set(ctx, app.SecretOdooAPIKey, "real-keyring-value"); err != nil {
		t.Fatalf("Set through the real keyring: %v", err)
	}
	// A second instance reads what the first stored: it is in the keyring,
	// not in memory.
	other := NewSecrets(profile, settings, SecretsOptions{Getenv: func(string) string { return "" }})
	v, src, err := other.Get(ctx, app.SecretOdooAPIKey)
	if err != nil || v != "real-keyring-value" || src != app.SourceKeyring {
		t.Fatalf("Get = %q, %q, %v", v, src, err)
	}
	if err := s.Set(ctx, app.SecretOdooAPIKey, "replaced-value"); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := other.Get(ctx, app.SecretOdooAPIKey); v != "replaced-value" {
		t.Fatalf("after a second Set, Get = %q", v)
	}

	first, _, err := s.RotateCallbackToken(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	second, expiry, err := s.RotateCallbackToken(ctx, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	statuses, err := other.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if statuses[1].Fingerprint != app.Fingerprint(second) || statuses[2].Fingerprint != app.Fingerprint(first) ||
		statuses[2].ExpiresAt == nil || !statuses[2].ExpiresAt.Equal(expiry) || statuses[2].Expired {
		t.Fatalf("status after rotation = %+v", statuses)
	}
	for _, tok := range []string{first, second} {
		if ok, err := other.ValidateCallbackToken(ctx, tok); !ok || err != nil {
			t.Fatalf("Validate = %v, %v", ok, err)
		}
	}

	if err := s.Delete(ctx, app.SecretOdooAPIKey); err != nil {
		t.Fatal(err)
	}
	if _, _, err := other.Get(ctx, app.SecretOdooAPIKey); app.ErrorCode(err) != app.ENOTFOUND {
		t.Fatalf("after Delete: %v, want not_found (only keyring.ErrNotFound means not set)", err)
	}
}

// TestWithoutASessionBusTheKeyringFailsFastNamingTheOverride runs the
// lookup in a child process: godbus caches its session connection per
// process, so the bus cannot be taken away inside this one.
func TestWithoutASessionBusTheKeyringFailsFastNamingTheOverride(t *testing.T) {
	if os.Getenv("INFLUENCEGEN_TEST_NOBUS_CHILD") == "1" {
		s := NewSecrets("test-nobus", nil, SecretsOptions{Getenv: func(string) string { return "" }})
		_, _, err := s.Get(context.Background(), app.SecretCallbackToken)
		fmt.Printf("reason=%s\nmessage=%v\n", app.ErrorReason(err), err)
		return
	}
	if runtime.GOOS != "linux" {
		t.Skip("the Secret Service over D-Bus is the Linux keyring")
	}
	if _, err := exec.LookPath("dbus-launch"); err == nil {
		t.Skip("dbus-launch is installed: without a bus address godbus would start a stray session bus")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestWithoutASessionBusTheKeyringFailsFastNamingTheOverride$", "-test.count=1")
	cmd.Env = append(withoutEnv(os.Environ(), "DBUS_SESSION_BUS_ADDRESS"), "INFLUENCEGEN_TEST_NOBUS_CHILD=1")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if took > DefaultKeyringTimeout {
		t.Fatalf("without a bus the lookup took %v, want under %v", took, DefaultKeyringTimeout)
	}
	for _, want := range []string{"reason=keyring_unavailable", "no D-Bus session bus", "INFLUENCEGEN_CALLBACK_TOKEN or INFLUENCEGEN_CALLBACK_TOKEN_FILE"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("child output lacks %q:\n%s", want, out)
		}
	}
}

func withoutEnv(env []string, name string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}
