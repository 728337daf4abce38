package app_test

import (
	"strings"
	"testing"

	"github.com/influencegen/influencegen/app"
)

func TestTeamMembersActOnlyWithinTheirRole(t *testing.T) {
	r := newRig(t, "test-api-key")
	mia := app.WithActor(t.Context(), app.Actor{Name: "mia", Role: app.RoleStaff})
	ola := app.WithActor(t.Context(), app.Actor{Name: "ola", Role: app.RoleStaff})
	boss := app.WithActor(t.Context(), app.Actor{Name: "boss", Role: app.RoleAdmin})

	reqs, err := r.svc.Submit(mia, app.ParamsInput{Prompt: "a red fox", Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.get(t, reqs[0].ID).RequestedBy; got != "mia" {
		t.Fatalf("requested_by = %q, want the member mia, not the host's login", got)
	}
	for name, act := range map[string]func() error{
		"cancel": func() error { _, err := r.svc.Cancel(ola, reqs[0].ID); return err },
		"delete": func() error { return r.svc.Delete(ola, reqs[0].ID) },
		"retry":  func() error { _, err := r.svc.Retry(ola, reqs[0].ID); return err },
	} {
		if err := act(); app.ErrorCode(err) != app.EUNAUTHORIZED || !strings.Contains(err.Error(), "requested by mia") {
			t.Errorf("staff ola %s on mia's request: %v, want refused naming mia", name, err)
		}
	}
	if _, err := r.svc.Cancel(mia, reqs[0].ID); err != nil {
		t.Fatalf("mia cancels her own: %v", err)
	}
	if _, err := r.svc.Cancel(boss, reqs[1].ID); err != nil {
		t.Fatalf("an admin cancels anyone's: %v", err)
	}
	if err := r.svc.Delete(boss, reqs[1].ID); err != nil {
		t.Fatal(err)
	}
	acts, err := r.db.ListActivity(t.Context(), app.ActivityQuery{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	for _, a := range acts {
		log = append(log, a.Kind+": "+a.Message)
	}
	all := strings.Join(log, "\n")
	for _, want := range []string{"cancelled: cancelled by mia", "deleted: deleted request " + reqs[1].ID + " by boss"} {
		if !strings.Contains(all, want) {
			t.Errorf("activity lacks %q:\n%s", want, all)
		}
	}
}
