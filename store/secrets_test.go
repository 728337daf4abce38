package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/app/apptest"
	"github.com/zalando/go-keyring"
)

// secClock is a manual clock: After channels fire when Advance passes them.
type secClock = apptest.Clock

func newSecClock() *secClock { return apptest.NewClock(time.Date(2026, 11, 27, 13, 0, 0, 0, time.UTC)) }

// secKeyring is an in-memory keyring that counts calls and can fail or hang.
type secKeyring struct {
	mu    sync.Mutex
	items map[string]string
	err   error         // returned by every call when set
	hang  chan struct{} // every call blocks until closed, when set
	calls int
}

func newSecKeyring() *secKeyring { return &secKeyring{items: map[string]string{}} }

func (k *secKeyring) enter() error {
	k.mu.Lock()
	k.calls++
	hang, err := k.hang, k.err
	k.mu.Unlock()
	if hang != nil {
		<-hang
	}
	return err
}

func (k *secKeyring) Get(service, account string) (string, error) {
	if err := k.enter(); err != nil {
		return "", err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.items[service+"|"+account]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (k *secKeyring) Set(service, account, value string) error {
	if err := k.enter(); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.items[service+"|"+account] = value
	return nil
}

func (k *secKeyring) Delete(service, account string) error {
	if err := k.enter(); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.items[service+"|"+account]; !ok {
		return keyring.ErrNotFound
	}
	delete(k.items, service+"|"+account)
	return nil
}

func (k *secKeyring) callCount() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.calls
}

func newTestSecrets(t *testing.T, kr Keyring, env map[string]string, clock app.Clock) *Secrets {
	t.Helper()
	return NewSecrets("default", &memorySettings{}, SecretsOptions{
		Clock: clock, Keyring: kr,
		Getenv: func(k string) string { return env[k] },
	})
}

func TestSecretsSetGetDeleteRoundTripThroughTheKeyring(t *testing.T) {
	ctx := context.Background()
	kr := newSecKeyring()
	s := newTestSecrets(t, kr, nil, newSecClock())
	if err := s.Set(ctx, app.SecretN8NAPIKey, "n8n-key-value"); err != nil {
		t.Fatal(err)
	}
	if got := kr.items["influencegen|default/n8n-api-key"]; got != "n8n-key-value" {
		t.Fatalf("keyring entry = %q, want it under service influencegen, account default/n8n-api-key", got)
	}
	v, src, err := s.Get(ctx, app.SecretN8NAPIKey)
	if err != nil || v != "n8n-key-value" || src != app.SourceKeyring {
		t.Fatalf("Get = %q, %q, %v", v, src, err)
	}
	if err := s.Delete(ctx, app.SecretN8NAPIKey); err != nil {
		t.Fatal(err)
	}
	_, src, err = s.Get(ctx, app.SecretN8NAPIKey)
	if app.ErrorCode(err) != app.ENOTFOUND || src != app.SourceMissing {
		t.Fatalf("after delete: source %q, err %v; want missing, not_found", src, err)
	}
	if !strings.Contains(err.Error(), "influencegen secrets set n8n-api-key") || !strings.Contains(err.Error(), "INFLUENCEGEN_N8N_API_KEY") {
		t.Fatalf("missing message %q should name the command and the env override", err)
	}
	if err := s.Delete(ctx, app.SecretN8NAPIKey); app.ErrorCode(err) != app.ENOTFOUND {
		t.Fatalf("deleting again: %v, want not_found", err)
	}
}

func TestProfilesNeverShareKeyringEntries(t *testing.T) {
	ctx := context.Background()
	kr := newSecKeyring()
	def := NewSecrets("default", nil, SecretsOptions{Keyring: kr, Getenv: func(string) string { return "" }})
	work := NewSecrets("work", nil, SecretsOptions{Keyring: kr, Getenv: func(string) string { return "" }})
	if err := def.Set(ctx, app.SecretOdooAPIKey, "default-odoo"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := work.Get(ctx, app.SecretOdooAPIKey); app.ErrorCode(err) != app.ENOTFOUND {
		t.Fatalf("profile work sees profile default's secret: %v", err)
	}
}

func TestEnvAndFileOverridesWinOverTheKeyring(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		env        map[string]string
		keyring    string
		wantValue  string
		wantSource string
		wantErr    string
	}{
		{"the keyring answers when no override is set", nil, "from-keyring", "from-keyring", app.SourceKeyring, ""},
		{"the env variable wins over the keyring", map[string]string{"INFLUENCEGEN_CALLBACK_TOKEN": "from-env"}, "from-keyring", "from-env", app.SourceEnv, ""},
		{"the _FILE variable wins over the keyring and loses its trailing newline", map[string]string{"INFLUENCEGEN_CALLBACK_TOKEN_FILE": file}, "from-keyring", "from-file", app.SourceFile, ""},
		{"the env variable wins over the _FILE variable", map[string]string{"INFLUENCEGEN_CALLBACK_TOKEN": "from-env", "INFLUENCEGEN_CALLBACK_TOKEN_FILE": file}, "", "from-env", app.SourceEnv, ""},
		{"an unreadable _FILE is an error naming the variable and the path", map[string]string{"INFLUENCEGEN_CALLBACK_TOKEN_FILE": filepath.Join(dir, "nope")}, "from-keyring", "", app.SourceFile, "INFLUENCEGEN_CALLBACK_TOKEN_FILE=" + filepath.Join(dir, "nope") + ": cannot read it (no such file or directory)"},
		{"an empty _FILE is an error", map[string]string{"INFLUENCEGEN_CALLBACK_TOKEN_FILE": empty}, "", "", app.SourceFile, "is empty"},
		{"an empty env variable counts as unset", map[string]string{"INFLUENCEGEN_CALLBACK_TOKEN": ""}, "from-keyring", "from-keyring", app.SourceKeyring, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kr := newSecKeyring()
			if tt.keyring != "" {
				kr.items["influencegen|default/callback-token"] = tt.keyring
			}
			s := newTestSecrets(t, kr, tt.env, newSecClock())
			v, src, err := s.Get(context.Background(), app.SecretCallbackToken)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || v != tt.wantValue || src != tt.wantSource {
				t.Fatalf("Get = %q, %q, %v; want %q from %q", v, src, err, tt.wantValue, tt.wantSource)
			}
		})
	}
}

