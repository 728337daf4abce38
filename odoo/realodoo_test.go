package odoo_test

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/odoo"
)

// Opt-in tests against a real Odoo 19 with the addon installed (see
// /work/shared/peers/RUNNING.md): set INFLUENCEGEN_TEST_ODOO_URL,
// INFLUENCEGEN_TEST_ODOO_DATABASE and INFLUENCEGEN_TEST_ODOO_API_KEY (and
// INFLUENCEGEN_TEST_ODOO_LOGIN for JSON-RPC, default admin). CI has no
// Odoo, so they skip there.
func realOdoo(t *testing.T, protocol string) odoo.Client {
	t.Helper()
	url := os.Getenv("INFLUENCEGEN_TEST_ODOO_URL")
	if url == "" {
		t.Skip("INFLUENCEGEN_TEST_ODOO_URL not set: no real Odoo to test against")
	}
	login := os.Getenv("INFLUENCEGEN_TEST_ODOO_LOGIN")
	if login == "" {
		login = "admin"
	}
	c, err := odoo.New(odoo.Options{URL: url, Database: os.Getenv("INFLUENCEGEN_TEST_ODOO_DATABASE"), Username: login,
		Protocol: protocol, Key: staticKey(os.Getenv("INFLUENCEGEN_TEST_ODOO_API_KEY")), HTTP: &http.Client{Timeout: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// realSyncer syncs st to the real Odoo through client.
func realSyncer(st app.Store, client odoo.Client) *odoo.Syncer {
	return odoo.NewSyncer(odoo.SyncOptions{Client: client, Store: st, Clock: app.SystemClock{}, LeaseWait: -1,
		Jitter: func() float64 { return 1 }})
}

func drainReal(t *testing.T, s *odoo.Syncer) {
	t.Helper()
	for range 10 {
		rep, err := s.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if rep.Retry != 0 || rep.Parked != 0 {
			t.Fatalf("sync against the real Odoo: %+v", rep)
		}
		if rep.Items == 0 {
			return
		}
	}
}

// realRecord reads what the real Odoo holds for a request: its state and
// how many attachments and image rows it has.
func realRecord(t *testing.T, c odoo.Client, id string) (state string, attachments, images int) {
	t.Helper()
	ctx := context.Background()
	var recs []odoo.Record
	if err := odoo.SearchRead(ctx, c, reqModel, []any{[]any{"external_id", "=", id}}, []string{"state", "app_updated_at"}, 0, &recs); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("real Odoo holds %d records for %s, want 1", len(recs), id)
	}
	var atts, imgs []odoo.Record
	if err := odoo.SearchRead(ctx, c, "ir.attachment", []any{[]any{"res_model", "=", reqModel}, []any{"res_id", "=", recs[0].ID()}}, []string{"checksum"}, 0, &atts); err != nil {
		t.Fatal(err)
	}
	if err := odoo.SearchRead(ctx, c, imgModel, []any{[]any{"request_id", "=", recs[0].ID()}}, []string{"sha256"}, 0, &imgs); err != nil {
		t.Fatal(err)
	}
	return recs[0].String("state"), len(atts), len(imgs)
}

// TestRealOdooKeepsTheNewestStateWhenTwoSyncersRace is issue 11 §2's
// reproduction on a real server, without the local lease (noLease): only
// the addon's guard stands between the stale write and the record.
func TestRealOdooKeepsTheNewestStateWhenTwoSyncersRace(t *testing.T) {
	for _, protocol := range []string{odoo.ProtocolJSON2, odoo.ProtocolJSONRPC} {
		t.Run(protocol, func(t *testing.T) {
			client := realOdoo(t, protocol)
			ctx := context.Background()
			stA, stB, files := twoHandles(t, app.SystemClock{})
			req := seed(t, stA, files, app.SystemClock{}, 1, false, 0)[0]
			drainReal(t, realSyncer(noLease{stA}, client))
			for _, to := range []app.Status{app.StatusSending, app.StatusProcessing} {
				if _, err := stA.Transition(ctx, app.Change{ID: req.ID, To: to}); err != nil {
					t.Fatal(err)
				}
			}
			paused := newPausingClient(client)
			racerA := realSyncer(noLease{stA}, paused)
			doneA := make(chan error, 1)
			go func() { _, err := racerA.RunOnce(ctx); doneA <- err }()
			<-paused.reached
			completeWithImage(t, stB, files, req.ID)
			drainReal(t, realSyncer(noLease{stB}, client))
			close(paused.release)
			if err := <-doneA; err != nil {
				t.Fatal(err)
			}
			state, atts, imgs := realRecord(t, client, req.ID)
			if state != string(app.StatusCompleted) || atts != 1 || imgs != 1 {
				t.Fatalf("real Odoo after the race: state %q, %d attachments, %d images; want completed, 1, 1", state, atts, imgs)
			}
			local, _ := stA.GetRequest(ctx, req.ID)
			if local.Status != app.StatusCompleted || local.SyncState != app.SyncDone {
				t.Fatalf("local: %s / %s", local.Status, local.SyncState)
			}
		})
	}
}

// TestRealOdooStoresOneAttachmentWhenTwoSyncersUploadOneImage: syncer A
// has searched and found no image, B uploads it, then A uploads it too.
func TestRealOdooStoresOneAttachmentWhenTwoSyncersUploadOneImage(t *testing.T) {
	client := realOdoo(t, odoo.ProtocolJSON2)
	ctx := context.Background()
	stA, stB, files := twoHandles(t, app.SystemClock{})
	req := seed(t, stA, files, app.SystemClock{}, 1, false, 0)[0]
	for _, to := range []app.Status{app.StatusSending, app.StatusProcessing} {
		if _, err := stA.Transition(ctx, app.Change{ID: req.ID, To: to}); err != nil {
			t.Fatal(err)
		}
	}
	completeWithImage(t, stA, files, req.ID)
	paused := newPausingClient(client)
	paused.methods = []string{odoo.AttachMethod}
	doneA := make(chan error, 1)
	go func() { _, err := realSyncer(noLease{stA}, paused).RunOnce(ctx); doneA <- err }()
	<-paused.reached
	drainReal(t, realSyncer(noLease{stB}, client))
	close(paused.release)
	if err := <-doneA; err != nil {
		t.Fatal(err)
	}
	if state, atts, imgs := realRecord(t, client, req.ID); state != "completed" || atts != 1 || imgs != 1 {
		t.Fatalf("real Odoo: state %q, %d attachments, %d images; want completed, 1, 1", state, atts, imgs)
	}
}

// TestRealOdooWithTheLeaseOneSyncerWaits runs the same race with the
// lease: B is refused while A holds it, and Odoo ends completed.
func TestRealOdooWithTheLeaseOneSyncerWaits(t *testing.T) {
	client := realOdoo(t, odoo.ProtocolJSON2)
	ctx := context.Background()
	stA, stB, files := twoHandles(t, app.SystemClock{})
	req := seed(t, stA, files, app.SystemClock{}, 1, false, 0)[0]
	drainReal(t, realSyncer(stA, client))
	for _, to := range []app.Status{app.StatusSending, app.StatusProcessing} {
		if _, err := stA.Transition(ctx, app.Change{ID: req.ID, To: to}); err != nil {
			t.Fatal(err)
		}
	}
	paused := newPausingClient(client)
	doneA := make(chan error, 1)
	go func() { _, err := realSyncer(stA, paused).RunOnce(ctx); doneA <- err }()
	<-paused.reached
	completeWithImage(t, stB, files, req.ID)
	syncB := realSyncer(stB, client)
	if _, err := syncB.RunOnce(ctx); app.ErrorReason(err) != app.ReasonLeaseHeld {
		t.Fatalf("B while A holds the lease: %v", err)
	}
	close(paused.release)
	if err := <-doneA; err != nil {
		t.Fatal(err)
	}
	drainReal(t, syncB)
	if state, atts, imgs := realRecord(t, client, req.ID); state != "completed" || atts != 1 || imgs != 1 {
		t.Fatalf("real Odoo: state %q, %d attachments, %d images; want completed, 1, 1", state, atts, imgs)
	}
}

func TestRealOdooPassesDoctorWithTheUpgradedAddon(t *testing.T) {
	realOdoo(t, odoo.ProtocolJSON2) // skips without a real Odoo
	cfg := app.DefaultConfig()
	cfg.Odoo.URL, cfg.Odoo.Database = os.Getenv("INFLUENCEGEN_TEST_ODOO_URL"), os.Getenv("INFLUENCEGEN_TEST_ODOO_DATABASE")
	erp, err := odoo.NewERP(cfg, odoo.ERPOptions{Secrets: memSecrets{values: map[string]string{
		app.SecretOdooAPIKey: os.Getenv("INFLUENCEGEN_TEST_ODOO_API_KEY")}}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := erp.Check(context.Background())
	if err != nil || !res.OK() || res.Items[len(res.Items)-1].Name != "addon" {
		t.Fatalf("doctor against the real Odoo: %+v, %v", res, err)
	}
	t.Logf("doctor: %+v", res)
}
