package app

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is the whole non-secret configuration (DESIGN §1). Secrets never
// appear here: see Secrets.
type Config struct {
	N8N        N8NConfig        `toml:"n8n" json:"n8n"`
	Callback   CallbackConfig   `toml:"callback" json:"callback"`
	Generation GenerationConfig `toml:"generation" json:"generation"`
	Odoo       OdooConfig       `toml:"odoo" json:"odoo"`
	UI         UIConfig         `toml:"ui" json:"ui"`
	Store      StoreConfig      `toml:"store" json:"store"`
	SSH        SSHConfig        `toml:"ssh" json:"ssh"`
}

type N8NConfig struct {
	WebhookURL   string   `toml:"webhook_url" json:"webhook_url"`
	APIKeyHeader string   `toml:"api_key_header" json:"api_key_header"`
	Timeout      Duration `toml:"timeout" json:"timeout"`
	// Models are the chosen provider's models (`n8n setup` writes them);
	// when set, the composer offers these instead of generation.models.
	Models []string `toml:"models" json:"models"`
}

type CallbackConfig struct {
	Listen    string   `toml:"listen" json:"listen"`
	PublicURL string   `toml:"public_url" json:"public_url"`
	Auth      string   `toml:"auth" json:"auth"` // token | signature | token+signature
	MaxBody   ByteSize `toml:"max_body" json:"max_body"`
	// MaxInFlight bounds the callback bytes held in memory across all
	// connections at once; over it a callback is answered 503 + Retry-After.
	MaxInFlight     ByteSize `toml:"max_in_flight" json:"max_in_flight"`
	AllowImageHosts []string `toml:"allow_image_hosts" json:"allow_image_hosts"`
	TrustedProxies  []string `toml:"trusted_proxies" json:"trusted_proxies"`
	// ImageDeadline bounds the download of all images of one callback
	// together; what is not in by then is unavailable.
	ImageDeadline Duration `toml:"image_deadline" json:"image_deadline"`
}

type GenerationConfig struct {
	Models            []string `toml:"models" json:"models"`
	DefaultModel      string   `toml:"default_model" json:"default_model"`
	DefaultResolution string   `toml:"default_resolution" json:"default_resolution"`
	RequestTimeout    Duration `toml:"request_timeout" json:"request_timeout"`
}

type OdooConfig struct {
	URL          string `toml:"url" json:"url"`
	Database     string `toml:"database" json:"database"`
	Username     string `toml:"username" json:"username"`
	Protocol     string `toml:"protocol" json:"protocol"` // auto | json2 | jsonrpc
	RequestModel string `toml:"request_model" json:"request_model"`
	ImageModel   string `toml:"image_model" json:"image_model"`
	// The shared queue (issue 15): with AcceptRequests this host claims
	// requests made in Odoo every PollInterval (and at once on start); a
	// claim still queued in Odoo after ClaimTimeout goes to another host.
	AcceptRequests bool     `toml:"accept_requests" json:"accept_requests"`
	PollInterval   Duration `toml:"poll_interval" json:"poll_interval"`
	ClaimTimeout   Duration `toml:"claim_timeout" json:"claim_timeout"`
}

// StoreConfig tunes the local database's housekeeping (the collector).
type StoreConfig struct {
	// DeliveryRetention is how long the body of a processed callback is
	// kept; its idempotency key and outcome are kept for good, so a replay
	// is still recognised.
	DeliveryRetention Duration `toml:"delivery_retention" json:"delivery_retention"`
}

type UIConfig struct {
	Notify bool `toml:"notify" json:"notify"`
}

// SSHConfig is the team host (issue 16): the dashboard served over SSH
// by `serve --ssh` to the people listed in team.toml.
type SSHConfig struct {
	Enabled     bool     `toml:"enabled" json:"enabled"` // serve starts the SSH server without --ssh
	Listen      string   `toml:"listen" json:"listen"`   // loopback by default, like the callback listener
	MaxSessions int      `toml:"max_sessions" json:"max_sessions"`
	MaxPerUser  int      `toml:"max_per_user" json:"max_per_user"`
	IdleTimeout Duration `toml:"idle_timeout" json:"idle_timeout"` // no key for this long ends a session
	KeepAlive   Duration `toml:"keep_alive" json:"keep_alive"`     // interval of the server's keep-alive probes
}

