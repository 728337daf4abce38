package store

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/influencegen/influencegen/app"
)

// SecretsOptions configures NewSecrets; the zero value is production.
type SecretsOptions struct {
	Clock    app.Clock                    // default app.SystemClock
	Timeout  time.Duration                // per keyring call; default 10s
	Getenv   func(string) string          // default os.Getenv
	ReadFile func(string) ([]byte, error) // for INFLUENCEGEN_*_FILE; default os.ReadFile
	Keyring  Keyring                      // default SystemKeyring
	// Memory keeps secrets in this process only (demo mode on a machine
	// without a Secret Service). Env and _FILE overrides still win.
	Memory bool
	// CacheTTL is how long ValidateCallbackToken trusts the tokens it read;
	// default 2s: a callback burst costs one keyring read, and a rotation
	// by another process is seen within seconds.
	CacheTTL time.Duration
	Log      *slog.Logger
}

// Secrets implements app.Secrets over the OS keyring, with env and _FILE
// overrides (DESIGN §2). Values never reach a log, an error or the DB: only
// fingerprints do.
type Secrets struct {
	profile  string
	settings app.SettingsStore
	clock    app.Clock
	timeout  time.Duration
	getenv   func(string) string
	readFile func(string) ([]byte, error)
	keyring  Keyring
	cacheTTL time.Duration
	log      *slog.Logger

	mu               sync.Mutex
	memory           map[string]string // Memory mode only
	keyringDown      *KeyringError     // last failure, remembered until keyringDownUntil
	keyringDownUntil time.Time

	tokenMu sync.Mutex // one cache refill at a time
	tokens  tokenCache
}

var _ app.Secrets = (*Secrets)(nil)

// NewSecrets returns the secret store of profile. settings keeps the
// previous callback token's expiry; nil keeps it in memory.
func NewSecrets(profile string, settings app.SettingsStore, opts SecretsOptions) *Secrets {
	s := &Secrets{
		profile: profile, settings: settings, clock: opts.Clock, timeout: opts.Timeout,
		getenv: opts.Getenv, readFile: opts.ReadFile, keyring: opts.Keyring, cacheTTL: opts.CacheTTL, log: opts.Log,
	}
	if s.profile == "" {
		s.profile = "default"
	}
	if s.settings == nil {
		s.settings = &memorySettings{}
	}
	if s.clock == nil {
		s.clock = app.SystemClock{}
	}
	if s.timeout <= 0 {
		s.timeout = DefaultKeyringTimeout
	}
	if s.getenv == nil {
		s.getenv = os.Getenv
	}
	if s.readFile == nil {
		s.readFile = os.ReadFile
	}
	if s.keyring == nil {
		s.keyring = SystemKeyring{}
	}
	if s.cacheTTL <= 0 {
		s.cacheTTL = 2 * time.Second
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if opts.Memory {
		s.memory = map[string]string{}
	}
	return s
}

// envVars maps each secret to its env override (DESIGN §2). The previous
// callback token has none: it exists only between rotations.
var envVars = map[string]string{
	app.SecretN8NAPIKey:     "INFLUENCEGEN_N8N_API_KEY",
	app.SecretCallbackToken: "INFLUENCEGEN_CALLBACK_TOKEN",
	app.SecretWebhookSecret: "INFLUENCEGEN_WEBHOOK_SECRET",
	app.SecretOdooAPIKey:    "INFLUENCEGEN_ODOO_API_KEY",
	app.SecretN8NAdminKey:   "INFLUENCEGEN_N8N_ADMIN_KEY",
}

// EnvVarFor returns the env override of a secret ("" if it has none); the
// same name with _FILE holds a path to a file with the value.
func EnvVarFor(name string) string { return envVars[name] }

// Account returns the keyring account of a secret: "<profile>/<name>".
func (s *Secrets) Account(name string) string { return s.profile + "/" + name }

// previousExpiryKey namespaces the settings key by profile, because two
// profiles may share one database (profiles separate keyring entries, homes
// separate data). The default profile uses the bare app key.
func (s *Secrets) previousExpiryKey() string {
	if s.profile == "default" {
		return app.SettingPreviousTokenExpiry
	}
	return s.profile + "/" + app.SettingPreviousTokenExpiry
}

func checkName(name string) error {
	if slices.Contains(app.SecretNames, name) {
		return nil
	}
	return app.Errorf(app.EINVALID, "unknown secret %q: use one of %s", name, strings.Join(app.SecretNames, ", "))
}

// override returns a secret's value from INFLUENCEGEN_<NAME> or, failing
// that, the file named by INFLUENCEGEN_<NAME>_FILE. ok is false when neither
// is set.
func (s *Secrets) override(name string) (value, source string, ok bool, err error) {
	env := envVars[name]
	if env == "" {
		return "", "", false, nil
	}
	if v := s.getenv(env); v != "" {
		return v, app.SourceEnv, true, nil
	}
	path := s.getenv(env + "_FILE")
	if path == "" {
		return "", "", false, nil
	}
	b, err := s.readFile(path)
	if err != nil {
		return "", app.SourceFile, true, app.Errorf(app.EINVALID, "%s_FILE=%s: cannot read it (%v): point it at a readable file holding the %s", env, path, unwrapPathError(err), name)
	}
	// Files written by editors and `echo` end in a newline that is not part
	// of the secret.
	v := strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return "", app.SourceFile, true, app.Errorf(app.EINVALID, "%s_FILE=%s is empty: write the %s into it", env, path, name)
	}
	return v, app.SourceFile, true, nil
}

