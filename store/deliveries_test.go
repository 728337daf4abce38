package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

func delivery(reqID, key string) app.Delivery {
	return app.Delivery{IdempotencyKey: key, RequestID: reqID, Source: "127.0.0.1:5555",
		Body: json.RawMessage(`{"status":"success"}`)}
}

func img(reqID, sha string) app.Image {
	seed := int64(7)
	return app.Image{RequestID: reqID, SHA256: sha, Path: "/data/images/" + sha[:2] + "/" + sha + ".png",
		MimeType: "image/png", Width: 1024, Height: 1024, Bytes: 1234, Seed: &seed, Source: "base64"}
}

func TestRecordDeliveryIsIdempotent(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	r := createOne(t, db, "p")
	id, dup, err := db.RecordDelivery(ctx, delivery(r.ID, "webhook-1"))
	if err != nil || dup || id == 0 {
		t.Fatalf("first = %d, %v, %v", id, dup, err)
	}
	id2, dup, err := db.RecordDelivery(ctx, delivery(r.ID, "webhook-1"))
	if err != nil || !dup || id2 != id {
		t.Fatalf("replay = %d, %v, %v; want %d, true", id2, dup, err, id)
	}
	if n := countRows(t, db, "deliveries", ""); n != 1 {
		t.Errorf("deliveries = %d, want 1", n)
	}
	pending, err := db.PendingDeliveries(ctx, 10)
	if err != nil || len(pending) != 1 || pending[0].IdempotencyKey != "webhook-1" || string(pending[0].Body) != `{"status":"success"}` {
		t.Fatalf("pending = %+v, %v", pending, err)
	}
}

func TestRecordDeliveryForAnUnknownRequestIsNotFound(t *testing.T) {
	db, _ := openTest(t)
	_, _, err := db.RecordDelivery(context.Background(), delivery("01JDX3V6Q6T7ZP3Y6N4B1K9S2E", "k"))
	wantCode(t, err, app.ENOTFOUND)
}

