package ui

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

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
			return nil, nil //nolint:nilerr // no key means no n8n admin, as main's factory
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

// addRecordedFailure stores the recorded n8n 2.8.4 run of a workflow whose
// callback credential was missing (execution 15), with a status that tries
// to drive the terminal, and a failed request whose callback named it.
func (r *rig) addRecordedFailure(t *testing.T, fake *n8ntest.Admin) app.Request {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(n8ntest.PeersDir(t)), "n8n-api", "58-execution-missing-callback-credential-detail.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ex struct {
		Response struct{ Body map[string]any } `json:"response"`
	}
	if err := json.Unmarshal(raw, &ex); err != nil {
		t.Fatal(err)
	}
	ex.Response.Body["status"] = "error\x1b]0;pwned\x07"
	fake.AddExecution(ex.Response.Body)
	ctx := context.Background()
	req := app.Request{ID: testID(9), Params: params("a fox that failed", "flux-schnell", 7), RequestedBy: "alice", CreatedAt: testNow, UpdatedAt: testNow}
	if err := r.db.CreateRequests(ctx, []app.Request{req}); err != nil {
		t.Fatal(err)
	}
	move(t, r.db, req.ID, app.Change{ExecutionID: "15"}, app.StatusSending, app.StatusProcessing)
	move(t, r.db, req.ID, app.Change{ErrorCode: "provider_error", ErrorMessage: "the callback never came"}, app.StatusFailed)
	return req
}

func executionReads(fake *n8ntest.Admin) int {
	n := 0
	for _, c := range fake.Calls() {
		if c == "GET /api/v1/executions/15" {
			n++
		}
	}
	return n
}

func TestTheDetailOfAFailedRequestShowsItsN8NRunLookedUpOnceInACmd(t *testing.T) {
	r := newRig(t, true)
	fake := r.withN8NAdmin(t)
	req := r.addRecordedFailure(t, fake)

	m := New(context.Background(), r.b)
	m.noTicks = true
	m = step(t, m, tea.WindowSizeMsg{Width: 170, Height: 50})
	m = settle(t, m, m.Init())
	if m.detail.req.ID != req.ID {
		t.Fatalf("the newest (failed) request should be selected, got %s", m.detail.req.ID)
	}
	screen := screenText(m)
	for _, want := range []string{"n8n run", "15 error]0;pwned", "Callback: success", "Found credential with no ID.",
		fake.URL + "/workflow/0F6UT8wQiKoQNsw9/executions/15"} {
		if !strings.Contains(screen, want) {
			t.Errorf("detail lacks %q:\n%s", want, screen)
		}
	}
	if strings.Contains(m.View().Content, "\x1b]0;pwned") {
		t.Error("n8n's text reached the terminal as an escape sequence")
	}
	reads := executionReads(fake)
	if reads != 1 {
		t.Fatalf("n8n was asked %d times for execution 15, want 1", reads)
	}

	// Moving away and back reloads the detail; the answer comes from the
	// cache, and Update alone never calls n8n.
	m = press(t, m, "j", "k")
	next, cmd := m.Update(detailLoadedMsg{id: req.ID})
	if executionReads(fake) != reads {
		t.Fatal("Update itself called n8n")
	}
	m = settle(t, next.(Model), cmd)
	if got := executionReads(fake); got != reads {
		t.Errorf("a cached request was looked up again: %d reads", got)
	}
	if !strings.Contains(screenText(m), "Found credential with no ID.") {
		t.Errorf("the cached run is not shown:\n%s", screenText(m))
	}
}

func TestARunN8NDoesNotHaveSaysNotFoundAndOtherStatesAreNotLookedUp(t *testing.T) {
	r := newRig(t, true)
	fake := r.withN8NAdmin(t)
	r.addRecordedFailure(t, fake)
	m := r.model(t, 150, 50)
	before := len(fake.Calls())
	// the timed-out seed request: n8n saved no run for it
	m = press(t, m, "j", "j", "j", "j", "j", "j")
	if m.detail.req.Status != app.StatusTimedOut {
		t.Fatalf("selected %s (%s), want the timed-out one", m.detail.req.ID, m.detail.req.Status)
	}
	if s := screenText(m); !strings.Contains(s, "n8n run    not found: n8n has no saved run for request") || !strings.Contains(s, "runs are deleted with their workflow") {
		t.Errorf("the timed-out request's detail does not say n8n has no run:\n%s", s)
	}
	m = press(t, m, "k") // the initiation-failed one: nothing to explain
	if _, looked := m.detail.explained[m.detail.req.ID]; looked || strings.Contains(screenText(m), "n8n run") {
		t.Errorf("a %s request was looked up in n8n", m.detail.req.Status)
	}
	if len(fake.Calls()) == before {
		t.Error("the timed-out request was not looked up")
	}
}

func TestWithoutAnAdminKeyTheFailedDetailSaysHowToSeeN8NsRun(t *testing.T) {
	r := newRig(t, true)
	fake := r.withN8NAdmin(t)
	r.addRecordedFailure(t, fake)
	delete(r.secrets.values, app.SecretN8NAdminKey)
	m := r.model(t, 150, 50)
	if s := screenText(m); !strings.Contains(s, "set n8n-admin-key (a, then e on it) to see n8n's own") || executionReads(fake) != 0 {
		t.Errorf("without a key the detail should say how to see n8n's run:\n%s", s)
	}
}