func TestEveryOverridableSecretHasItsDesignEnvName(t *testing.T) {
	want := map[string]string{
		app.SecretN8NAPIKey: "INFLUENCEGEN_N8N_API_KEY", app.SecretCallbackToken: "INFLUENCEGEN_CALLBACK_TOKEN",
		app.SecretWebhookSecret: "INFLUENCEGEN_WEBHOOK_SECRET", app.SecretOdooAPIKey: "INFLUENCEGEN_ODOO_API_KEY",
		app.SecretCallbackTokenPrevious: "",
	}
	for name, env := range want {
		if got := EnvVarFor(name); got != env {
			t.Errorf("EnvVarFor(%s) = %q, want %q", name, got, env)
		}
	}
}

func TestSetRefusesBadValuesWithSpecificMessages(t *testing.T) {
	s := newTestSecrets(t, newSecKeyring(), nil, newSecClock())
	tests := []struct{ name, secret, value, want string }{
		{"an empty value is refused", app.SecretN8NAPIKey, "", "the value is empty"},
		{"a value with a line break is refused", app.SecretN8NAPIKey, "a\nb", "line break"},
		{"a value with surrounding spaces is refused", app.SecretN8NAPIKey, " abc", "spaces"},
		{"a value too large for a keyring is refused", app.SecretN8NAPIKey, strings.Repeat("x", 3000), "at most 2048"},
		{"a webhook secret without whsec_ is refused", app.SecretWebhookSecret, "plain", "whsec_"},
		{"a webhook secret with bad base64 is refused", app.SecretWebhookSecret, "whsec_***", "whsec_"},
		{"the previous token cannot be set by hand", app.SecretCallbackTokenPrevious, "x", "managed by `influencegen secrets rotate callback-token`"},
		{"an unknown name lists the known ones", "n8n-key", "x", "use one of n8n-api-key, callback-token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Set(context.Background(), tt.secret, tt.value)
			if app.ErrorCode(err) != app.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Set = %v, want invalid containing %q", err, tt.want)
			}
		})
	}
	if err := s.Set(context.Background(), app.SecretWebhookSecret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"); err != nil {
		t.Fatalf("a valid Standard Webhooks secret was refused: %v", err)
	}
}

