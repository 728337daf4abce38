package cli

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/zalando/go-keyring"
)

func TestVersionPrintsTheLinkerValues(t *testing.T) {
	r := newFoundationRig(t)
	out := r.mustRun("", "version")
	if !strings.HasPrefix(out, "influencegen 1.2.3 (commit abc1234, built 2026-11-27T13:00:00Z, go") {
		t.Fatalf("version = %q", out)
	}
	var v versionInfo
	if err := json.Unmarshal([]byte(r.mustRun("", "version", "--json")), &v); err != nil {
		t.Fatal(err)
	}
	if v.Version != "1.2.3" || v.Commit != "abc1234" || v.Date != "2026-11-27T13:00:00Z" || v.Go == "" {
		t.Fatalf("version --json = %+v", v)
	}
}

func TestConfigPathShowsWhereFilesLive(t *testing.T) {
	r := newFoundationRig(t)
	if out := r.mustRun("", "config", "path"); out != filepath.Join(r.home, "config.toml")+"\n" {
		t.Fatalf("config path = %q", out)
	}
	all := r.mustRun("", "config", "path", "--all")
	for _, want := range []string{"database  " + filepath.Join(r.home, "influencegen.db"), "log       " + filepath.Join(r.home, "influencegen.log")} {
		if !strings.Contains(all, want) {
			t.Errorf("config path --all lacks %q:\n%s", want, all)
		}
	}
	var p app.Paths
	if err := json.Unmarshal([]byte(r.mustRun("", "config", "path", "--json")), &p); err != nil {
		t.Fatal(err)
	}
	if p.Home != r.home || p.ImagesDir != filepath.Join(r.home, "images") {
		t.Fatalf("config path --json = %+v", p)
	}
}