// unwrapPathError keeps only the reason (e.g. "permission denied"), since
// the message already names the path.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// stored reads a secret from the keyring (or memory), ignoring overrides.
// A missing secret returns ("", nil).
func (s *Secrets) stored(ctx context.Context, name string) (string, error) {
	if s.memory != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.memory[name], nil
	}
	account := s.Account(name)
	v, err := s.keyringDo(ctx, "get", func() (string, error) { return s.keyring.Get(KeyringService, account) })
	if errors.Is(err, errNotSet) {
		return "", nil
	}
	return v, s.asSecretError(name, err)
}

func (s *Secrets) asSecretError(name string, err error) error {
	var kerr *KeyringError
	if errors.As(err, &kerr) {
		return s.keyringFailure(name, kerr)
	}
	return err
}

func (s *Secrets) storedSource() string {
	if s.memory != nil {
		return app.SourceMemory
	}
	return app.SourceKeyring
}

// lookup resolves a secret: env, then _FILE, then the keyring. A missing
// secret has source "missing" and no error.
func (s *Secrets) lookup(ctx context.Context, name string) (value, source string, err error) {
	if err := checkName(name); err != nil {
		return "", "", err
	}
	if v, src, ok, err := s.override(name); ok {
		return v, src, err
	}
	v, err := s.stored(ctx, name)
	if err != nil {
		return "", s.storedSource(), err
	}
	if v == "" {
		return "", app.SourceMissing, nil
	}
	return v, s.storedSource(), nil
}

// Get returns a secret's value and where it came from.
func (s *Secrets) Get(ctx context.Context, name string) (string, string, error) {
	v, src, err := s.lookup(ctx, name)
	if err != nil {
		return "", src, err
	}
	if src == app.SourceMissing {
		return "", src, missingError(name)
	}
	return v, src, nil
}

func missingError(name string) error {
	switch name {
	case app.SecretCallbackToken:
		return app.ReasonErrorf(app.ENOTFOUND, "secret_missing",
			"callback-token is not set: run `influencegen secrets rotate callback-token` (or set INFLUENCEGEN_CALLBACK_TOKEN or INFLUENCEGEN_CALLBACK_TOKEN_FILE)")
	case app.SecretCallbackTokenPrevious:
		return app.ReasonErrorf(app.ENOTFOUND, "secret_missing",
			"callback-token-previous is not set: it exists only during the grace period after `influencegen secrets rotate callback-token`")
	}
	env := envVars[name]
	return app.ReasonErrorf(app.ENOTFOUND, "secret_missing",
		"%s is not set: run `influencegen secrets set %s` (or set %s or %s_FILE)", name, name, env, env)
}

// maxSecretLen keeps values within what every OS keyring stores (macOS
// Keychain takes about 3000 bytes with service and account).
const maxSecretLen = 2048

// Set stores a secret in the keyring (or memory). An env or _FILE override
// of the same name still wins when reading; the CLI says so.
func (s *Secrets) Set(ctx context.Context, name, value string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if name == app.SecretCallbackTokenPrevious {
		return app.Errorf(app.EINVALID, "callback-token-previous is managed by `influencegen secrets rotate callback-token`: it cannot be set by hand")
	}
	if err := checkSecretValue(name, value); err != nil {
		return err
	}
	if err := s.store(ctx, name, value); err != nil {
		return err
	}
	if name == app.SecretCallbackToken {
		s.forgetTokens()
	}
	s.log.Info("secret stored", "secret_name", name, "secret_fingerprint", app.Fingerprint(value), "secret_source", s.storedSource())
	return nil
}

