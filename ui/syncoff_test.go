package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestWithOdooOffNoRowClaimsASyncStateAndTheDetailSaysSyncIsOff(t *testing.T) {
	r := newRig(t, true)
	r.b.Config.Odoo.URL = ""
	screen := ansi.Strip(r.model(t, 160, 48).View().Content)
	if strings.ContainsAny(screen, "◇◆") {
		t.Fatalf("sync marks shown while Odoo is off:\n%s", screen)
	}
	if !strings.Contains(screen, "sync off (odoo.url is not set)") {
		t.Fatalf("the detail should say sync is off:\n%s", screen)
	}
}

func TestTheHeaderSaysWhenSecretsLiveOnlyInMemory(t *testing.T) {
	r := newRig(t, false)
	if strings.Contains(ansi.Strip(r.model(t, 160, 48).View().Content), "secrets in memory") {
		t.Fatal("no memory notice expected with a keyring")
	}
	r.b.SecretsInMemory = true
	if !strings.Contains(ansi.Strip(r.model(t, 160, 48).View().Content), "secrets in memory (no Secret Service)") {
		t.Fatal("the header must say the demo's secrets vanish on quit")
	}
}