func TestConfigSetThenShowNeverPrintsCredentials(t *testing.T) {
	r := newFoundationRig(t)
	r.mustRun("", "config", "set", "n8n.webhook_url", "https://bot:hunter2@n8n.example.com/webhook/gen?token=abc123&x=1")
	if out := r.mustRun("", "config", "set", "callback.max_body", "16MiB"); !strings.Contains(out, "set callback.max_body in "+filepath.Join(r.home, "config.toml")) {
		t.Fatalf("config set said %q", out)
	}
	r.environ["INFLUENCEGEN_ODOO_DATABASE"] = "prod"

	show := r.mustRun("", "config", "show")
	for _, secret := range []string{"hunter2", "abc123"} {
		if strings.Contains(show, secret) {
			t.Fatalf("config show printed %q:\n%s", secret, show)
		}
	}
	for _, want := range []string{`max_body = "16MiB"`, `database = "prod"`, "bot:xxxxx@n8n.example.com", "x=1"} {
		if !strings.Contains(show, want) {
			t.Errorf("config show lacks %q:\n%s", want, show)
		}
	}
	var doc shownConfig
	if err := json.Unmarshal([]byte(r.mustRun("", "config", "show", "--json")), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Config.Callback.MaxBody != 16<<20 || doc.Config.Odoo.Database != "prod" || strings.Contains(doc.Config.N8N.WebhookURL, "hunter2") {
		t.Fatalf("config show --json = %+v", doc)
	}
}

func TestConfigErrorsExitWithUsageAndNameTheFix(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		args     []string
		wantCode int
		want     string
	}{
		{"setting a secret-looking key points at secrets set", "", []string{"config", "set", "n8n.api_key", "abc"}, 2, "influencegen secrets set n8n-api-key"},
		{"setting an unknown key lists the section's keys", "", []string{"config", "set", "ui.colour", "red"}, 2, "the keys of [ui] are notify"},
		{"setting a bad value names the key", "", []string{"config", "set", "n8n.timeout", "soon"}, 2, `n8n.timeout: "soon" is not a duration`},
		{"set needs a key and a value", "", []string{"config", "set", "n8n.timeout"}, 2, "accepts 2 arg(s)"},
		{"show on a broken file names the key and the file", "[n8n]\ntimeout = 5\n", []string{"config", "show"}, 2, "config.toml: line 2, key n8n.timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newFoundationRig(t)
			if tt.file != "" {
				if err := os.WriteFile(filepath.Join(r.home, "config.toml"), []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			code, _, stderr := r.run("", tt.args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want %d containing %q", code, stderr, tt.wantCode, tt.want)
			}
		})
	}
}

func TestConfigPathAndSetStillWorkWhenTheFileIsBroken(t *testing.T) {
	r := newFoundationRig(t)
	file := filepath.Join(r.home, "config.toml")
	if err := os.WriteFile(file, []byte("[callback]\nauth = \"magic\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := r.mustRun("", "config", "path"); out != file+"\n" {
		t.Fatalf("config path = %q", out)
	}
	r.mustRun("", "config", "set", "callback.auth", "token")
	r.mustRun("", "config", "show")
}

func TestSecretsSetGetStatusDeleteThroughTheCLI(t *testing.T) {
	r := newFoundationRig(t)
	out := r.mustRun("n8n-value-123\n", "secrets", "set", "n8n-api-key")
	if !strings.Contains(out, "stored n8n-api-key in the keyring (profile default, fingerprint "+app.Fingerprint("n8n-value-123")+")") {
		t.Fatalf("set said %q", out)
	}
	if strings.Contains(out, "n8n-value-123") {
		t.Fatal("set echoed the secret")
	}
	if got := r.mustRun("", "secrets", "get", "n8n-api-key"); got != "n8n-value-123\n" {
		t.Fatalf("get = %q (one trailing newline of the input must be trimmed)", got)
	}
	// Only one newline is trimmed: a CRLF pipe from Windows loses its \r\n.
	r.mustRun("odoo-key\r\n", "secrets", "set", "odoo-api-key")
	if got := r.mustRun("", "secrets", "get", "odoo-api-key"); got != "odoo-key\n" {
		t.Fatalf("get = %q", got)
	}

	status := r.mustRun("", "secrets", "status")
	for _, want := range []string{"n8n-api-key              keyring  " + app.Fingerprint("n8n-value-123"), "callback-token           missing  -            create with: influencegen secrets rotate callback-token"} {
		if !strings.Contains(status, want) {
			t.Errorf("status lacks %q:\n%s", want, status)
		}
	}
	if strings.Contains(status, "n8n-value-123") {
		t.Fatal("status printed a secret")
	}

	r.mustRun("", "secrets", "delete", "n8n-api-key")
	code, _, stderr := r.run("", "secrets", "get", "n8n-api-key")
	if code != 1 || !strings.Contains(stderr, "n8n-api-key is not set: run `influencegen secrets set n8n-api-key`") {
		t.Fatalf("get after delete: exit %d, %q", code, stderr)
	}
	code, _, stderr = r.run("", "secrets", "delete", "n8n-api-key")
	if code != 1 || !strings.Contains(stderr, "nothing to delete") {
		t.Fatalf("second delete: exit %d, %q", code, stderr)
	}
}

func TestRotateThenStatusShowsTheNewTokenAndThePreviousWithItsExpiry(t *testing.T) {
	r := newFoundationRig(t)
	first := strings.Split(r.mustRun("", "secrets", "rotate", "callback-token"), "\n")
	if len(first[0]) != 43 || !strings.Contains(first[1], "no previous token is accepted") {
		t.Fatalf("first rotate = %q", first)
	}
	before := time.Now()
	out := r.mustRun("", "secrets", "rotate", "callback-token", "--grace", "10m")
	lines := strings.Split(out, "\n")
	token := lines[0]
	if len(token) != 43 || token == first[0] {
		t.Fatalf("new token %q", token)
	}
	if !strings.HasPrefix(lines[1], "previous token accepted until ") || !strings.Contains(lines[1], "(grace 10m0s)") {
		t.Fatalf("second line = %q, want the grace expiry", lines[1])
	}

	var doc secretsStatusDoc
	if err := json.Unmarshal([]byte(r.mustRun("", "secrets", "status", "--json")), &doc); err != nil {
		t.Fatal(err)
	}
	cur, prev := doc.Secrets[1], doc.Secrets[2]
	if doc.Profile != "default" || cur.Name != "callback-token" || cur.Fingerprint != app.Fingerprint(token) || cur.Source != "keyring" {
		t.Fatalf("current = %+v", cur)
	}
	if prev.Fingerprint != app.Fingerprint(first[0]) || prev.ExpiresAt == nil || prev.Expired ||
		prev.ExpiresAt.Before(before.Add(10*time.Minute-time.Second)) || prev.ExpiresAt.After(time.Now().Add(10*time.Minute)) {
		t.Fatalf("previous = %+v, want the first token's fingerprint and an expiry 10m out", prev)
	}
	table := r.mustRun("", "secrets", "status")
	if !strings.Contains(table, "callback-token-previous  keyring  "+app.Fingerprint(first[0])+"     accepted until ") {
		t.Fatalf("status table:\n%s", table)
	}

	var rot rotateDoc
	if err := json.Unmarshal([]byte(r.mustRun("", "secrets", "rotate", "callback-token", "--json", "--grace", "0")), &rot); err != nil {
		t.Fatal(err)
	}
	if rot.PreviousExpiresAt != nil || rot.Fingerprint != app.Fingerprint(rot.Token) || rot.Grace != "0s" {
		t.Fatalf("rotate --json = %+v", rot)
	}
}

func TestAnEnvOverrideWinsAndSetSaysSo(t *testing.T) {
	r := newFoundationRig(t)
	r.environ["INFLUENCEGEN_ODOO_API_KEY"] = "from-env"
	code, out, stderr := r.run("from-stdin", "secrets", "set", "odoo-api-key")
	if code != 0 || !strings.Contains(stderr, "INFLUENCEGEN_ODOO_API_KEY is set and wins over the keyring") || !strings.Contains(out, "stored odoo-api-key") {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	if got := r.mustRun("", "secrets", "get", "odoo-api-key"); got != "from-env\n" {
		t.Fatalf("get = %q, the env override must win", got)
	}
	if status := r.mustRun("", "secrets", "status"); !strings.Contains(status, "odoo-api-key             env      "+app.Fingerprint("from-env")+"     from INFLUENCEGEN_ODOO_API_KEY") {
		t.Fatalf("status:\n%s", status)
	}
}

func TestWithoutAKeyringSecretsCommandsFailFastNamingTheEnvOverride(t *testing.T) {
	r := newFoundationRig(t)
	keyring.MockInitWithError(errors.New(`exec: "dbus-launch": executable file not found in $PATH`))
	t.Cleanup(keyring.MockInit)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"secrets", "status"}, "INFLUENCEGEN_N8N_API_KEY or INFLUENCEGEN_N8N_API_KEY_FILE"},
		{[]string{"secrets", "status", "--json"}, "gnome-keyring, KeePassXC"},
		{[]string{"secrets", "rotate", "callback-token"}, "INFLUENCEGEN_CALLBACK_TOKEN or INFLUENCEGEN_CALLBACK_TOKEN_FILE"},
		{[]string{"secrets", "get", "webhook-secret"}, "INFLUENCEGEN_WEBHOOK_SECRET"},
	}
	for _, tt := range tests {
		start := time.Now()
		code, out, stderr := r.run("", tt.args...)
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("%v took %v", tt.args, took)
		}
		if code != 1 || !strings.Contains(stderr, tt.want) || !strings.Contains(stderr, "no D-Bus session bus") {
			t.Errorf("%v: exit %d, stderr %q; want 1 naming %q", tt.args, code, stderr, tt.want)
		}
		if tt.args[len(tt.args)-1] == "--json" {
			var doc secretsStatusDoc
			if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Secrets) != len(app.SecretNames) || doc.Secrets[0].Error == "" {
				t.Errorf("status --json must still print the document with each error: %v\n%s", err, out)
			}
		}
	}
}

