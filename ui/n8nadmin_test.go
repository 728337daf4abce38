package ui

import (
	"context"
	"strings"
	"testing"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/n8n"
	"github.com/influencegen/influencegen/n8n/n8ntest"
)

// withN8NAdmin wires the rig to the fake n8n admin API (which replays the
// recorded n8n 2.8.4 answers) through the real n8n.NewManager, set up
// with the comfyui template so the callback credential exists. The
// factory answers nil, nil without an n8n-admin-key, as main's does.
func (r *rig) withN8NAdmin(t *testing.T) *n8ntest.Admin {
	t.Helper()
	fake := n8ntest.NewAdmin(t, "admin-key")
	ctx := context.Background()
	r.secrets.values[app.SecretN8NAdminKey] = "admin-key"
	m, err := n8n.NewManager(ctx, r.b.Config, r.secrets, r.db, fake.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Setup(ctx, app.N8NSetupOptions{Provider: "comfyui"}, func(app.N8NStep) {}); err != nil {
		t.Fatalf("setup against the fake n8n: %v", err)
	}
	r.b.N8NAdmin = func(ctx context.Context) (app.N8NAdmin, error) {
		if _, _, err := r.secrets.Get(ctx, app.SecretN8NAdminKey); err != nil {
			return nil, nil
		}
		return n8n.NewManager(ctx, r.b.Config, r.secrets, r.db, "")
	}
	return fake
}

func rotateFromAdmin(t *testing.T, m Model) (Model, string) {
	t.Helper()
	m = press(t, m, "a", "t")
	if m.confirm == nil {
		t.Fatal("t should ask before rotating")
	}
	question := screenText(m)
	m = typeText(t, m, "rotate")
	return press(t, m, "enter"), question
}

func TestRotatingFromTheAdminScreenPushesTheTokenToN8N(t *testing.T) {
	r := newRig(t, true)
	fake := r.withN8NAdmin(t)
	m := r.model(t, 140, 50)
	m, question := rotateFromAdmin(t, m)
	if !strings.Contains(question, "pushed to n8n's callback") {
		t.Errorf("the question does not mention the push:\n%s", question)
	}
	token := r.secrets.values[app.SecretCallbackToken]
	got := fake.CredentialDataByName(n8n.CredentialCallbackToken)
	if got["value"] != token || got["name"] != n8n.CallbackTokenHeader {
		t.Errorf("n8n's callback credential holds %v; want the new token with the header name kept", got)
	}
	screen := screenText(m)
	for _, want := range []string{"pushed to n8n credential for callback-token (fingerprint " + app.Fingerprint(token), "n8n has it already"} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q:\n%s", want, screen)
		}
	}
	acts, err := r.db.ListActivity(context.Background(), app.ActivityQuery{Limit: 10})
	if err != nil || len(acts) == 0 || !strings.Contains(acts[0].Message, "pushed to n8n") {
		t.Errorf("the activity log does not say the token was pushed: %v %v", acts, err)
	}
}

func TestAFailedPushSaysSoWithTheFixAndKeepsTheToken(t *testing.T) {
	r := newRig(t, true)
	fake := r.withN8NAdmin(t)
	r.secrets.values[app.SecretN8NAdminKey] = "revoked-key" // n8n answers 401
	m := r.model(t, 140, 50)
	m, _ = rotateFromAdmin(t, m)
	token := r.secrets.values[app.SecretCallbackToken]
	if got := fake.CredentialDataByName(n8n.CredentialCallbackToken); got["value"] == token {
		t.Fatal("a refused key still changed n8n")
	}
	screen := screenText(m)
	for _, want := range []string{"rotated, but not pushed to n8n", "Fix: paste the token above", token, "Update n8n now"} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q:\n%s", want, screen)
		}
	}
	if !m.admin.noticeErr {
		t.Error("a failed push is shown as an error")
	}
}

func TestWithoutAnAdminKeyTheAdminScreenSaysHowToEnableThePush(t *testing.T) {
	r := newRig(t, true)
	r.withN8NAdmin(t)
	delete(r.secrets.values, app.SecretN8NAdminKey)
	m := r.model(t, 140, 50)
	m = press(t, m, "a")
	if s := screenText(m); !strings.Contains(s, "n8n push   off: set n8n-admin-key") {
		t.Errorf("the admin screen does not say how to enable the push:\n%s", s)
	}
	m, question := rotateFromAdmin(t, press(t, m, "esc"))
	if !strings.Contains(question, "You paste it into n8n yourself") {
		t.Errorf("the question promises a push without a key:\n%s", question)
	}
	if s := screenText(m); !strings.Contains(s, "Update n8n now") || strings.Contains(s, "pushed to n8n credential") {
		t.Errorf("without a key the token must be pasted by hand:\n%s", s)
	}
}
