package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/zalando/go-keyring"
)

// KeyringService is the service name of every keyring entry (DESIGN §2);
// the account is "<profile>/<name>".
const KeyringService = "influencegen"

// DefaultKeyringTimeout bounds every keyring call: a locked collection can
// make the Secret Service wait for a password prompt that never comes on a
// headless machine.
const DefaultKeyringTimeout = 10 * time.Second

// keyringDownFor is how long a keyring failure is remembered. The first
// failed or hung call costs up to the timeout; the next calls in this window
// fail at once, so `secrets status` over five names fails in one timeout,
// not five, and a callback burst doesn't pile goroutines onto a dead D-Bus.
const keyringDownFor = 30 * time.Second

// Keyring is the part of go-keyring that Secrets uses; tests inject fakes.
type Keyring interface {
	Get(service, account string) (string, error)
	Set(service, account, value string) error
	Delete(service, account string) error
}

// SystemKeyring is the OS keyring through go-keyring (Secret Service on
// Linux, Keychain on macOS, Credential Manager on Windows).
type SystemKeyring struct{}

func (SystemKeyring) Get(service, account string) (string, error) {
	return keyring.Get(service, account)
}
func (SystemKeyring) Set(service, account, value string) error {
	return keyring.Set(service, account, value)
}
func (SystemKeyring) Delete(service, account string) error {
	return keyring.Delete(service, account)
}

// Sentinels for errors.Is on what Secrets returns.
var (
	// ErrKeyringUnavailable: no usable keyring (no session bus, no Secret
	// Service, locked, dial errors…).
	ErrKeyringUnavailable = errors.New("keyring unavailable")
	// ErrKeyringTimeout: the keyring did not answer within the timeout.
	ErrKeyringTimeout = errors.New("keyring timed out")
)

// KeyringError is the cause inside the *app.Error Secrets returns when the
// keyring fails. Kind is ErrKeyringUnavailable or ErrKeyringTimeout.
type KeyringError struct {
	Kind  error
	Op    string // get, set, delete
	Cause error  // go-keyring's error; nil on timeout
}

func (e *KeyringError) Error() string {
	if e.Cause == nil {
		return fmt.Sprintf("keyring %s: %v", e.Op, e.Kind)
	}
	return fmt.Sprintf("keyring %s: %v: %v", e.Op, e.Kind, e.Cause)
}

func (e *KeyringError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Cause}
}

// errNotSet is what keyringDo returns for keyring.ErrNotFound; it is the
// only "not set" result.
var errNotSet = keyring.ErrNotFound

// keyringDo runs one keyring call under the timeout. The call runs on its
// own goroutine because go-keyring has no context: on a timeout that
// goroutine is abandoned (it ends when D-Bus finally answers), and the
// failure is remembered for keyringDownFor so no more pile up.
func (s *Secrets) keyringDo(ctx context.Context, op string, call func() (string, error)) (string, error) {
	s.mu.Lock()
	if down := s.keyringDown; down != nil && s.clock.Now().Before(s.keyringDownUntil) {
		s.mu.Unlock()
		return "", down
	}
	s.mu.Unlock()

	type result struct {
		value string
		err   error
	}
	done := make(chan result, 1) // buffered: an abandoned call must not block forever
	go func() {
		v, err := call()
		done <- result{v, err}
	}()
	var (
		value string
		err   error
	)
	select {
	case r := <-done:
		value, err = r.value, r.err
	case <-s.clock.After(s.timeout):
		err = &KeyringError{Kind: ErrKeyringTimeout, Op: op}
	case <-ctx.Done():
		return "", ctx.Err()
	}
	if err == nil || errors.Is(err, keyring.ErrNotFound) {
		if err != nil {
			return "", errNotSet
		}
		return value, nil
	}
	var kerr *KeyringError
	if !errors.As(err, &kerr) {
		if errors.Is(err, keyring.ErrSetDataTooBig) {
			return "", app.Errorf(app.EINVALID, "the value is too large for the OS keyring: keep it under 2 KiB")
		}
		// Everything else go-keyring reports on Linux means "no usable
		// keyring": dbus-launch missing, no org.freedesktop.secrets, dial
		// errors, a dismissed unlock prompt.
		kerr = &KeyringError{Kind: ErrKeyringUnavailable, Op: op, Cause: err}
	}
	s.mu.Lock()
	s.keyringDown, s.keyringDownUntil = kerr, s.clock.Now().Add(keyringDownFor)
	s.mu.Unlock()
	s.log.Warn("keyring call failed", "op", op, "error", kerr.Error())
	return "", kerr
}

// keyringFailure turns a KeyringError into the message a person reads: what
// failed and the two ways out (a working keyring, or the env override).
func (s *Secrets) keyringFailure(name string, kerr *KeyringError) error {
	env := EnvVarFor(name)
	if env == "" {
		env = EnvVarFor(app.SecretCallbackToken)
	}
	remedy := fmt.Sprintf("install and unlock a Secret Service keyring (gnome-keyring, KeePassXC), or set %s or %s_FILE", env, env)
	if errors.Is(kerr, ErrKeyringTimeout) {
		return &app.Error{Code: app.EUNAVAILABLE, Reason: "keyring_timeout", Err: kerr,
			Message: fmt.Sprintf("%s: the OS keyring did not answer within %s (locked and waiting for an unlock prompt?): %s",
				name, s.timeout, remedy)}
	}
	return &app.Error{Code: app.EUNAVAILABLE, Reason: "keyring_unavailable", Err: kerr,
		Message: fmt.Sprintf("%s: the OS keyring is unavailable (%s): %s", name, keyringHint(kerr.Cause), remedy)}
}

// keyringHint names the likely cause of a go-keyring error in words, keeping
// the raw text for whoever needs to dig (it holds no secret: only D-Bus
// names and paths).
func keyringHint(cause error) string {
	if cause == nil {
		return "unknown cause"
	}
	raw := cause.Error()
	low := strings.ToLower(raw)
	var hint string
	switch {
	case strings.Contains(low, "dbus-launch"), strings.Contains(low, "dbus_session_bus_address"),
		strings.Contains(low, "couldn't determine address of session bus"):
		hint = "no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set"
	case strings.Contains(low, "org.freedesktop.secrets"), strings.Contains(low, "serviceunknown"),
		strings.Contains(low, "not provided by any .service files"):
		hint = "no Secret Service is running on the session bus"
	case strings.Contains(low, "prompt"), strings.Contains(low, "locked"), strings.Contains(low, "dismissed"),
		strings.Contains(low, "unlock"):
		hint = "the keyring is locked: unlock it (e.g. log in to the desktop, or gnome-keyring-daemon --unlock)"
	case strings.Contains(low, "dial"), strings.Contains(low, "connect"), strings.Contains(low, "no such file"):
		hint = "cannot connect to the D-Bus session bus"
	default:
		return raw
	}
	return hint + ": " + raw
}
