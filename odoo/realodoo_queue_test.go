package odoo_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/odoo"
	"github.com/influencegen/influencegen/store"
)

// TestRealOdooQueueTwoHostsTakeEachRequestOnce runs the shared queue on a
// real Odoo 19 with the addon at 19.0.1.2.0 (opt-in, see realOdoo):
// requests made in Odoo (create, then action_generate), two hosts with
// their own stores claiming at once, each making progress as its sender
// and sync would. Every request ends in exactly one store, claimed by
// that host in Odoo.
func TestRealOdooQueueTwoHostsTakeEachRequestOnce(t *testing.T) {
	client := realOdoo(t, odoo.ProtocolJSON2)
	ctx := context.Background()
	run := time.Now().UnixNano()
	vals := make([]map[string]any, 8)
	for i := range vals {
		vals[i] = map[string]any{"prompt": fmt.Sprintf("queue test %d #%d", run, i), "seed": fmt.Sprint(i)}
	}
	ids, err := odoo.Create(ctx, client, queueModel, vals, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A model must be published before Generate accepts a request.
	cfg := app.DefaultConfig()
	var n int
	if err := client.Call(ctx, odoo.ModelModel, odoo.PublishMethod, nil, []odoo.Arg{odoo.Pos("names", cfg.Generation.Models),
		odoo.Pos("default_model", cfg.Generation.DefaultModel), odoo.Pos("default_resolution", cfg.Generation.DefaultResolution)}, &n); err != nil {
		t.Fatal(err)
	}
	var ok any
	if err := client.Call(ctx, queueModel, "action_generate", ids, nil, &ok); err != nil {
		t.Fatal(err)
	}
	var rows []odoo.Record
	if err := odoo.SearchRead(ctx, client, queueModel, []any{[]any{"id", "in", ids}}, []string{"external_id", "state", "origin"}, 0, &rows); err != nil {
		t.Fatal(err)
	}
	ours := map[string]bool{}
	for _, r := range rows {
		if r.String("state") != "queued" || r.String("origin") != "odoo" || !app.ValidID(r.String("external_id")) {
			t.Fatalf("after Generate: %v", r)
		}
		ours[r.String("external_id")] = true
	}
	hostNames := []string{fmt.Sprintf("test-a-%d", run), fmt.Sprintf("test-b-%d", run)}
	stores := make([]*queueHost, 2)
	var wg sync.WaitGroup
	for i := range stores {
		clock := app.SystemClock{}
		st, _ := openStore(t, clock)
		h := &queueHost{st: st, svc: &wakeCounter{Service: &app.Service{Config: cfg, Store: st, Clock: clock}}}
		h.poller = odoo.NewPoller(odoo.QueueOptions{Client: realOdoo(t, odoo.ProtocolJSON2), Store: st, Requests: h.svc,
			Config: cfg, Host: hostNames[i], Clock: clock, Limit: 2})
		stores[i] = h
		syncer := realSyncer(st, realOdoo(t, odoo.ProtocolJSON2))
		wg.Go(func() {
			for range 12 {
				if _, err := h.poller.PollOnce(ctx); err != nil {
					t.Error(err)
					return
				}
				queued, _ := h.st.RequestsInStatus(ctx, app.StatusQueued, time.Time{}, 100)
				for _, r := range queued {
					if _, err := h.st.Transition(ctx, app.Change{ID: r.ID, To: app.StatusSending}); err != nil {
						t.Error(err)
						return
					}
				}
				if _, err := syncer.RunOnce(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	taken := map[string]int{}
	for i, h := range stores {
		page, err := h.st.ListRequests(ctx, app.ListQuery{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Requests {
			if !ours[r.ID] {
				continue // a queued request left by someone else
			}
			if _, dup := taken[r.ID]; dup {
				t.Errorf("%s taken by both hosts", r.ID)
			}
			taken[r.ID] = i
		}
	}
	if err := odoo.SearchRead(ctx, client, queueModel, []any{[]any{"id", "in", ids}}, []string{"external_id", "state", "claimed_by"}, 0, &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		ext := r.String("external_id")
		i, ok := taken[ext]
		if !ok {
			t.Errorf("%s taken by no host", ext)
			continue
		}
		if r.String("claimed_by") != hostNames[i] || r.String("state") != "sending" {
			t.Errorf("%s: Odoo says claimed_by %q state %q; host %d stored it", ext, r.String("claimed_by"), r.String("state"), i)
		}
	}
	t.Logf("host a took %d, host b took %d of %d", count(taken, 0), count(taken, 1), len(ids))
}

func count(m map[string]int, v int) int {
	n := 0
	for _, x := range m {
		if x == v {
			n++
		}
	}
	return n
}

// TestRealOdooTeamImagesMatchTheirSHA256 fetches a completed request's
// images from a real Odoo's attachments (needs one with an image, e.g.
// after TestRealOdooTwoServeHosts: requests made in Odoo, so not the
// hand-made records an earlier recording left).
func TestRealOdooTeamImagesMatchTheirSHA256(t *testing.T) {
	client := realOdoo(t, odoo.ProtocolJSON2)
	var rows []odoo.Record
	if err := odoo.SearchRead(context.Background(), client, queueModel, []any{[]any{"state", "=", "completed"},
		[]any{"generated_image_ids", "!=", false}, []any{"origin", "=", "odoo"}}, []string{"external_id"}, 1, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Skip("no completed request with an image in this Odoo")
	}
	cfg := app.DefaultConfig()
	cfg.Odoo.URL, cfg.Odoo.Database = os.Getenv("INFLUENCEGEN_TEST_ODOO_URL"), os.Getenv("INFLUENCEGEN_TEST_ODOO_DATABASE")
	erp, err := odoo.NewERP(cfg, odoo.ERPOptions{Secrets: memSecrets{values: map[string]string{
		app.SecretOdooAPIKey: os.Getenv("INFLUENCEGEN_TEST_ODOO_API_KEY")}}})
	if err != nil {
		t.Fatal(err)
	}
	files := store.NewImageFiles(filepath.Join(t.TempDir(), "images"))
	got, err := erp.TeamImages(context.Background(), files, rows[0].ID())
	if err != nil || len(got) == 0 {
		t.Fatalf("TeamImages(%d) = %+v, %v", rows[0].ID(), got, err)
	}
	t.Logf("request %s: %d image(s) kept, first %s (%d bytes)", rows[0].String("external_id"), len(got), got[0].SHA256[:12], got[0].Bytes)
}

// TestRealOdooDoctorSaysAnInternalUserCannotTakeRequests: with an Internal
// User's key (INFLUENCEGEN_TEST_ODOO_USER_KEY) the sync checks pass, and
// the queue check names the missing group.
func TestRealOdooDoctorSaysAnInternalUserCannotTakeRequests(t *testing.T) {
	url, key := os.Getenv("INFLUENCEGEN_TEST_ODOO_URL"), os.Getenv("INFLUENCEGEN_TEST_ODOO_USER_KEY")
	if url == "" || key == "" {
		t.Skip("INFLUENCEGEN_TEST_ODOO_URL / INFLUENCEGEN_TEST_ODOO_USER_KEY not set")
	}
	cfg := app.DefaultConfig()
	cfg.Odoo.URL, cfg.Odoo.Database, cfg.Odoo.AcceptRequests = url, os.Getenv("INFLUENCEGEN_TEST_ODOO_DATABASE"), true
	erp, err := odoo.NewERP(cfg, odoo.ERPOptions{Secrets: memSecrets{values: map[string]string{app.SecretOdooAPIKey: key}}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := erp.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	last := res.Items[len(res.Items)-1]
	if last.Name != "queue" || last.OK || last.Reason != app.ReasonOdooAccess {
		t.Fatalf("checks %+v: want the queue check failing with %s", res.Items, app.ReasonOdooAccess)
	}
	t.Log(last.Detail)
}