func TestConcurrentReplaysRecordOneDelivery(t *testing.T) {
	db, _ := openTest(t)
	r := createOne(t, db, "p")
	type res struct {
		id  int64
		dup bool
		err error
	}
	out := make(chan res, 16)
	for range 16 {
		go func() {
			id, dup, err := db.RecordDelivery(context.Background(), delivery(r.ID, "same"))
			out <- res{id, dup, err}
		}()
	}
	fresh := 0
	var first int64
	for range 16 {
		x := <-out
		if x.err != nil {
			t.Fatal(x.err)
		}
		if first == 0 {
			first = x.id
		}
		if x.id != first {
			t.Errorf("ids differ: %d vs %d", x.id, first)
		}
		if !x.dup {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("%d callers were told they recorded it first, want 1", fresh)
	}
}

// processing brings a request to processing and records one delivery.
func processing(t testing.TB, db *DB, key string) (app.Request, int64) {
	t.Helper()
	r := createOne(t, db, "p")
	move(t, db, r.ID, app.StatusSending)
	move(t, db, r.ID, app.StatusProcessing)
	id, _, err := db.RecordDelivery(context.Background(), delivery(r.ID, key))
	if err != nil {
		t.Fatal(err)
	}
	return r, id
}

func TestCompleteDeliveryCommitsImagesStateOutboxAndMarker(t *testing.T) {
	db, clock := openTest(t)
	ctx := context.Background()
	r, did := processing(t, db, "k1")
	clock.Advance(time.Second)
	got, err := db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: did, RequestID: r.ID, To: app.StatusCompleted,
		ExecutionID: "exec-1", Images: []app.Image{img(r.ID, "aa11"), img(r.ID, "bb22")},
		Activities: []app.Activity{{Kind: app.ActivityImageStored, Message: "2 images"}, {Kind: app.ActivityCompleted, Message: "done"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got != (app.IngestOutcome{Status: app.StatusCompleted}) {
		t.Fatalf("outcome = %+v, want completed, not in Odoo", got)
	}
	if cur := mustGet(t, db, r.ID); cur.ImageCount != 2 || cur.ExecutionID != "exec-1" || cur.CompletedAt == nil {
		t.Fatalf("request = %+v", cur)
	}
	imgs, err := db.Images(ctx, r.ID)
	if err != nil || len(imgs) != 2 || imgs[0].Sequence != 1 || imgs[1].Sequence != 2 || *imgs[0].Seed != 7 {
		t.Fatalf("images = %+v, %v", imgs, err)
	}
	one, err := db.GetImage(ctx, imgs[1].ID)
	if err != nil || one.SHA256 != "bb22" {
		t.Fatalf("GetImage = %+v, %v", one, err)
	}
	if n := countRows(t, db, "outbox", "request_id = ? AND kind = 'image'", r.ID); n != 2 {
		t.Errorf("image outbox rows = %d, want 2", n)
	}
	var payload string
	if err := db.rdb.QueryRow("SELECT payload FROM outbox WHERE kind = 'image' ORDER BY id LIMIT 1").Scan(&payload); err != nil ||
		payload != fmt.Sprintf(`{"image_id":%d}`, imgs[0].ID) {
		t.Errorf("image payload = %q, %v", payload, err)
	}
	if p, _ := db.PendingDeliveries(ctx, 10); len(p) != 0 {
		t.Errorf("delivery still pending: %+v", p)
	}

	// Processing the same delivery again changes nothing.
	again, err := db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: did, To: app.StatusCompleted,
		Images: []app.Image{img(r.ID, "cc33")}})
	if err != nil || again.Status != app.StatusCompleted || mustGet(t, db, r.ID).ImageCount != 2 {
		t.Fatalf("reprocessing = %+v, %v", again, err)
	}
	// A second, different result is refused when it is recorded: a
	// request accepts one result, and nothing of the second is kept.
	if _, _, err := db.RecordDelivery(ctx, delivery(r.ID, "k2")); app.ErrorReason(err) != app.ReasonResultExists {
		t.Fatalf("second result = %v, want a %s conflict", err, app.ReasonResultExists)
	}
	if n := countRows(t, db, "deliveries", "request_id = ?", r.ID); n != 1 {
		t.Fatalf("deliveries = %d, want 1", n)
	}
}

func TestCompleteDeliveryWhenTheMoveIsRefused(t *testing.T) {
	tests := []struct {
		name       string
		finalState app.Status // where the request is when the result commits
		to         app.Status
		wantCode   string
		wantImages int
		processed  bool
	}{
		{"a late success for a cancelled request is kept and the state stays", app.StatusCancelled, app.StatusCompleted, "", 1, true},
		{"a failure for a completed request is recorded as a conflict", app.StatusCompleted, app.StatusFailed, app.ECONFLICT, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := openTest(t)
			ctx := context.Background()
			r := createOne(t, db, "p")
			did, _, err := db.RecordDelivery(ctx, delivery(r.ID, "k"))
			if err != nil {
				t.Fatal(err)
			}
			switch tt.finalState {
			case app.StatusCancelled:
				move(t, db, r.ID, app.StatusCancelled)
			case app.StatusCompleted:
				move(t, db, r.ID, app.StatusSending)
				move(t, db, r.ID, app.StatusCompleted)
			}
			got, err := db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: did, To: tt.to,
				Images:     []app.Image{img(r.ID, "ee55")},
				Activities: []app.Activity{{Kind: string(tt.to), Message: "claims the move"}}})
			if tt.wantCode == "" && err != nil {
				t.Fatalf("err = %v", err)
			}
			if tt.wantCode != "" {
				wantCode(t, err, tt.wantCode)
			}
			cur, _ := db.GetRequest(ctx, r.ID)
			if cur.Status != tt.finalState {
				t.Errorf("state = %s, want it to stay %s", cur.Status, tt.finalState)
			}
			if cur.ImageCount != tt.wantImages {
				t.Errorf("image_count = %d, want %d", cur.ImageCount, tt.wantImages)
			}
			if tt.processed && got.Status != tt.finalState {
				t.Errorf("where the committed request is should come back with the conflict, got %+v", got)
			}
			pending, _ := db.PendingDeliveries(ctx, 10)
			if (len(pending) == 0) != tt.processed {
				t.Errorf("processed = %v, want %v", len(pending) == 0, tt.processed)
			}
			claims := countRows(t, db, "activity", "request_id = ? AND kind = ?", r.ID, string(tt.to))
			if claims != 0 {
				t.Errorf("an activity claims a move that did not happen")
			}
			late := countRows(t, db, "activity", "request_id = ? AND kind = ?", r.ID, app.ActivityLateResult)
			if (late == 1) != tt.processed {
				t.Errorf("late_result activities = %d", late)
			}
		})
	}
}

