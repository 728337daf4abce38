package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

func TestAKnownSecretNeverReachesTheLogFile(t *testing.T) {
	dir := t.TempDir()
	paths := app.Paths{LogFile: filepath.Join(dir, "state", "influencegen.log")}
	var stderr bytes.Buffer
	log, closer, err := OpenLog(paths, "debug", &stderr)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "s3cr3t-VALUE-that-must-not-leak"
	hdr := http.Header{}
	hdr.Set("X-Callback-Token", secret)
	hdr.Set("Authorization", "Bearer "+secret)
	hdr.Set("Content-Type", "application/json")

	// Every way a secret could be handed to the logger by mistake.
	log.Info("callback", "token", secret)
	log.Info("n8n", "api_key", secret, "odoo_password", secret)
	log.Info("typed", "value", app.Secret(secret))
	log.Info("headers", "header", hdr)
	log.Info("grouped", "request", map[string]string{"authorization": secret, "ok": "fine"})
	log.With("callback_token", secret).Warn("with")
	log.WithGroup("odoo").Error("group", "key", secret, "x-api-key", secret)
	log.Debug("secret fingerprint only", "secret_fingerprint", app.Fingerprint(secret), "secret_name", "callback-token")

	// The Secrets store logs its own events through the same logger.
	s := NewSecrets("default", nil, SecretsOptions{Keyring: newSecKeyring(), Getenv: func(string) string { return "" }, Log: log})
	if err := s.Set(context.Background(), app.SecretN8NAPIKey, secret); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RotateCallbackToken(context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := closer.Close(); err != nil {
		t.Fatal(err)
	}

	data, err := os.ReadFile(paths.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{string(data), stderr.String()} {
		if strings.Contains(out, secret) || strings.Contains(out, "VALUE-that") {
			t.Fatalf("the secret reached the log:\n%s", out)
		}
		if !strings.Contains(out, app.Fingerprint(secret)) {
			t.Fatalf("the log should show the fingerprint instead:\n%s", out)
		}
	}
	// The file is JSON lines and keeps what is not secret.
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatalf("log line is not JSON: %v\n%s", err, lines[0])
	}
	if !strings.Contains(string(data), `"Content-Type":["application/json"]`) || !strings.Contains(string(data), `"secret_name":"callback-token"`) {
		t.Fatalf("non-secret values were masked too:\n%s", data)
	}
}

func TestTheLogFileAndFolderArePrivate(t *testing.T) {
	dir := t.TempDir()
	paths := app.Paths{LogFile: filepath.Join(dir, "state", "influencegen", "influencegen.log")}
	if err := os.MkdirAll(filepath.Dir(paths.LogFile), 0o700); err != nil {
		t.Fatal(err)
	}
	// A file left world-readable by something else is tightened.
	if err := os.WriteFile(paths.LogFile, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	log, closer, err := OpenLog(paths, "info", nil)
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("hidden below info")
	log.Info("shown")
	closer.Close()
	fi, _ := os.Stat(paths.LogFile)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("log file mode %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(paths.LogFile)
	if !strings.HasPrefix(string(data), "old\n") || strings.Contains(string(data), "hidden") || !strings.Contains(string(data), "shown") {
		t.Fatalf("log = %q: want appended, info level", data)
	}

	fresh := app.Paths{LogFile: filepath.Join(dir, "new", "influencegen.log")}
	_, closer, err = OpenLog(fresh, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	closer.Close()
	di, _ := os.Stat(filepath.Dir(fresh.LogFile))
	if di.Mode().Perm() != 0o700 {
		t.Fatalf("log folder mode %v, want 0700", di.Mode().Perm())
	}
}

func TestABadLogLevelIsAUsageError(t *testing.T) {
	_, _, err := OpenLog(app.Paths{LogFile: filepath.Join(t.TempDir(), "x.log")}, "loud", nil)
	if app.ErrorCode(err) != app.EINVALID || !strings.Contains(err.Error(), `--log-level "loud": use debug, info, warn or error`) {
		t.Fatalf("err = %v", err)
	}
	var ae *app.Error
	if !errors.As(err, &ae) {
		t.Fatal("want an *app.Error")
	}
}

// Issue 10 item 5: the log rotated only at start, and an 8 MiB outside
// string became an 8 MiB log line.
func TestTheLogRotatesBySizeWhileRunningAndClipsOutsideText(t *testing.T) {
	defer func(size int64) { logMaxSize = size }(logMaxSize)
	logMaxSize = 64 << 10
	dir := t.TempDir()
	paths := app.Paths{LogFile: filepath.Join(dir, "influencegen.log")}
	log, closer, err := OpenLog(paths, "info", nil)
	if err != nil {
		t.Fatal(err)
	}
	huge := strings.Repeat("A", 1<<20)
	for i := range 200 {
		log.Warn("ingest: image unobtainable", "image_url", "http://x/"+huge, "err", errors.New("answered "+huge), "i", i)
	}
	if err := closer.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range logKeep {
		name := paths.LogFile
		if i > 0 {
			name = fmt.Sprintf("%s.%d", paths.LogFile, i)
		}
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("rotated file %s: %v", name, err)
		}
		if int64(len(data)) > logMaxSize {
			t.Fatalf("%s is %d bytes, over the %d limit", name, len(data), logMaxSize)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if len(line) > 3*app.MaxOutsideText {
				t.Fatalf("a %d-byte log line: outside text was not clipped", len(line))
			}
			if !strings.Contains(line, "clipped, ") {
				t.Fatalf("a clipped value carries no marker: %.200s", line)
			}
		}
	}
	if _, err := os.Stat(fmt.Sprintf("%s.%d", paths.LogFile, logKeep)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("more than %d log files are kept: %v", logKeep, err)
	}
}
