package sshd

import (
	"context"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/store"
)

// A request written by another process (the CLI's generate, a second
// serve) publishes nothing on this host's bus: the sessions notice it
// through the data version the host samples, and all of them show it.
func TestSessionsShowARequestAnotherProcessWrote(t *testing.T) {
	r := newRig(t, nil)
	mia := r.openTerminal(r.mustDial(r.addUser("mia", app.RoleStaff)), 160, 48)
	ola := r.openTerminal(r.mustDial(r.addUser("ola", app.RoleStaff)), 120, 40)
	mia.waitFor("No requests yet")
	ola.waitFor("No requests yet")

	cli, err := store.Open(context.Background(), r.dbPath, store.Options{}) // its own connections, as another process has
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	now := time.Now().UTC()
	req := app.Request{ID: app.NewID(now), Status: app.StatusQueued, RequestedBy: "cli", CreatedAt: now, UpdatedAt: now,
		Params: app.GenerationParams{Prompt: "unicornfish from the command line", Model: "sdxl", Width: 1024, Height: 1024, AspectRatio: "1:1", NumImages: 1}}
	if err := cli.CreateRequests(context.Background(), []app.Request{req}); err != nil {
		t.Fatal(err)
	}
	mia.waitFor("unicornfish")
	ola.waitFor("unicornfish")
}