func TestCompleteDeliveryKeepingTheStateStoresTheLateImages(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	r := createOne(t, db, "p")
	did, _, _ := db.RecordDelivery(ctx, delivery(r.ID, "k"))
	move(t, db, r.ID, app.StatusCancelled)
	got, err := db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: did, ExecutionID: "ex",
		Images: []app.Image{img(r.ID, "ff66")}})
	if err != nil || got.Status != app.StatusCancelled {
		t.Fatalf("got %+v, %v", got, err)
	}
	if cur := mustGet(t, db, r.ID); cur.ImageCount != 1 || cur.ExecutionID != "ex" {
		t.Fatalf("request = %+v", cur)
	}
}

func TestDeliveryFailedKeepsItPendingWithTheError(t *testing.T) {
	db, clock := openTest(t)
	ctx := context.Background()
	_, did := processing(t, db, "k")
	if err := db.DeliveryFailed(ctx, did, "image host unreachable"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(deliveryRetryDelay(1)) // due again after its backoff
	p, _ := db.PendingDeliveries(ctx, 10)
	if len(p) != 1 || p[0].Attempts != 1 || p[0].LastError != "image host unreachable" {
		t.Fatalf("pending = %+v", p)
	}
	wantCode(t, db.DeliveryFailed(ctx, 999, "x"), app.ENOTFOUND)
}

// Issue 10 item 9: two different results recorded at the same moment are
// never both kept; the one that commits first is the result.
func TestConcurrentDifferentResultsRecordExactlyOne(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	for round := range 8 {
		r, _ := processingWithout(t, db)
		errs := make(chan error, 6)
		start := make(chan struct{})
		for i := range 6 {
			go func() {
				<-start
				_, _, err := db.RecordDelivery(ctx, delivery(r.ID, fmt.Sprintf("r%d-k%d", round, i)))
				errs <- err
			}()
		}
		close(start)
		ok := 0
		for range 6 {
			err := <-errs
			switch {
			case err == nil:
				ok++
			case app.ErrorReason(err) != app.ReasonResultExists:
				t.Fatalf("round %d: unexpected error %v", round, err)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d results accepted, want exactly 1", round, ok)
		}
		if n := countRows(t, db, "deliveries", "request_id = ?", r.ID); n != 1 {
			t.Fatalf("round %d: %d deliveries kept, want 1", round, n)
		}
		if n := countRows(t, db, "activity", "request_id = ? AND kind = ?", r.ID, app.ActivityCallbackRejected); n != 5 {
			t.Fatalf("round %d: %d refusals in Activity, want 5", round, n)
		}
	}
}

// A second delivery recorded before one result per request was enforced
// (two rows for one request) is not merged when it is processed.
func TestALegacySecondDeliveryIsNotMerged(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	r, did := processing(t, db, "k1")
	var did2 int64
	if err := db.write(ctx, "insert a legacy delivery", func(ctx context.Context, tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO deliveries (idempotency_key, request_id, received_at)
			VALUES ('legacy', ?, '2026-01-01T00:00:00.000000000Z') RETURNING id`, r.ID).Scan(&did2); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO delivery_bodies (delivery_id, body) VALUES (?, '{}')`, did2)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: did, To: app.StatusCompleted, Images: []app.Image{img(r.ID, "aa11")}}); err != nil {
		t.Fatal(err)
	}
	got, err := db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: did2, To: app.StatusCompleted, Images: []app.Image{img(r.ID, "bb22")}})
	if err != nil || got.Status != app.StatusCompleted || mustGet(t, db, r.ID).ImageCount != 1 {
		t.Fatalf("second delivery = %+v, %v; want it dropped with 1 image kept", got, err)
	}
	if p, _ := db.PendingDeliveries(ctx, 10); len(p) != 0 {
		t.Fatalf("the dropped delivery is still pending: %+v", p)
	}
}

// processingWithout makes a processing request with no delivery yet.
func processingWithout(t *testing.T, db *DB) (app.Request, int64) {
	t.Helper()
	r := createOne(t, db, "p")
	move(t, db, r.ID, app.StatusSending)
	move(t, db, r.ID, app.StatusProcessing)
	return r, 0
}

