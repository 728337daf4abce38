package ui

import (
	"context"
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/influencegen/influencegen/app"
)

func TestRotatingTheTokenAsksFirstThenShowsItOnceWithCopy(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 100, 40)
	m = press(t, m, "a", "t")
	if m.confirm == nil || m.confirm.action != actionRotate || r.secrets.rotated != 0 {
		t.Fatal("t should ask before rotating")
	}
	if !strings.Contains(screenText(m), "for 15m0s") {
		t.Errorf("the question should say how long the old token stays valid:\n%s", screenText(m))
	}
	m = press(t, m, "y", "enter")
	if r.secrets.rotated != 0 || m.confirm == nil || !m.confirm.wrong {
		t.Fatal("a single y must not rotate the token")
	}
	m = press(t, m, "backspace")
	m = typeText(t, m, "rotate")
	m, msgs := do(t, m, keyMsg("enter"))
	if !hasMsg(msgs, "ui.tokenRotatedMsg") {
		t.Fatalf("y produced %v", msgTypes(msgs))
	}
	m = feedAll(t, m, msgs)
	token := r.secrets.values[app.SecretCallbackToken]
	screen := screenText(m)
	for _, want := range []string{token, "press c to copy", "x-callback-token header", "previous token works until 2026-11-27 14:15 UTC"} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q:\n%s", want, screen)
		}
	}
	// the table agrees with `secrets status`: the new fingerprint, and the previous token's expiry
	if !strings.Contains(screen, app.Fingerprint(token)) || !strings.Contains(screen, "valid until 2026-11-27 14:15 UTC") {
		t.Errorf("secrets table not refreshed:\n%s", screen)
	}
	m, msgs = do(t, m, keyMsg("c"))
	if !hasMsg(msgs, "tea.setClipboardMsg") {
		t.Fatalf("c produced %v", msgTypes(msgs))
	}
	m = press(t, m, "j")
	if strings.Contains(screenText(m), token) || m.admin.token != "" {
		t.Fatal("the token must be gone after any other key")
	}
}

func TestEscKeepsTheTokenUnrotated(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 100, 40)
	m = press(t, m, "a", "t", "n", "esc")
	if r.secrets.rotated != 0 || m.admin.mode != adminBrowse || m.confirm != nil {
		t.Fatal("n then esc must not rotate")
	}
}

func TestSettingASecretMasksWhatIsTyped(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 100, 40)
	m = press(t, m, "a", "j", "j", "j", "j", "e") // odoo-api-key
	if m.admin.mode != adminSetting || m.admin.settingName != app.SecretOdooAPIKey {
		t.Fatalf("mode %d name %q", m.admin.mode, m.admin.settingName)
	}
	m = typeText(t, m, "s3cr3t-value")
	if strings.Contains(m.View().Content, "s3cr3t") {
		t.Fatal("the typed secret is visible")
	}
	m = press(t, m, "enter")
	if m.confirm == nil || r.secrets.values[app.SecretOdooAPIKey] != "" {
		t.Fatal("enter should ask before replacing the secret")
	}
	m = typeText(t, m, app.SecretOdooAPIKey)
	m, msgs := do(t, m, keyMsg("enter"))
	if !hasMsg(msgs, "ui.secretSetMsg") {
		t.Fatalf("enter produced %v", msgTypes(msgs))
	}
	m = feedAll(t, m, msgs)
	if r.secrets.values[app.SecretOdooAPIKey] != "s3cr3t-value" {
		t.Fatal("not saved")
	}
	if !strings.Contains(screenText(m), app.Fingerprint("s3cr3t-value")) {
		t.Fatal("the table should show the new fingerprint")
	}
	if strings.Contains(m.View().Content, "s3cr3t") {
		t.Fatal("the saved secret is visible")
	}
}

func TestPastingASecretWorksAndEscDiscardsIt(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 100, 40)
	m = press(t, m, "a", "e")
	m = step(t, m, tea.PasteMsg{Content: "pasted-key"})
	m = press(t, m, "esc")
	if r.secrets.values[app.SecretN8NAPIKey] != "n8n-key" || m.admin.input.Value() != "" {
		t.Fatal("esc must discard the typed value")
	}
}

