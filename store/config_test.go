package store

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

// configEnv builds LoadOptions over a fake environment rooted in a temp dir.
func configEnv(t *testing.T, env map[string]string) LoadOptions {
	t.Helper()
	root := t.TempDir()
	return LoadOptions{
		Getenv:        func(k string) string { return env[k] },
		UserConfigDir: func() (string, error) { return filepath.Join(root, "config"), nil },
		UserHomeDir:   func() (string, error) { return filepath.Join(root, "home"), nil },
		GOOS:          "linux",
	}
}

func writeConfig(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestPathsFollowTheDesign(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		home string
		goos string
		want func(root string) app.Paths
	}{
		{"XDG folders are used on Linux when set", map[string]string{"XDG_DATA_HOME": "/xdg/data", "XDG_STATE_HOME": "/xdg/state"}, "", "linux",
			func(root string) app.Paths {
				return app.Paths{ConfigFile: root + "/config/influencegen/config.toml", DataDir: "/xdg/data/influencegen",
					DB: "/xdg/data/influencegen/influencegen.db", ImagesDir: "/xdg/data/influencegen/images", LogFile: "/xdg/state/influencegen/influencegen.log"}
			}},
		{"without XDG variables Linux uses ~/.local/share and ~/.local/state", nil, "", "linux",
			func(root string) app.Paths {
				return app.Paths{ConfigFile: root + "/config/influencegen/config.toml", DataDir: root + "/home/.local/share/influencegen",
					DB: root + "/home/.local/share/influencegen/influencegen.db", ImagesDir: root + "/home/.local/share/influencegen/images",
					LogFile: root + "/home/.local/state/influencegen/influencegen.log"}
			}},
		{"macOS uses Application Support and Logs", nil, "", "darwin",
			func(root string) app.Paths {
				return app.Paths{ConfigFile: root + "/config/influencegen/config.toml", DataDir: root + "/home/Library/Application Support/influencegen",
					DB: root + "/home/Library/Application Support/influencegen/influencegen.db", ImagesDir: root + "/home/Library/Application Support/influencegen/images",
					LogFile: root + "/home/Library/Logs/influencegen/influencegen.log"}
			}},
		{"INFLUENCEGEN_HOME puts everything in one folder", map[string]string{"INFLUENCEGEN_HOME": "/srv/ig", "XDG_DATA_HOME": "/xdg/data"}, "", "linux",
			func(string) app.Paths {
				return app.Paths{Home: "/srv/ig", ConfigFile: "/srv/ig/config.toml", DataDir: "/srv/ig", DB: "/srv/ig/influencegen.db",
					ImagesDir: "/srv/ig/images", LogFile: "/srv/ig/influencegen.log"}
			}},
		{"--home wins over INFLUENCEGEN_HOME", map[string]string{"INFLUENCEGEN_HOME": "/srv/ig"}, "/flag/home", "linux",
			func(string) app.Paths {
				return app.Paths{Home: "/flag/home", ConfigFile: "/flag/home/config.toml", DataDir: "/flag/home", DB: "/flag/home/influencegen.db",
					ImagesDir: "/flag/home/images", LogFile: "/flag/home/influencegen.log"}
			}},
		{"a home starting with ~ is under the user's home", nil, "~/ig", "linux",
			func(root string) app.Paths {
				h := root + "/home/ig"
				return app.Paths{Home: h, ConfigFile: h + "/config.toml", DataDir: h, DB: h + "/influencegen.db", ImagesDir: h + "/images", LogFile: h + "/influencegen.log"}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := configEnv(t, tt.env)
			opts.Home, opts.GOOS = tt.home, tt.goos
			root := filepath.Dir(cfgMust(opts.UserConfigDir()))
			got, err := ResolvePaths(opts)
			if err != nil {
				t.Fatal(err)
			}
			if want := tt.want(root); got != want {
				t.Fatalf("paths\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func cfgMust[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestConfigPrecedenceIsFlagThenEnvThenFileThenDefault(t *testing.T) {
	env := map[string]string{}
	opts := configEnv(t, env)
	paths, _ := ResolvePaths(opts)
	writeConfig(t, paths.ConfigFile, `
[n8n]
webhook_url = "https://n8n.example.com/webhook/influence-gen/generate"
timeout = "20s"

[callback]
listen = "127.0.0.1:9000"
max_body = "8MiB"
allow_image_hosts = ["file.example"]

[generation]
models = ["sdxl", "flux-dev"]
`)
	env["INFLUENCEGEN_N8N_TIMEOUT"] = "25s"
	env["INFLUENCEGEN_CALLBACK_LISTEN"] = "127.0.0.1:9100"
	env["INFLUENCEGEN_CALLBACK_TRUSTED_PROXIES"] = "10.0.0.1, 10.0.0.2,"
	env["INFLUENCEGEN_UI_NOTIFY"] = "false"
	opts.Overrides = map[string]string{"callback.listen": "127.0.0.1:9200"}

	cfg, _, err := LoadConfig(opts)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"a flag wins over env and file", cfg.Callback.Listen, "127.0.0.1:9200"},
		{"env wins over the file", cfg.N8N.Timeout, app.Duration(25 * time.Second)},
		{"the file wins over the default", cfg.Callback.MaxBody, app.ByteSize(8 << 20)},
		{"a file list replaces the default list", strings.Join(cfg.Generation.Models, ","), "sdxl,flux-dev"},
		{"an env list is comma-separated and trimmed", strings.Join(cfg.Callback.TrustedProxies, ","), "10.0.0.1,10.0.0.2"},
		{"an env boolean is parsed", cfg.UI.Notify, false},
		{"an unset key keeps its default", cfg.Odoo.Protocol, "auto"},
		{"a file string is read", cfg.N8N.WebhookURL, "https://n8n.example.com/webhook/influence-gen/generate"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestAMissingConfigFileMeansDefaults(t *testing.T) {
	cfg, paths, err := LoadConfig(configEnv(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(paths.ConfigFile); !os.IsNotExist(err) {
		t.Fatalf("loading created %s", paths.ConfigFile)
	}
	def := app.DefaultConfig()
	if cfg.Callback.Listen != def.Callback.Listen || cfg.N8N.Timeout != def.N8N.Timeout || len(cfg.Generation.Models) != 3 {
		t.Fatalf("cfg = %+v, want the defaults", cfg)
	}
}

func TestConfigErrorsNameTheKeyAndWhereItCameFrom(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		env       map[string]string
		overrides map[string]string
		want      []string
	}{
		{"an unknown key names the key, the file and the known keys", "[n8n]\ntimeout = \"5s\"\nwebhook = \"x\"\n", nil, nil,
			[]string{"config.toml", "unknown key n8n.webhook", "webhook_url, api_key_header, timeout"}},
		{"an unknown section is reported once", "[n9n]\nurl = \"x\"\n", nil, nil,
			[]string{"unknown section [n9n]", "[n8n], [callback]"}},
		{"a secret in the file points at secrets set", "[n8n]\napi_key = \"abc\"\n", nil, nil,
			[]string{"n8n.api_key looks like a secret", "influencegen secrets set n8n-api-key", "INFLUENCEGEN_N8N_API_KEY"}},
		{"a bad duration names the line and key", "[n8n]\ntimeout = \"soon\"\n", nil, nil,
			[]string{"config.toml: line 2, key n8n.timeout", `"soon" is not a duration`}},
		{"a bad size names the key", "[callback]\nmax_body = \"lots\"\n", nil, nil,
			[]string{"key callback.max_body", "32MiB"}},
		{"a wrong type names the key", "[ui]\nnotify = \"yes\"\n", nil, nil,
			[]string{"config.toml", `"ui.notify"`, "boolean"}},
		{"a TOML syntax error names the line", "[n8n\n", nil, nil,
			[]string{"config.toml: line"}},
		{"a value Check refuses names the file it came from", "[callback]\nauth = \"magic\"\n", nil, nil,
			[]string{`callback.auth = "magic": use token, signature or token+signature`, "set by config file", "config.toml"}},
		{"a value Check refuses names the env variable it came from", "", map[string]string{"INFLUENCEGEN_ODOO_PROTOCOL": "soap"}, nil,
			[]string{`odoo.protocol = "soap"`, "set by env INFLUENCEGEN_ODOO_PROTOCOL"}},
		{"a bad env value names the variable and the key", "", map[string]string{"INFLUENCEGEN_N8N_TIMEOUT": "5"}, nil,
			[]string{"INFLUENCEGEN_N8N_TIMEOUT (n8n.timeout)", `"5" is not a duration`}},
		{"a bad env boolean names the variable", "", map[string]string{"INFLUENCEGEN_UI_NOTIFY": "maybe"}, nil,
			[]string{"INFLUENCEGEN_UI_NOTIFY (ui.notify)", "use true or false"}},
		{"an unknown flag key lists the keys of its section", "", nil, map[string]string{"odoo.uri": "x"},
			[]string{"unknown key odoo.uri", "url, database, username"}},
		{"a bad flag value names the key", "", nil, map[string]string{"generation.request_timeout": "forever"},
			[]string{"flag for generation.request_timeout", `"forever" is not a duration`}},
		{"a default broken by another key says it is the default", "[generation]\nmodels = [\"flux-dev\"]\n", nil, nil,
			[]string{`generation.default_model = "sdxl" is not in generation.models (the default; set generation.default_model in`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := configEnv(t, tt.env)
			opts.Overrides = tt.overrides
			paths, _ := ResolvePaths(opts)
			if tt.file != "" {
				writeConfig(t, paths.ConfigFile, tt.file)
			}
			_, _, err := LoadConfig(opts)
			if app.ErrorCode(err) != app.EINVALID {
				t.Fatalf("err = %v (code %s), want invalid", err, app.ErrorCode(err))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestEveryConfigKeyHasAnEnvOverride(t *testing.T) {
	keys, envs := ConfigKeys()
	// At least the 20 of DESIGN §1; later issues add keys.
	for _, k := range []string{"callback.max_in_flight", "callback.image_deadline", "store.delivery_retention", "n8n.models", "ssh.listen", "ssh.max_sessions", "odoo.accept_requests", "odoo.poll_interval", "odoo.claim_timeout"} {
		if !slices.Contains(keys, k) {
			t.Fatalf("%d keys, want the 20 of DESIGN §1 and %s: %v", len(keys), k, keys)
		}
	}
	if len(keys) < 33 {
		t.Fatalf("%d keys, want at least 33: %v", len(keys), keys)
	}
	for i, k := range keys {
		want := "INFLUENCEGEN_" + strings.ToUpper(strings.ReplaceAll(k, ".", "_"))
		if envs[i] != want {
			t.Errorf("%s: env %s, want %s", k, envs[i], want)
		}
		for _, secretEnv := range envVars {
			if envs[i] == secretEnv {
				t.Errorf("config key %s collides with the secret override %s", k, secretEnv)
			}
		}
	}
}

func TestConfigSetKeepsOtherKeysAndValidates(t *testing.T) {
	opts := configEnv(t, nil)
	paths, _ := ResolvePaths(opts)
	writeConfig(t, paths.ConfigFile, "[n8n]\nwebhook_url = \"https://n8n.example.com/webhook/x\"\n\n[ui]\nnotify = false\n")

	if err := SetConfigValue(paths.ConfigFile, "callback.max_body", "16MiB"); err != nil {
		t.Fatal(err)
	}
	if err := SetConfigValue(paths.ConfigFile, "callback.allow_image_hosts", "a.example, b.example"); err != nil {
		t.Fatal(err)
	}
	if err := SetConfigValue(paths.ConfigFile, "N8N.Timeout", "45s"); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := LoadConfig(opts)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Callback.MaxBody != 16<<20 || cfg.N8N.Timeout != app.Duration(45*time.Second) ||
		strings.Join(cfg.Callback.AllowImageHosts, ",") != "a.example,b.example" {
		t.Fatalf("set values not loaded: %+v", cfg)
	}
	if cfg.N8N.WebhookURL != "https://n8n.example.com/webhook/x" || cfg.UI.Notify {
		t.Fatalf("other keys lost: %+v", cfg)
	}
	fi, err := os.Stat(paths.ConfigFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
}

func TestConfigSetCreatesTheFileAndItsFolder(t *testing.T) {
	opts := configEnv(t, nil)
	paths, _ := ResolvePaths(opts)
	if err := SetConfigValue(paths.ConfigFile, "odoo.url", "https://odoo.example.com"); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := LoadConfig(opts)
	if err != nil || cfg.Odoo.URL != "https://odoo.example.com" {
		t.Fatalf("cfg.Odoo.URL = %q, %v", cfg.Odoo.URL, err)
	}
	fi, err := os.Stat(filepath.Dir(paths.ConfigFile))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("config folder mode %v, %v; want 0700", fi.Mode().Perm(), err)
	}
}

func TestConfigSetRefusals(t *testing.T) {
	tests := []struct{ name, key, value, want string }{
		{"a secret-looking key points at secrets set", "odoo.api_key", "abc", "influencegen secrets set odoo-api-key"},
		{"a callback token points at the callback-token secret", "callback.token", "abc", "influencegen secrets set callback-token"},
		{"a password points at secrets set", "odoo.password", "abc", "secrets never go in the config file"},
		{"an unknown key lists the known ones", "ui.colour", "red", "unknown key ui.colour: the keys of [ui] are notify"},
		{"a bad value is refused before writing", "n8n.timeout", "soon", `n8n.timeout: "soon" is not a duration`},
		{"a value Check refuses leaves the file unchanged", "callback.auth", "magic", `callback.auth = "magic" would make the config invalid, so the file is unchanged`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := configEnv(t, nil)
			paths, _ := ResolvePaths(opts)
			writeConfig(t, paths.ConfigFile, "[ui]\nnotify = false\n")
			err := SetConfigValue(paths.ConfigFile, tt.key, tt.value)
			if app.ErrorCode(err) != app.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want invalid containing %q", err, tt.want)
			}
			if b, _ := os.ReadFile(paths.ConfigFile); string(b) != "[ui]\nnotify = false\n" {
				t.Fatalf("the file changed on a refused set:\n%s", b)
			}
		})
	}
}

func TestTheAPIKeyHeaderIsAConfigKeyNotASecret(t *testing.T) {
	opts := configEnv(t, nil)
	paths, _ := ResolvePaths(opts)
	if err := SetConfigValue(paths.ConfigFile, "n8n.api_key_header", "X-N8N-Key"); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := LoadConfig(opts)
	if err != nil || cfg.N8N.APIKeyHeader != "X-N8N-Key" {
		t.Fatalf("api_key_header = %q, %v", cfg.N8N.APIKeyHeader, err)
	}
}