// Issue 11 item 5: images numbered 0, 1 (the old ingest) became 1, 1.
// Whatever numbers a caller passes, a request's numbers stay unique.
func TestImageSequencesStayUniqueWhateverTheCallerPasses(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	r, did := processing(t, db, "k")
	a, b, c := img(r.ID, "aa11"), img(r.ID, "bb22"), img(r.ID, "cc33")
	a.Sequence, b.Sequence, c.Sequence = 0, 1, 1
	if _, err := db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: did, To: app.StatusCompleted, Images: []app.Image{a, b, c}}); err != nil {
		t.Fatal(err)
	}
	imgs, err := db.Images(ctx, r.ID)
	if err != nil || len(imgs) != 3 {
		t.Fatalf("images = %+v, %v", imgs, err)
	}
	for i, im := range imgs {
		if im.Sequence != i+1 {
			t.Fatalf("sequences %d %d %d, want 1 2 3", imgs[0].Sequence, imgs[1].Sequence, imgs[2].Sequence)
		}
	}
}

// Issue 17: marking a delivery processed must not rewrite its body. In
// the deliveries row, the ~13 KB body was rewritten with its overflow
// pages into the WAL on every ingest; in delivery_bodies it is written
// once. The WAL frames of CompleteDelivery are the same for a 13 KB body
// as for a tiny one.
func TestMarkingADeliveryProcessedDoesNotRewriteItsBody(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	framesOfCompletion := func(body string) int {
		r := createOne(t, db, "p")
		move(t, db, r.ID, app.StatusSending)
		move(t, db, r.ID, app.StatusProcessing)
		dl := delivery(r.ID, "k-"+fmt.Sprint(len(body)))
		dl.Body = json.RawMessage(`{"status":"success","blob":"` + body + `"}`)
		did, _, err := db.RecordDelivery(ctx, dl)
		if err != nil {
			t.Fatal(err)
		}
		// An empty WAL, so its frames afterwards are the completion's alone.
		if _, err := db.cdb.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: did, To: app.StatusCompleted,
			Images: []app.Image{img(r.ID, fmt.Sprintf("%064x", len(body)))}}); err != nil {
			t.Fatal(err)
		}
		var busy, frames, copied int
		if err := db.cdb.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil {
			t.Fatal(err)
		}
		return frames
	}
	small := framesOfCompletion("x")
	large := framesOfCompletion(strings.Repeat("x", 13<<10))
	if large > small {
		t.Fatalf("completing a delivery with a 13 KB body wrote %d WAL frames, with a tiny one %d: the body was rewritten", large, small)
	}
}