func checkSecretValue(name, value string) error {
	switch {
	case value == "":
		return app.Errorf(app.EINVALID, "%s: the value is empty: pipe or type the secret on stdin", name)
	case len(value) > maxSecretLen:
		return app.Errorf(app.EINVALID, "%s: the value is %d bytes: keyrings hold at most %d", name, len(value), maxSecretLen)
	case strings.ContainsAny(value, "\r\n\x00"):
		return app.Errorf(app.EINVALID, "%s: the value contains a line break or NUL: it is sent in an HTTP header, so give it on one line", name)
	case strings.TrimSpace(value) != value:
		return app.Errorf(app.EINVALID, "%s: the value starts or ends with spaces: remove them (they are almost always a copy-paste accident)", name)
	}
	if name == app.SecretWebhookSecret {
		raw, ok := strings.CutPrefix(value, "whsec_")
		if _, err := base64.StdEncoding.DecodeString(raw); !ok || err != nil || raw == "" {
			return app.Errorf(app.EINVALID, "webhook-secret: expected a Standard Webhooks secret, whsec_ followed by base64 (e.g. whsec_%s)",
				base64.StdEncoding.EncodeToString([]byte("example-32-byte-secret-value!!!!")))
		}
	}
	return nil
}

func (s *Secrets) store(ctx context.Context, name, value string) error {
	if s.memory != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.memory[name] = value
		return nil
	}
	account := s.Account(name)
	_, err := s.keyringDo(ctx, "set", func() (string, error) { return "", s.keyring.Set(KeyringService, account, value) })
	return s.asSecretError(name, err)
}

// Delete removes a secret from the keyring (or memory). Deleting the
// previous callback token ends its grace period at once.
func (s *Secrets) Delete(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	found, err := s.remove(ctx, name)
	if err != nil {
		return err
	}
	if name == app.SecretCallbackTokenPrevious {
		if err := s.settings.SetSetting(ctx, s.previousExpiryKey(), ""); err != nil {
			return err
		}
	}
	if name == app.SecretCallbackToken || name == app.SecretCallbackTokenPrevious {
		s.forgetTokens()
	}
	if !found {
		where := "the keyring"
		if s.memory != nil {
			where = "memory"
		}
		return app.ReasonErrorf(app.ENOTFOUND, "secret_missing", "%s is not in %s (profile %s): nothing to delete", name, where, s.profile)
	}
	s.log.Info("secret deleted", "secret_name", name)
	return nil
}

// remove deletes a stored secret; found is false if there was none.
func (s *Secrets) remove(ctx context.Context, name string) (found bool, err error) {
	if s.memory != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		_, found = s.memory[name]
		delete(s.memory, name)
		return found, nil
	}
	account := s.Account(name)
	_, err = s.keyringDo(ctx, "delete", func() (string, error) { return "", s.keyring.Delete(KeyringService, account) })
	if errors.Is(err, errNotSet) {
		return false, nil
	}
	if err != nil {
		return false, s.asSecretError(name, err)
	}
	return true, nil
}

// Status describes every secret without its value. When the keyring fails,
// the list is still complete (each entry carries its error) and the first
// failure is returned too, so the CLI can print the table and exit 1.
func (s *Secrets) Status(ctx context.Context) ([]app.SecretStatus, error) {
	out := make([]app.SecretStatus, 0, len(app.SecretNames))
	var firstErr error
	for _, name := range app.SecretNames {
		st := app.SecretStatus{Name: name}
		v, src, err := s.lookup(ctx, name)
		st.Source = src
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			st.Error = app.ErrorMessage(err)
			if firstErr == nil {
				firstErr = err
			}
		}
		st.Fingerprint = app.Fingerprint(v)
		if name == app.SecretCallbackTokenPrevious && v != "" {
			until, err := s.previousExpiry(ctx)
			if err != nil {
				return nil, err
			}
			if !until.IsZero() {
				st.ExpiresAt = &until
			}
			st.Expired = !s.clock.Now().Before(until)
		}
		out = append(out, st)
	}
	return out, firstErr
}

// previousExpiry reads the previous token's expiry; zero when unknown (an
// unknown expiry counts as expired: accepting an old token forever would
// defeat rotation).
func (s *Secrets) previousExpiry(ctx context.Context) (time.Time, error) {
	raw, ok, err := s.settings.GetSetting(ctx, s.previousExpiryKey())
	if err != nil || !ok || raw == "" {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		s.log.Warn("bad previous callback token expiry in settings; treating it as expired", "value", raw)
		return time.Time{}, nil //nolint:nilerr // an unreadable expiry means expired, never an error for the caller
	}
	return t, nil
}

// digest is the SHA-256 of a token, the only form the validation cache holds.
func digest(v string) [32]byte { return sha256.Sum256([]byte(v)) }

// memorySettings stands in for the settings table when none is given.
type memorySettings struct {
	mu sync.Mutex
	m  map[string]string
}

func (m *memorySettings) GetSetting(_ context.Context, key string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[key]
	return v, ok, nil
}

func (m *memorySettings) SetSetting(_ context.Context, key, value string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]string{}
	}
	m.m[key] = value
	return nil
}