func TestKeyringFailuresAreClassified(t *testing.T) {
	tests := []struct {
		name       string
		cause      error
		wantReason string
		wantHint   string
	}{
		{"dbus-launch missing means no session bus", errors.New(`exec: "dbus-launch": executable file not found in $PATH`), "keyring_unavailable", "no D-Bus session bus"},
		{"no org.freedesktop.secrets means no Secret Service", errors.New("The name org.freedesktop.secrets was not provided by any .service files"), "keyring_unavailable", "no Secret Service is running"},
		{"a dial error means the bus cannot be reached", errors.New("dial unix /run/user/0/bus: connect: no such file or directory"), "keyring_unavailable", "cannot connect to the D-Bus session bus"},
		{"a dismissed prompt means the keyring is locked", errors.New("Cannot get secret of a locked object"), "keyring_unavailable", "the keyring is locked"},
		{"gnome-keyring's locked collection means the keyring is locked", errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"), "keyring_unavailable", "the keyring is locked"},
		{"an unknown failure is still unavailable", errors.New("something odd"), "keyring_unavailable", "something odd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kr := newSecKeyring()
			kr.err = tt.cause
			s := newTestSecrets(t, kr, nil, newSecClock())
			_, _, err := s.Get(context.Background(), app.SecretOdooAPIKey)
			if app.ErrorCode(err) != app.EUNAVAILABLE || app.ErrorReason(err) != tt.wantReason {
				t.Fatalf("err = %v (code %s, reason %s)", err, app.ErrorCode(err), app.ErrorReason(err))
			}
			if !errors.Is(err, ErrKeyringUnavailable) || errors.Is(err, keyring.ErrNotFound) {
				t.Fatalf("errors.Is(err, ErrKeyringUnavailable) must hold and ErrNotFound must not: %v", err)
			}
			msg := err.Error()
			for _, want := range []string{tt.wantHint, "gnome-keyring", "KeePassXC", "INFLUENCEGEN_ODOO_API_KEY or INFLUENCEGEN_ODOO_API_KEY_FILE"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
		})
	}
}

func TestAHungKeyringTimesOutAndLaterCallsFailFast(t *testing.T) {
	ctx := context.Background()
	clock := newSecClock()
	kr := newSecKeyring()
	kr.hang = make(chan struct{})
	defer close(kr.hang)
	s := newTestSecrets(t, kr, nil, clock)

	done := make(chan error, 1)
	go func() {
		_, _, err := s.Get(ctx, app.SecretN8NAPIKey)
		done <- err
	}()
	// Wait until the call has armed its timer, then move time past it.
	deadline := time.Now().Add(5 * time.Second)
	for clock.Pending() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the keyring call never armed its timeout")
		}
		time.Sleep(time.Millisecond)
	}
	clock.Advance(DefaultKeyringTimeout)
	err := <-done
	if !errors.Is(err, ErrKeyringTimeout) || app.ErrorReason(err) != "keyring_timeout" {
		t.Fatalf("err = %v, want keyring_timeout", err)
	}
	if !strings.Contains(err.Error(), "did not answer within 10s") || !strings.Contains(err.Error(), "INFLUENCEGEN_N8N_API_KEY") {
		t.Fatalf("timeout message %q should name the timeout and the env override", err)
	}

	// Status over every secret now fails at once, without another hung call.
	calls := kr.callCount()
	statuses, err := s.Status(ctx)
	if !errors.Is(err, ErrKeyringTimeout) {
		t.Fatalf("Status err = %v, want the remembered timeout", err)
	}
	if kr.callCount() != calls {
		t.Fatalf("Status made %d more keyring calls while the keyring was known to hang", kr.callCount()-calls)
	}
	if len(statuses) != len(app.SecretNames) || !strings.Contains(statuses[0].Error, "INFLUENCEGEN_N8N_API_KEY") {
		t.Fatalf("statuses = %+v, want every name with its own remedy", statuses)
	}

	// After the remembered window the keyring is tried again.
	clock.Advance(keyringDownFor)
	go func() {
		_, _, err := s.Get(ctx, app.SecretN8NAPIKey)
		done <- err
	}()
	for kr.callCount() == calls {
		if time.Now().After(deadline) {
			t.Fatal("the keyring was never tried again")
		}
		time.Sleep(time.Millisecond)
	}
	for clock.Pending() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the retried call never armed its timeout")
		}
		time.Sleep(time.Millisecond)
	}
	clock.Advance(DefaultKeyringTimeout)
	if err := <-done; !errors.Is(err, ErrKeyringTimeout) {
		t.Fatalf("the retried call: %v, want a timeout again", err)
	}
}

func TestEnvOverridesStillWorkWhenTheKeyringIsUnavailable(t *testing.T) {
	kr := newSecKeyring()
	kr.err = errors.New("The name org.freedesktop.secrets was not provided by any .service files")
	s := newTestSecrets(t, kr, map[string]string{"INFLUENCEGEN_CALLBACK_TOKEN": "env-token"}, newSecClock())
	ok, err := s.ValidateCallbackToken(context.Background(), "env-token")
	if err != nil || !ok {
		t.Fatalf("Validate = %v, %v; the env token must work without a keyring", ok, err)
	}
	if _, _, err := s.RotateCallbackToken(context.Background(), time.Minute); app.ErrorCode(err) != app.ECONFLICT ||
		!strings.Contains(err.Error(), "INFLUENCEGEN_CALLBACK_TOKEN") {
		t.Fatalf("rotating an env token: %v, want a conflict naming the variable", err)
	}
}

func TestMemoryModeNeedsNoKeyring(t *testing.T) {
	ctx := context.Background()
	kr := newSecKeyring()
	kr.err = errors.New("must not be called")
	s := NewSecrets("demo", nil, SecretsOptions{Memory: true, Keyring: kr, Getenv: func(string) string { return "" }})
	tok, _, err := s.RotateCallbackToken(ctx, DefaultRotationGrace)
	if err != nil {
		t.Fatal(err)
	}
	v, src, err := s.Get(ctx, app.SecretCallbackToken)
	if err != nil || v != tok || src != app.SourceMemory {
		t.Fatalf("Get = %q, %q, %v", v, src, err)
	}
	if kr.callCount() != 0 {
		t.Fatalf("memory mode called the keyring %d times", kr.callCount())
	}
}