// Issue 17: the ingest worker asks for the pending ids after every commit
// and loads only the deliveries it takes. The ids are PendingDeliveries'
// (due, oldest first); LoadDeliveries returns bodies and leaves out ids
// that are gone.
func TestPendingDeliveryIDsMatchPendingDeliveriesAndLoadReadsOnlyThoseAsked(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	var ids []int64
	for i := range 4 {
		r := createOne(t, db, fmt.Sprint("p", i))
		dl := delivery(r.ID, fmt.Sprint("k", i))
		dl.Body = json.RawMessage(fmt.Sprintf(`{"status":"success","n":%d}`, i))
		id, _, err := db.RecordDelivery(ctx, dl)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	// One backs off after a failure, one is processed: neither is due.
	if err := db.DeliveryFailed(ctx, ids[1], "disk full"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: ids[2], To: app.StatusFailed, ErrorCode: "x", ErrorMessage: "x"}); err != nil {
		t.Fatal(err)
	}
	pending, err := db.PendingDeliveries(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.PendingDeliveryIDs(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != ids[0] || got[1] != ids[3] || len(pending) != 2 || pending[0].ID != got[0] || pending[1].ID != got[1] {
		t.Fatalf("pending ids %v, pending deliveries %+v; want %d and %d in both", got, pending, ids[0], ids[3])
	}
	loaded, err := db.LoadDeliveries(ctx, []int64{ids[3], 999999, ids[1]})
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded) != 2 || loaded[0].ID != ids[1] || loaded[1].ID != ids[3] ||
		string(loaded[1].Body) != `{"status":"success","n":3}` || loaded[0].Attempts != 1 {
		t.Fatalf("LoadDeliveries = %+v; want deliveries %d (1 attempt) and %d with its body, in id order, the unknown id left out", loaded, ids[1], ids[3])
	}
	// Each comes with its request's state as it is now: the worker
	// decides on it without reading the request again.
	move(t, db, loaded[1].RequestID, app.StatusCancelled)
	loaded, err = db.LoadDeliveries(ctx, []int64{ids[1], ids[3]})
	if err != nil {
		t.Fatal(err)
	}
	if want := mustGet(t, db, loaded[0].RequestID).Status; loaded[0].RequestStatus != want || loaded[1].RequestStatus != app.StatusCancelled {
		t.Fatalf("request states %q and %q, want %q and cancelled", loaded[0].RequestStatus, loaded[1].RequestStatus, want)
	}
}

// Migration 0012: keys are unique per request, and webhook-id keys have an
// index of their own for the listener's "used for another request" check.
func TestWebhookIDKeysAreFoundByPrefixAndKeysAreUniquePerRequest(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	a, b := createOne(t, db, "a"), createOne(t, db, "b")
	prefix := "webhook-id:3:abc@"
	if _, _, err := db.RecordDelivery(ctx, delivery(a.ID, prefix+a.ID)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.RecordDelivery(ctx, delivery(b.ID, "sha256:0123")); err != nil {
		t.Fatal(err)
	}
	ids, err := db.DeliveryRequestsByKeyPrefix(ctx, prefix)
	if err != nil || len(ids) != 1 || ids[0] != a.ID {
		t.Fatalf("requests of webhook-id abc = %v, %v; want [%s]", ids, err, a.ID)
	}
	if _, err := db.DeliveryRequestsByKeyPrefix(ctx, "sha256:"); app.ErrorCode(err) != app.EINVALID {
		t.Fatalf("a hash prefix gave %v; want EINVALID (only webhook-id keys are indexed by key)", err)
	}
	// The same key recorded again for its request is a duplicate.
	if _, dup, err := db.RecordDelivery(ctx, delivery(a.ID, prefix+a.ID)); err != nil || !dup {
		t.Fatalf("replay: duplicate %v, %v; want a duplicate", dup, err)
	}
	var plan string
	if err := db.rdb.QueryRowContext(ctx, `EXPLAIN QUERY PLAN SELECT id FROM deliveries WHERE request_id = ? AND idempotency_key = ?`,
		a.ID, "k").Scan(new(int), new(int), new(int), &plan); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "deliveries_request_key") {
		t.Fatalf("the duplicate lookup's plan is %q; want the (request_id, idempotency_key) index", plan)
	}
}

// The Odoo sync reads a batch's requests and images by id in one query
// each; ids that are gone are left out.
func TestRequestsAndImagesAreReadByIDInOneQuery(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	r, did := processing(t, db, "k")
	other := createOne(t, db, "other")
	if _, err := db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: did, To: app.StatusCompleted,
		Images: []app.Image{img(r.ID, "aa11"), img(r.ID, "bb22")}}); err != nil {
		t.Fatal(err)
	}
	reqs, err := db.GetRequestsByID(ctx, []string{r.ID, "01JDX3V6Q6T7ZP3Y6N4B1K9S2G", other.ID})
	if err != nil || len(reqs) != 2 || reqs[r.ID].Status != app.StatusCompleted || reqs[other.ID].ID != other.ID {
		t.Fatalf("GetRequestsByID = %v, %v; want the two that exist", reqs, err)
	}
	imgs, err := db.Images(ctx, r.ID)
	if err != nil || len(imgs) != 2 {
		t.Fatalf("Images = %v, %v", imgs, err)
	}
	byID, err := db.GetImagesByID(ctx, []int64{imgs[1].ID, 999999, imgs[0].ID})
	if err != nil || len(byID) != 2 || byID[imgs[0].ID].SHA256 != imgs[0].SHA256 || byID[imgs[1].ID].SHA256 != imgs[1].SHA256 {
		t.Fatalf("GetImagesByID = %v, %v; want both images by id", byID, err)
	}
	if got, err := db.GetImagesByID(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("no ids: %v, %v", got, err)
	}
}