func TestUsageMistakesExitWithCodeTwo(t *testing.T) {
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"an unknown command", "", []string{"bogus"}, `unknown command "bogus"`},
		{"an unknown flag", "", []string{"version", "--yaml"}, "unknown flag: --yaml"},
		{"set without a name", "x", []string{"secrets", "set"}, "accepts 1 arg(s)"},
		{"set with the value in argv", "x", []string{"secrets", "set", "n8n-api-key", "value"}, "accepts 1 arg(s)"},
		{"an unknown secret name", "x", []string{"secrets", "set", "n8n-key"}, `unknown secret "n8n-key": use one of n8n-api-key`},
		{"an empty value", "\n", []string{"secrets", "set", "n8n-api-key"}, "n8n-api-key: the value is empty"},
		{"rotating another secret", "", []string{"secrets", "rotate", "n8n-api-key"}, "only callback-token can be rotated"},
		{"a negative grace", "", []string{"secrets", "rotate", "callback-token", "--grace", "-1m"}, "--grace -1m0s is negative"},
		{"a bad grace", "", []string{"secrets", "rotate", "callback-token", "--grace", "soon"}, `invalid argument "soon"`},
		{"a profile with a slash", "", []string{"--profile", "a/b", "secrets", "status"}, `--profile "a/b": use only letters, digits`},
		{"a bad log level", "", []string{"--log-level", "loud", "secrets", "status"}, `--log-level "loud"`},
		{"setting the previous token by hand", "x", []string{"secrets", "set", "callback-token-previous"}, "managed by `influencegen secrets rotate callback-token`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newFoundationRig(t)
			code, _, stderr := r.run(tt.stdin, tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want 2 containing %q", code, stderr, tt.want)
			}
		})
	}
}

func TestProfilesKeepSecretsApart(t *testing.T) {
	r := newFoundationRig(t)
	r.mustRun("work-key", "--profile", "work", "secrets", "set", "n8n-api-key")
	if code, _, _ := r.run("", "secrets", "get", "n8n-api-key"); code != 1 {
		t.Fatal("the default profile sees the work profile's secret")
	}
	if got := r.mustRun("", "--profile", "work", "secrets", "get", "n8n-api-key"); got != "work-key\n" {
		t.Fatalf("get = %q", got)
	}
}

func TestShellCompletionComesFromCobra(t *testing.T) {
	r := newFoundationRig(t)
	out := r.mustRun("", "completion", "bash")
	if !strings.Contains(out, "__start_influencegen") {
		t.Fatalf("completion bash printed no bash completion:\n%.200s", out)
	}
}

func TestNoSecretReachesTheLogFileThroughTheCLI(t *testing.T) {
	r := newFoundationRig(t)
	r.mustRun("cli-secret-value-9876", "secrets", "set", "n8n-api-key")
	token := strings.SplitN(r.mustRun("", "secrets", "rotate", "callback-token"), "\n", 2)[0]
	r.mustRun("", "secrets", "rotate", "callback-token")
	log, err := os.ReadFile(filepath.Join(r.home, "influencegen.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), app.Fingerprint("cli-secret-value-9876")) {
		t.Fatalf("the log should record the store by fingerprint:\n%s", log)
	}
	for _, secret := range []string{"cli-secret-value-9876", token} {
		if strings.Contains(string(log), secret) {
			t.Fatalf("a secret reached the log:\n%s", log)
		}
	}
}