// Callback auth modes.
const (
	AuthToken          = "token"
	AuthSignature      = "signature"
	AuthTokenSignature = "token+signature"
)

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		N8N: N8NConfig{APIKeyHeader: "X-API-Key", Timeout: Duration(15 * time.Second)},
		Callback: CallbackConfig{
			Listen: "127.0.0.1:8787", Auth: AuthToken, MaxBody: 32 << 20, MaxInFlight: 128 << 20,
			AllowImageHosts: []string{}, TrustedProxies: []string{},
			ImageDeadline: Duration(2 * time.Minute),
		},
		Generation: GenerationConfig{
			Models:            []string{"sdxl", "sd3.5-large", "flux-dev"},
			DefaultModel:      "sdxl",
			DefaultResolution: "1024x1024",
			RequestTimeout:    Duration(30 * time.Minute),
		},
		Odoo: OdooConfig{
			Protocol:     "auto",
			RequestModel: "influence_gen.ai_image_generation_request",
			ImageModel:   "influence_gen.generated_image",
			PollInterval: Duration(5 * time.Second),
			ClaimTimeout: Duration(10 * time.Minute),
		},
		UI:    UIConfig{Notify: true},
		Store: StoreConfig{DeliveryRetention: Duration(30 * 24 * time.Hour)},
		SSH: SSHConfig{Listen: "127.0.0.1:23234", MaxSessions: 32, MaxPerUser: 4,
			IdleTimeout: Duration(30 * time.Minute), KeepAlive: Duration(30 * time.Second)},
	}
}

// Defaults returns what parameter validation needs.
func (c Config) Defaults() GenerationDefaults {
	return GenerationDefaults{Models: c.Generation.Models, DefaultModel: c.Generation.DefaultModel, DefaultResolution: c.Generation.DefaultResolution}
}

// ApplyProviderModels makes n8n.models (the provider's list, written by
// `n8n setup`) the models the composer and validation offer; the default
// model falls back to the provider's first when it is not one of them.
func (c *Config) ApplyProviderModels() {
	if len(c.N8N.Models) == 0 {
		return
	}
	c.Generation.Models = slices.Clone(c.N8N.Models)
	if !slices.Contains(c.Generation.Models, c.Generation.DefaultModel) {
		c.Generation.DefaultModel = c.Generation.Models[0]
	}
}

// OdooEnabled reports whether sync is configured.
func (c Config) OdooEnabled() bool { return c.Odoo.URL != "" }

