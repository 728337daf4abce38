package app

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestByteSizesParseHumanForms(t *testing.T) {
	cases := map[string]ByteSize{"32MiB": 32 << 20, "512KiB": 512 << 10, "1048576": 1 << 20, "2 GiB": 2 << 30, "10MB": 10_000_000, "1.5k": 1536}
	for in, want := range cases {
		got, err := ParseByteSize(in)
		if err != nil || got != want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "lots", "-1MiB", "12XB"} {
		if _, err := ParseByteSize(bad); err == nil || !strings.Contains(err.Error(), "32MiB") {
			t.Errorf("ParseByteSize(%q) should fail with an example, got %v", bad, err)
		}
	}
	if s := ByteSize(32 << 20).String(); s != "32MiB" {
		t.Errorf("String = %s", s)
	}
}

func TestDurationsParseHumanForms(t *testing.T) {
	var d Duration
	if err := d.UnmarshalText([]byte("1h30m")); err != nil || d.D() != 90*time.Minute {
		t.Fatalf("got %v %v", d, err)
	}
	if err := d.UnmarshalText([]byte("soon")); err == nil || !strings.Contains(err.Error(), "15s") {
		t.Fatalf("bad duration error should show an example: %v", err)
	}
}

func TestDefaultConfigPassesItsOwnCheck(t *testing.T) {
	if err := DefaultConfig().Check(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigCheckNamesEachBadKey(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"an unknown auth mode", func(c *Config) { c.Callback.Auth = "magic" }, "callback.auth"},
		{"an unknown odoo protocol", func(c *Config) { c.Odoo.Protocol = "xmlrpc" }, "odoo.protocol"},
		{"no models", func(c *Config) { c.Generation.Models = nil }, "generation.models"},
		{"a default model outside the list", func(c *Config) { c.Generation.DefaultModel = "x" }, "generation.default_model"},
		{"a bad default resolution", func(c *Config) { c.Generation.DefaultResolution = "big" }, "generation.default_resolution"},
		{"a zero timeout", func(c *Config) { c.N8N.Timeout = 0 }, "n8n.timeout"},
		{"a tiny body limit", func(c *Config) { c.Callback.MaxBody = 10 }, "callback.max_body"},
		{"a webhook url without scheme", func(c *Config) { c.N8N.WebhookURL = "n8n.example.com" }, "n8n.webhook_url"},
		{"an odoo url without scheme", func(c *Config) { c.Odoo.URL = "odoo" }, "odoo.url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			c.mutate(&cfg)
			err := cfg.Check()
			if err == nil || !strings.Contains(err.Error(), c.want) || ErrorCode(err) != EINVALID {
				t.Fatalf("got %v, want an invalid error naming %s", err, c.want)
			}
		})
	}
}

func TestErrorsCarryCodesReasonsAndCauses(t *testing.T) {
	cause := Errorf(ENOTFOUND, "request %s not found", "X")
	wrapped := ReasonErrorf(EUNAVAILABLE, "n8n_unreachable", "n8n at %s: %w", "host", cause)
	if ErrorCode(wrapped) != EUNAVAILABLE || ErrorReason(wrapped) != "n8n_unreachable" {
		t.Fatalf("code/reason = %s/%s", ErrorCode(wrapped), ErrorReason(wrapped))
	}
	if !errors.Is(wrapped, cause) {
		t.Fatal("%w must keep the cause")
	}
	if ErrorMessage(errFake("db path /secret")) != "internal error" {
		t.Fatal("foreign errors must not leak their text to users")
	}
	if ErrorCode(nil) != "" || ErrorReason(Errorf(ECONFLICT, "x")) != ECONFLICT {
		t.Fatal("nil has no code; reason falls back to the code")
	}
	if Fingerprint("secret") != "2bb80d53" || Fingerprint("") != "" {
		t.Fatalf("fingerprint = %s", Fingerprint("secret"))
	}
}

type errFake string

func (e errFake) Error() string { return string(e) }

func TestProviderModelsReplaceTheGenerationModels(t *testing.T) {
	cfg := DefaultConfig()
	cfg.N8N.Models = []string{"gpt-image-1", "dall-e-3"}
	cfg.ApplyProviderModels()
	if d := cfg.Defaults(); d.DefaultModel != "gpt-image-1" || len(d.Models) != 2 || d.Models[1] != "dall-e-3" {
		t.Errorf("defaults = %+v; want the provider's models, default its first", d)
	}
	plain := DefaultConfig()
	plain.ApplyProviderModels()
	if plain.Generation.DefaultModel != "sdxl" {
		t.Errorf("without n8n.models the configured list stays: %+v", plain.Generation)
	}
}
