package odoo_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/odoo"
	"github.com/influencegen/influencegen/odoo/odootest"
	"github.com/influencegen/influencegen/store"
)

const imgModel = "influence_gen.generated_image"

// checkSynced asserts that Odoo holds exactly one record, one attachment
// and one generated image per request, with the local state, the local
// bytes, and the Odoo id stored locally.
func checkSynced(t *testing.T, st *store.DB, fake *odootest.Server, reqs []app.Request) {
	t.Helper()
	ctx := context.Background()
	records := map[string][]map[string]any{}
	for _, r := range fake.Records(reqModel) {
		ext, _ := r["external_id"].(string)
		records[ext] = append(records[ext], r)
	}
	attachments := map[int64][]map[string]any{}
	for _, a := range fake.Records("ir.attachment") {
		attachments[toInt(a["res_id"])] = append(attachments[toInt(a["res_id"])], a)
	}
	images := map[int64][]map[string]any{}
	for _, im := range fake.Records(imgModel) {
		images[toInt(im["request_id"])] = append(images[toInt(im["request_id"])], im)
	}
	for _, r := range reqs {
		local, err := st.GetRequest(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		recs := records[r.ID]
		if len(recs) != 1 {
			t.Fatalf("request %s has %d Odoo records, want exactly 1", r.ID, len(recs))
		}
		rec := recs[0]
		odooID := toInt(rec["id"])
		if local.OdooID != odooID {
			t.Fatalf("request %s: local odoo_id %d, Odoo record %d", r.ID, local.OdooID, odooID)
		}
		if rec["state"] != string(local.Status) || orEmpty(rec["n8n_execution_id"]) != local.ExecutionID {
			t.Fatalf("request %s: Odoo state %v / execution %v, local %s / %s", r.ID, rec["state"], rec["n8n_execution_id"], local.Status, local.ExecutionID)
		}
		if local.Status == app.StatusCompleted && rec["completed_at"] == false {
			t.Fatalf("request %s: completed_at not synced", r.ID)
		}
		if local.SyncState != app.SyncDone {
			t.Fatalf("request %s: sync_state %s, want synced", r.ID, local.SyncState)
		}
		localImages, err := st.Images(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(attachments[odooID]) != len(localImages) || len(images[odooID]) != len(localImages) {
			t.Fatalf("request %s: %d attachments and %d image records in Odoo, %d images locally",
				r.ID, len(attachments[odooID]), len(images[odooID]), len(localImages))
		}
		for _, im := range images[odooID] {
			data, ok := fake.AttachmentData(toInt(im["attachment_id"]))
			if !ok {
				t.Fatalf("image record %v points at no stored attachment", im)
			}
			sum := sha256.Sum256(data)
			if hex.EncodeToString(sum[:]) != im["sha256"] || im["sha256"] != localImages[0].SHA256 {
				t.Fatalf("request %s: attachment bytes hash to %x, record says %v, local %s", r.ID, sum, im["sha256"], localImages[0].SHA256)
			}
		}
	}
}

// orEmpty reads a Char field: the sync writes an empty text as false.
func orEmpty(v any) string {
	s, _ := v.(string)
	return s
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case float64:
		return int64(x)
	case int64:
		return x
	case int:
		return int64(x)
	}
	return 0
}

func TestAThousandCompletedRequestsSyncInAtMostTwentyRPCs(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 1,000 requests")
	}
	clock := newFakeClock()
	st, files := openStore(t, clock)
	reqs := seed(t, st, files, clock, 1000, true, 8)
	fake := odootest.New(t, odootest.Config{})
	// Calls of 1,000 records take seconds in the fake under -race on a
	// busy machine: the 2 s fault-test timeout would turn them into
	// retries. This test counts RPCs, not timeouts.
	client, err := odoo.New(odoo.Options{URL: fake.URL, Database: fake.Database(), Username: fake.Login(),
		Protocol: odoo.ProtocolAuto, Key: staticKey(fake.Key()), HTTP: &http.Client{Timeout: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	s := newSyncer(t, st, fake, clock, odoo.ProtocolAuto, func(o *odoo.SyncOptions) { o.Client = client })
	if rep := drain(t, s, 20); rep.Retry != 0 || rep.Parked != 0 {
		t.Fatalf("report %+v, want every item done", rep)
	}
	if got := fake.RPCs(); got > 20 {
		t.Fatalf("syncing 1,000 requests with images cost %d RPCs, want at most 20", got)
	}
	checkSynced(t, st, fake, reqs)
	stats, err := st.OutboxStats(context.Background())
	if err != nil || stats.Pending != 0 || stats.Parked != 0 {
		t.Fatalf("outbox after sync: %+v, %v; want empty", stats, err)
	}
	for _, c := range fake.Calls() {
		if c.Model == "ir.attachment" && c.Method == "create" {
			t.Fatalf("a bare attachment create: images must go through %s, which makes the attachment and its row together", odoo.AttachMethod)
		}
	}
	perMethod := map[string]int{}
	for _, c := range fake.Calls() {
		perMethod[c.Model+"/"+c.Method]++
	}
	t.Logf("1,000 requests + 1,000 images: %d RPCs: %v", fake.RPCs(), perMethod)
}

func TestSyncFillsTheAddonModelsOverBothProtocols(t *testing.T) {
	for _, protocol := range []string{odoo.ProtocolJSON2, odoo.ProtocolJSONRPC} {
		t.Run(protocol, func(t *testing.T) {
			clock := newFakeClock()
			st, files := openStore(t, clock)
			reqs := seed(t, st, files, clock, 5, true, 2100) // wider than 1920 px: Odoo would shrink it without the context
			queued := seed(t, st, files, clock, 2, false, 0)
			fake := odootest.New(t, odootest.Config{})
			rep := drain(t, newSyncer(t, st, fake, clock, protocol, nil), 10)
			if rep.Parked != 0 || rep.Retry != 0 {
				t.Fatalf("report %+v, want everything done", rep)
			}
			checkSynced(t, st, fake, append(reqs, queued...))
			if protocol == odoo.ProtocolJSONRPC && fake.Logins() != 1 {
				t.Fatalf("%d logins, want 1", fake.Logins())
			}
			// The seed is a Char: 4294967295 does not fit Odoo's Integer.
			for _, r := range fake.Records(reqModel) {
				if s, ok := r["seed"].(string); !ok || !strings.HasPrefix(s, "42949672") {
					t.Fatalf("seed sent as %#v, want the decimal string", r["seed"])
				}
			}
		})
	}
}

func TestLaterStateChangesOfManyRequestsGoInOneGuardedUpsert(t *testing.T) {
	clock := newFakeClock()
	st, files := openStore(t, clock)
	reqs := seed(t, st, files, clock, 30, false, 0)
	fake := odootest.New(t, odootest.Config{})
	s := newSyncer(t, st, fake, clock, odoo.ProtocolJSON2, nil)
	drain(t, s, 5)
	for _, r := range reqs {
		if _, err := st.Transition(context.Background(), app.Change{ID: r.ID, To: app.StatusSending}); err != nil {
			t.Fatal(err)
		}
	}
	fake.ResetCounts()
	drain(t, s, 5)
	upserts := 0
	for _, c := range fake.Calls() {
		switch c.Method {
		case odoo.UpsertMethod:
			upserts++
			if c.Records != 30 {
				t.Fatalf("upsert covered %d records, want all 30 in one call", c.Records)
			}
		case "create", "write":
			t.Fatalf("unguarded %s on %s: every request write must go through %s", c.Method, c.Model, odoo.UpsertMethod)
		}
	}
	if upserts != 1 {
		t.Fatalf("%d upserts for 30 state changes, want 1", upserts)
	}
	checkSynced(t, st, fake, reqs)
}

// crashingStore loses every outbox outcome: the process "dies" after Odoo
// did the work but before the outbox remembers it.
type crashingStore struct{ app.Store }

var errCrash = errors.New("power cut")

func (crashingStore) OutboxDone(context.Context, []int64, time.Time) error { return errCrash }
func (crashingStore) OutboxRetryLater(context.Context, []int64, string, time.Time) error {
	return errCrash
}
func (crashingStore) OutboxPark(context.Context, []int64, string, time.Time) error { return errCrash }

func TestACrashMidBatchIsReplayedWithoutDuplicates(t *testing.T) {
	for _, protocol := range []string{odoo.ProtocolJSON2, odoo.ProtocolJSONRPC} {
		t.Run(protocol, func(t *testing.T) {
			clock := newFakeClock()
			st, files := openStore(t, clock)
			reqs := seed(t, st, files, clock, 12, true, 8)
			fake := odootest.New(t, odootest.Config{})
			// Run 1 stores the records and images in Odoo, then the process
			// dies before the outbox records anything.
			crashed := newSyncer(t, crashingStore{st}, fake, clock, protocol, nil)
			if _, err := crashed.RunOnce(context.Background()); !errors.Is(err, errCrash) {
				t.Fatalf("crashed run: %v, want the crash", err)
			}
			if n := len(fake.Records("ir.attachment")); n != 12 {
				t.Fatalf("before the crash Odoo got %d attachments, want 12", n)
			}
			// Run 2 is a new process replaying the same outbox.
			rep := drain(t, newSyncer(t, st, fake, clock, protocol, nil), 10)
			if rep.Parked != 0 {
				t.Fatalf("replay parked items: %+v", rep)
			}
			checkSynced(t, st, fake, reqs)
		})
	}
}

func TestTenMinutesOfOutageLoseNothingAndSyncEverythingOnce(t *testing.T) {
	clock := newFakeClock()
	st, files := openStore(t, clock)
	reqs := seed(t, st, files, clock, 20, true, 8)
	fake := odootest.New(t, odootest.Config{})
	s := newSyncer(t, st, fake, clock, odoo.ProtocolJSON2, nil)
	fake.SetDown(true)
	ctx := context.Background()
	for elapsed := time.Duration(0); elapsed < 10*time.Minute; elapsed += 5 * time.Second {
		rep, err := s.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Done != 0 || rep.Parked != 0 {
			t.Fatalf("during the outage: %+v, want only retries", rep)
		}
		clock.Advance(5 * time.Second)
	}
	// Backoff doubles from 1 s to the 5 min cap: about ten attempts in ten
	// minutes, not one every 5 s.
	if got := fake.RPCs(); got > 12 {
		t.Fatalf("%d RPCs during a 10 min outage, want backoff to keep it at most 12", got)
	}
	stats, err := st.OutboxStats(ctx)
	if err != nil || stats.Pending == 0 || stats.Parked != 0 || !strings.Contains(stats.LastError, "unavailable") {
		t.Fatalf("outbox during outage: %+v, %v", stats, err)
	}
	fake.SetDown(false)
	clock.Advance(5 * time.Minute)
	drain(t, s, 10)
	checkSynced(t, st, fake, reqs)
}

func TestPermanentErrorsAreParkedUntilRetried(t *testing.T) {
	clock := newFakeClock()
	st, files := openStore(t, clock)
	reqs := seed(t, st, files, clock, 4, true, 8)
	fake := odootest.New(t, odootest.Config{})
	fake.SetReadOnly(true)
	s := newSyncer(t, st, fake, clock, odoo.ProtocolJSON2, nil)
	rep := drain(t, s, 5)
	if rep.Done != 0 || rep.Parked == 0 || rep.Retry != 0 {
		t.Fatalf("report %+v, want everything parked", rep)
	}
	ctx := context.Background()
	stats, _ := st.OutboxStats(ctx)
	if stats.Pending != 0 || stats.Parked != rep.Parked || !strings.HasPrefix(stats.LastError, "odoo_access: ") {
		t.Fatalf("stats %+v, want parked items with an odoo_access message", stats)
	}
	r, _ := st.GetRequest(ctx, reqs[0].ID)
	if r.SyncState != app.SyncParked {
		t.Fatalf("sync_state %s, want parked", r.SyncState)
	}
	if rep := drain(t, s, 2); rep.Items != 0 {
		t.Fatalf("parked items were tried again without `sync retry`: %+v", rep)
	}
	fake.SetReadOnly(false)
	if n, err := st.OutboxRequeue(ctx, ""); err != nil || n != rep.Parked {
		t.Fatalf("requeue = %d, %v; want %d", n, err, rep.Parked)
	}
	drain(t, s, 5)
	checkSynced(t, st, fake, reqs)
}

func TestOneRecordOdooRefusesIsParkedAloneWhileTheRestSync(t *testing.T) {
	clock := newFakeClock()
	st, files := openStore(t, clock)
	reqs := seed(t, st, files, clock, 6, false, 0)
	fake := odootest.New(t, odootest.Config{})
	fake.Refuse("prompt", reqs[3].Params.Prompt, "The prompt contains a forbidden word.")
	rep := drain(t, newSyncer(t, st, fake, clock, odoo.ProtocolJSONRPC, nil), 5)
	if rep.Parked != 1 || rep.Done != 5 {
		t.Fatalf("report %+v, want 5 done and the refused one parked", rep)
	}
	if !strings.Contains(rep.LastError, "odoo_validation") || !strings.Contains(rep.LastError, "forbidden word") {
		t.Fatalf("last error %q, want Odoo's validation message", rep.LastError)
	}
	checkSynced(t, st, fake, append(reqs[:3:3], reqs[4:]...))
}

func TestAUniqueConflictOnCreateSearchesAgainInsteadOfDuplicating(t *testing.T) {
	clock := newFakeClock()
	st, files := openStore(t, clock)
	reqs := seed(t, st, files, clock, 6, true, 8)
	fake := odootest.New(t, odootest.Config{})
	fake.ConflictOnCreate(reqs[2].ID)
	rep := drain(t, newSyncer(t, st, fake, clock, odoo.ProtocolJSON2, nil), 5)
	if rep.Parked != 0 || rep.Retry != 0 {
		t.Fatalf("report %+v, want the conflict resolved", rep)
	}
	checkSynced(t, st, fake, reqs)
}

func TestAKeyRevokedMidRunParksWithOdooAuth(t *testing.T) {
	clock := newFakeClock()
	st, files := openStore(t, clock)
	first := seed(t, st, files, clock, 3, true, 8)
	fake := odootest.New(t, odootest.Config{})
	s := newSyncer(t, st, fake, clock, odoo.ProtocolJSON2, nil)
	drain(t, s, 5)
	checkSynced(t, st, fake, first)
	fake.RevokeKey()
	seed(t, st, files, clock, 2, false, 0)
	rep := drain(t, s, 5)
	if rep.Parked != 2 || !strings.Contains(rep.LastError, "Odoo rejected the API key for user") {
		t.Fatalf("report %+v, want 2 parked with odoo_auth", rep)
	}
}

func TestAttachmentsAreSplitSoNoCallCarriesMoreThanTheByteCap(t *testing.T) {
	clock := newFakeClock()
	st, files := openStore(t, clock)
	reqs := seed(t, st, files, clock, 9, true, 64)
	fake := odootest.New(t, odootest.Config{})
	minEnc, maxEnc := 1<<30, 0
	for _, r := range reqs {
		imgs, _ := st.Images(context.Background(), r.ID)
		enc := base64.StdEncoding.EncodedLen(int(imgs[0].Bytes))
		minEnc, maxEnc = min(minEnc, enc), max(maxEnc, enc)
	}
	capBytes := 3 * maxEnc // room for three images per call
	drain(t, newSyncer(t, st, fake, clock, odoo.ProtocolJSON2, func(o *odoo.SyncOptions) { o.CallBytes = capBytes }), 5)
	calls, sent := 0, 0
	for _, c := range fake.Calls() {
		if c.Model == imgModel && c.Method == odoo.AttachMethod {
			calls++
			sent += c.Records
			if c.Records*minEnc > capBytes {
				t.Fatalf("an attachment call carried %d images, more than %d bytes of base64", c.Records, capBytes)
			}
		}
	}
	if calls < 3 || sent != 9 {
		t.Fatalf("%d attachment calls carried %d images; want 9 images in at least 3 calls", calls, sent)
	}
	checkSynced(t, st, fake, reqs)
}

func TestRunSyncsSoonAfterAKickAndStopsWithItsContext(t *testing.T) {
	st, files := openStore(t, app.SystemClock{})
	fake := odootest.New(t, odootest.Config{})
	s := newSyncer(t, st, fake, app.SystemClock{}, odoo.ProtocolJSON2, func(o *odoo.SyncOptions) { o.PollInterval = time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	reqs := seed(t, st, files, app.SystemClock{}, 2, true, 8)
	s.Kick()
	deadline := time.Now().Add(2 * time.Second)
	// Done means recorded locally too: the images reach Odoo before the
	// batch marks its outbox rows done, and cancelling in between leaves
	// them due (correctly) but not synced.
	synced := func() bool {
		stats, err := st.OutboxStats(context.Background())
		return err == nil && stats.Pending == 0 && len(fake.Records(imgModel)) == 2
	}
	for !synced() {
		if time.Now().After(deadline) {
			t.Fatal("the kick did not sync within 2 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v", err)
	}
	checkSynced(t, st, fake, reqs)
}

func TestARecordDeletedInOdooIsCreatedAgainOnTheNextChange(t *testing.T) {
	clock := newFakeClock()
	st, files := openStore(t, clock)
	reqs := seed(t, st, files, clock, 2, false, 0)
	fake := odootest.New(t, odootest.Config{})
	s := newSyncer(t, st, fake, clock, odoo.ProtocolJSON2, nil)
	drain(t, s, 5)
	ctx := context.Background()
	before, _ := st.GetRequest(ctx, reqs[0].ID)
	fake.Delete(reqModel, before.OdooID)
	if _, err := st.Transition(ctx, app.Change{ID: reqs[0].ID, To: app.StatusSending}); err != nil {
		t.Fatal(err)
	}
	if rep := drain(t, s, 5); rep.Parked != 0 || rep.Retry != 0 {
		t.Fatalf("report %+v, want the record re-created", rep)
	}
	after, _ := st.GetRequest(ctx, reqs[0].ID)
	if after.OdooID == before.OdooID {
		t.Fatalf("local odoo_id still %d, the deleted record", after.OdooID)
	}
	checkSynced(t, st, fake, reqs)
}