// Check validates values that decoding cannot: each message names the key.
func (c Config) Check() error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	switch c.Callback.Auth {
	case AuthToken, AuthSignature, AuthTokenSignature:
	default:
		add("callback.auth = %q: use token, signature or token+signature", c.Callback.Auth)
	}
	switch c.Odoo.Protocol {
	case "auto", "json2", "jsonrpc":
	default:
		add("odoo.protocol = %q: use auto, json2 or jsonrpc", c.Odoo.Protocol)
	}
	if len(c.Generation.Models) == 0 {
		add("generation.models is empty: list at least one model, e.g. [\"sdxl\"]")
	}
	found := false
	for _, m := range c.Generation.Models {
		found = found || m == c.Generation.DefaultModel
	}
	if !found && len(c.Generation.Models) > 0 {
		add("generation.default_model = %q is not in generation.models", c.Generation.DefaultModel)
	}
	if _, _, err := ParseResolution(c.Generation.DefaultResolution); err != nil {
		add("generation.default_resolution: %v", err)
	}
	if c.Odoo.PollInterval <= 0 {
		add("odoo.poll_interval must be positive, e.g. \"5s\"")
	}
	if c.Odoo.ClaimTimeout < Duration(time.Minute) {
		add("odoo.claim_timeout = %s is too short: a host needs time to send a claimed request; use at least 1m (default 10m)", c.Odoo.ClaimTimeout)
	}
	if c.N8N.Timeout <= 0 {
		add("n8n.timeout must be positive, e.g. \"15s\"")
	}
	if c.Callback.ImageDeadline <= 0 {
		add("callback.image_deadline must be positive, e.g. \"2m\"")
	}
	if c.Store.DeliveryRetention <= 0 {
		add("store.delivery_retention must be positive, e.g. \"720h\" (30 days)")
	}
	if c.Generation.RequestTimeout <= 0 {
		add("generation.request_timeout must be positive, e.g. \"30m\"")
	}
	if c.Callback.MaxBody < 1<<10 {
		add("callback.max_body = %s is too small: use at least 1KiB (default 32MiB)", c.Callback.MaxBody)
	}
	if c.Callback.MaxInFlight != 0 && c.Callback.MaxInFlight < 2*c.Callback.MaxBody {
		add("callback.max_in_flight = %s is too small: use at least twice callback.max_body (%s), or 0 for the default", c.Callback.MaxInFlight, 2*c.Callback.MaxBody)
	}
	if c.N8N.WebhookURL != "" && !strings.HasPrefix(c.N8N.WebhookURL, "http://") && !strings.HasPrefix(c.N8N.WebhookURL, "https://") {
		add("n8n.webhook_url = %q: must start with http:// or https://", c.N8N.WebhookURL)
	}
	if c.Odoo.URL != "" && !strings.HasPrefix(c.Odoo.URL, "http://") && !strings.HasPrefix(c.Odoo.URL, "https://") {
		add("odoo.url = %q: must start with http:// or https://", c.Odoo.URL)
	}
	if c.SSH.MaxSessions < 1 || c.SSH.MaxPerUser < 1 {
		add("ssh.max_sessions and ssh.max_per_user must be at least 1 (defaults 32 and 4)")
	}
	if c.SSH.IdleTimeout < Duration(2*time.Minute) {
		add("ssh.idle_timeout = %s is too short: use at least 2m (a warning comes a minute before)", c.SSH.IdleTimeout)
	}
	if c.SSH.KeepAlive <= 0 {
		add("ssh.keep_alive must be positive, e.g. \"30s\"")
	}
	if len(problems) > 0 {
		return Errorf(EINVALID, "%s", strings.Join(problems, "; "))
	}
	return nil
}

// Duration is a time.Duration written as "15s", "30m" in config and JSON.
type Duration time.Duration

func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("%q is not a duration: write it like 15s, 2m or 1h30m", string(b))
	}
	*d = Duration(v)
	return nil
}

// ByteSize is a size written as "32MiB", "512KB" or a plain byte count.
type ByteSize int64

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30},
	{"kb", 1000}, {"mb", 1000 * 1000}, {"gb", 1000 * 1000 * 1000},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"b", 1},
}

func ParseByteSize(s string) (ByteSize, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size: write it like 32MiB, 512KiB or 1048576", s)
	}
	return ByteSize(n * float64(mult)), nil
}

func (b ByteSize) String() string {
	switch {
	case b >= 1<<30 && b%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", b>>30)
	case b >= 1<<20 && b%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", b>>20)
	case b >= 1<<10 && b%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", b>>10)
	}
	return strconv.FormatInt(int64(b), 10)
}

func (b ByteSize) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

func (b *ByteSize) UnmarshalText(t []byte) error {
	v, err := ParseByteSize(string(t))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// Paths are where the program keeps its files (DESIGN §1).
type Paths struct {
	Home       string `json:"home,omitempty"` // set when INFLUENCEGEN_HOME / --home put everything in one folder
	ConfigFile string `json:"config"`
	DataDir    string `json:"data_dir"`
	DB         string `json:"db"`
	ImagesDir  string `json:"images"`
	LogFile    string `json:"log"`
}