func TestTestingOdooShowsEachCheck(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 100, 40)
	m, msgs := do(t, press(t, m, "a"), keyMsg("o"))
	if !hasMsg(msgs, "ui.erpCheckedMsg") {
		t.Fatalf("o produced %v", msgTypes(msgs))
	}
	m = feedAll(t, m, msgs)
	if s := screenText(m); !strings.Contains(s, "Odoo 19.0 · json2 · admin") || !strings.Contains(s, "✓ login") {
		t.Fatalf("check not shown:\n%s", s)
	}
}

func TestAnOdooCheckFailureIsShown(t *testing.T) {
	r := newRig(t, true)
	r.b.ERP = fakeERP{err: app.Errorf(app.EUNAVAILABLE, "odoo.example.com: connection refused")}
	m := r.model(t, 100, 40)
	m = press(t, m, "a", "o")
	if !strings.Contains(screenText(m), "✗ odoo.example.com: connection refused") {
		t.Fatalf("%s", screenText(m))
	}
}

func TestWithoutOdooTheCheckSaysHowToConfigureIt(t *testing.T) {
	r := newRig(t, true)
	r.b.ERP = nil
	r.b.Config.Odoo.URL = ""
	m := r.model(t, 100, 40)
	m = press(t, m, "a", "o")
	if !strings.Contains(screenText(m), "not configured (odoo.url is empty)") || strings.Contains(screenText(m), "test Odoo") {
		t.Fatalf("%s", screenText(m))
	}
}

func TestAServiceErrorIsShownInTheStatusLine(t *testing.T) {
	r := newRig(t, true)
	r.svc.err = app.Errorf(app.ECONFLICT, "request is being sent to n8n right now")
	m := r.model(t, 100, 30)
	m = press(t, m, "j", "j", "j", "j", "r") // the init failure
	if !m.flashErr || !strings.Contains(screenText(m), "being sent to n8n right now") {
		t.Fatalf("flash %q", m.flash)
	}
}

func TestAStoreFailureIsShownInsteadOfAnEmptyList(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 100, 30)
	m = step(t, m, pageLoadedMsg{seq: m.list.seq, mode: loadTop, err: errors.New("disk I/O error")})
	if !strings.Contains(screenText(m), "cannot read requests") {
		t.Fatal(screenText(m))
	}
	_ = context.Background()
}

func TestRotationsAndSecretChangesAreInTheActivityLog(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 160, 40)
	m = press(t, m, "a", "t")
	m = typeText(t, m, "rotate")
	m = press(t, m, "enter", "esc", "j", "j", "j", "j", "e")
	m = typeText(t, m, "odoo-secret")
	m = press(t, m, "enter")
	m = typeText(t, m, app.SecretOdooAPIKey)
	m = press(t, m, "enter", "esc", "l")
	screen := screenText(m)
	for _, want := range []string{"token_rotated", "callback token rotated from the dashboard", "secret_set", "odoo-api-key replaced from the dashboard (fingerprint " + app.Fingerprint("odoo-secret") + ")"} {
		if !strings.Contains(screen, want) {
			t.Errorf("activity lacks %q:\n%s", want, screen)
		}
	}
	if strings.Contains(screen, "odoo-secret") {
		t.Fatal("the secret value reached the activity log")
	}
}

func TestALoopbackPublicURLIsNotCalledATunnel(t *testing.T) {
	r := newRig(t, true)
	r.b.Listener = func() ListenerStatus {
		return ListenerStatus{Address: "127.0.0.1:8787", PublicURL: "http://127.0.0.1:8787", Tunnel: "configured", Checked: true}
	}
	m := r.model(t, 120, 40)
	m = press(t, m, "a")
	if s := screenText(m); strings.Contains(s, "tunnel: configured") || !strings.Contains(s, "loopback") {
		t.Fatalf("%s", s)
	}
}

func TestUCopiesTheCallbackURLANarrowScreenCuts(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 80, 24)
	m = press(t, m, "a")
	m, msgs := do(t, m, keyMsg("u"))
	if !hasMsg(msgs, "tea.setClipboardMsg") {
		t.Fatalf("u produced %v", msgTypes(msgs))
	}
	if want := "https://fox.trycloudflare.com" + app.CallbackPath; !strings.Contains(m.admin.notice, want) {
		t.Fatalf("notice %q, want the whole URL %q", m.admin.notice, want)
	}
}
