package store

import (
	"context"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
)

// BenchmarkBatchSummaries compares the dashboard's page of 50 batch rows
// read in one Batches call against one call per row, over 50 batches of
// 16 requests and 2,000 completed requests of history.
func BenchmarkBatchSummaries(b *testing.B) {
	db, clock := openTest(b)
	ctx := context.Background()
	var history []app.Request
	for range 2000 {
		r := newRequest(clock.Now(), "history")
		sent, done := clock.Now(), clock.Now().Add(20*time.Second)
		r.Status, r.SentAt, r.CompletedAt = app.StatusCompleted, &sent, &done
		history = append(history, r)
		clock.Advance(time.Millisecond)
	}
	if err := db.CreateRequests(ctx, history); err != nil {
		b.Fatal(err)
	}
	var ids []string
	for range 50 {
		batch := app.NewID(clock.Now())
		ids = append(ids, batch)
		var reqs []app.Request
		for range 16 {
			r := newRequest(clock.Now(), "a cat")
			r.BatchID = batch
			reqs = append(reqs, r)
			clock.Advance(time.Millisecond)
		}
		if err := db.CreateRequests(ctx, reqs); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("one-query", func(b *testing.B) {
		for b.Loop() {
			if got, err := db.Batches(ctx, ids, clock.Now()); err != nil || len(got) != 50 || !got[ids[0]].HasETA {
				b.Fatalf("%d batches, %v", len(got), err)
			}
		}
	})
	b.Run("per-row", func(b *testing.B) {
		for b.Loop() {
			for _, id := range ids {
				if _, err := db.Batches(ctx, []string{id}, clock.Now()); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
