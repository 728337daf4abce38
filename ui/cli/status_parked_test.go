package cli_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/n8n/n8ntest"
	"github.com/influencegen/influencegen/store"
)

// Issue 11 item 4: a callback that can never be applied is parked after
// app.MaxDeliveryAttempts, and a person sees it in status and doctor.
func TestParkedCallbacksShowInStatusAndDoctor(t *testing.T) {
	fake := n8ntest.New(t, n8ntest.Options{})
	r := newSendRig(t, fake.WebhookURL, "test-api-key")
	out, _, code := r.run(t, "generate", "--prompt", "a red fox", "--json")
	if code != 0 {
		t.Fatalf("generate exit %d", code)
	}
	id := decodeResults(t, out)[0].ID

	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(r.home, "influencegen.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	did, _, err := db.RecordDelivery(ctx, app.Delivery{IdempotencyKey: "k", RequestID: id, Body: json.RawMessage(`["not a callback"]`)})
	if err != nil {
		t.Fatal(err)
	}
	for range app.MaxDeliveryAttempts {
		if err := db.DeliveryFailed(ctx, did, "images folder is not writable"); err != nil {
			t.Fatal(err)
		}
	}
	check := app.CheckParkedDeliveries(ctx, db)
	if check.State != app.CheckFail || !strings.Contains(check.Detail, "1 parked") || !strings.Contains(check.Detail, "images folder is not writable") {
		t.Fatalf("doctor's callbacks check = %+v", check)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	list, _, _ := r.run(t, "status")
	if !strings.Contains(list, "1 callback(s) parked") {
		t.Fatalf("status does not mention the parked callback:\n%s", list)
	}
	one, _, _ := r.run(t, "status", id)
	if !strings.Contains(one, "parked after 10 failed attempts: images folder is not writable") {
		t.Fatalf("status ID does not show why the callback is parked:\n%s", one)
	}
	var detail struct {
		Parked []app.Delivery `json:"parked_callbacks"`
	}
	js, _, _ := r.run(t, "status", id, "--json")
	if err := json.Unmarshal([]byte(js), &detail); err != nil || len(detail.Parked) != 1 || detail.Parked[0].Attempts != app.MaxDeliveryAttempts {
		t.Fatalf("status --json parked = %+v (%v)", detail.Parked, err)
	}
}
