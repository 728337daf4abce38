package n8n

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

func TestRejectionLogRecordsEachSourceAndStatusOncePerMinuteWithinAnOverallBurst(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	r := newRejectionLog(nil, nil, nil, func() time.Time { return now })
	if !r.admit("203.0.113.9", 401) {
		t.Fatal("the first refusal from a source is recorded")
	}
	if r.admit("203.0.113.9", 401) {
		t.Fatal("a repeat within the minute is only in the log file")
	}
	if !r.admit("203.0.113.9", 400) {
		t.Fatal("another status from the same source is a different story")
	}
	now = now.Add(rejectionWindow)
	if !r.admit("203.0.113.9", 401) {
		t.Fatal("after a minute the same pair is recorded again")
	}
	admitted := 0
	for i := range 200 {
		if r.admit(fmt.Sprintf("198.51.100.%d", i), 401) {
			admitted++
		}
	}
	if admitted != rejectionBurst-1 { // one slot of this window went to the repeat above
		t.Fatalf("%d rows admitted in one window from many sources, want the burst cap %d", admitted, rejectionBurst-1)
	}
}

func TestARefusedCallbackAppearsInActivityWithItsSourceButNeverTheToken(t *testing.T) {
	h := newHarness(t)
	const forged = "forged-token-value-1234567890"
	for range 3 {
		if got := h.post(app.CallbackPath, map[string]string{"X-Callback-Token": forged, "Content-Type": "application/json"},
			[]byte(`{"ai_generation_request_id":"x","status":"success"}`)); got.status != 401 {
			t.Fatalf("status %d, want 401", got.status)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	var rows []app.Activity
	for time.Now().Before(deadline) {
		var err error
		rows, err = h.db.ListActivity(context.Background(), app.ActivityQuery{Kinds: []string{app.ActivityCallbackRejected}, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(rows) != 1 {
		t.Fatalf("%d callback_rejected rows for three identical refusals, want 1: %+v", len(rows), rows)
	}
	msg := rows[0].Message
	if !strings.Contains(msg, "127.0.0.1") || !strings.Contains(msg, "401") || rows[0].Level != app.LevelWarn {
		t.Fatalf("activity should name the source and the status: %+v", rows[0])
	}
	if strings.Contains(msg, forged) {
		t.Fatal("the presented token reached the activity log")
	}
	h.wantNothingWritten()
}
