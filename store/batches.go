package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"time"

	"github.com/influencegen/influencegen/app"
)

// batchesSQL summarises the batches in the JSON array ?1 and the ETA
// inputs in one statement: the counts per batch, and per model of those
// batches the median duration (sent → completed) of its RecentDurations
// latest completed requests. Medians come from row numbers over the
// (model, completed_at) partial index, never from every request.
const batchesSQL = `
WITH b AS (
	SELECT batch_id, min(id) AS first_id, min(created_at) AS created_at, count(*) AS total,
		sum(status = 'completed') AS completed,
		sum(status IN ('failed', 'initiation_failed', 'timed_out')) AS failed,
		sum(status = 'cancelled') AS cancelled,
		sum(status IN ('queued', 'sending', 'processing')) AS in_flight,
		sum(status IN ('queued', 'sending')) AS unsent,
		max(CASE WHEN status = 'processing' THEN sent_at END) AS last_sent,
		sum(image_count) AS images
	FROM requests WHERE batch_id IN (SELECT value FROM json_each(?1)) AND deleted_at IS NULL GROUP BY batch_id
), bm AS (
	SELECT b.*, r.model, r.prompt FROM b JOIN requests r ON r.id = b.first_id
), recent AS (
	SELECT r.model, (julianday(r.completed_at) - julianday(r.sent_at)) * 86400.0 AS secs
	FROM (SELECT DISTINCT model FROM bm) m JOIN requests r ON r.id IN (
		SELECT x.id FROM requests x WHERE x.model = m.model AND x.status = 'completed' AND x.sent_at IS NOT NULL
		ORDER BY x.completed_at DESC LIMIT ?2)
), ranked AS (
	SELECT model, secs, row_number() OVER (PARTITION BY model ORDER BY secs) AS rn,
		count(*) OVER (PARTITION BY model) AS n
	FROM recent
), med AS (
	SELECT model, avg(secs) AS median FROM ranked WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY model
)
SELECT bm.batch_id, bm.prompt, bm.model, bm.created_at, bm.total, bm.completed, bm.failed, bm.cancelled,
	bm.in_flight, bm.unsent, bm.last_sent, bm.images, med.median
FROM bm LEFT JOIN med ON med.model = bm.model`

// Batches summarises a page of batches in one query.
func (d *DB) Batches(ctx context.Context, ids []string, now time.Time) (map[string]app.Batch, error) {
	out := make(map[string]app.Batch, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	list, _ := json.Marshal(ids)
	rows, err := d.rdb.QueryContext(ctx, batchesSQL, string(list), app.RecentDurations)
	if err != nil {
		return nil, mapError("summarise batches", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			b        app.Batch
			created  string
			unsent   int
			lastSent sql.NullString
			median   sql.NullFloat64
		)
		if err := rows.Scan(&b.ID, &b.Prompt, &b.Model, &created, &b.Total, &b.Completed, &b.Failed, &b.Cancelled,
			&b.InFlight, &unsent, &lastSent, &b.Images, &median); err != nil {
			return nil, mapError("summarise batches", err)
		}
		if b.CreatedAt, err = parseTime(created); err != nil {
			return nil, mapError("summarise batches", err)
		}
		if b.InFlight > 0 && median.Valid {
			// A request not sent yet starts its wait now at the earliest.
			start := now
			if unsent == 0 && lastSent.Valid {
				if start, err = parseTime(lastSent.String); err != nil {
					return nil, mapError("summarise batches", err)
				}
			}
			// julianday keeps about a millisecond of precision: round to it.
			med := time.Duration(math.Round(median.Float64*1000)) * time.Millisecond
			b.ETA = app.BatchETA(med, start, now)
			b.HasETA = true
		}
		out[b.ID] = b
	}
	return out, mapError("summarise batches", rows.Err())
}

// BatchRequests returns a batch's requests in creation order.
func (d *DB) BatchRequests(ctx context.Context, batchID string) ([]app.Request, error) {
	rows, err := d.rdb.QueryContext(ctx, "SELECT "+requestCols+" FROM requests WHERE batch_id = ? AND deleted_at IS NULL ORDER BY id", batchID)
	if err != nil {
		return nil, mapError("read batch "+batchID, err)
	}
	reqs, err := collectRequests(rows)
	if err != nil {
		return nil, mapError("read batch "+batchID, err)
	}
	return reqs, nil
}
