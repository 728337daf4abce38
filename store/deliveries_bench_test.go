package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/influencegen/influencegen/app"
)

// BenchmarkRecordDelivery: 64 goroutines record distinct ~10 KB callbacks
// (the listener's durable-ack write, without HTTP) through the group-commit
// writer, WAL and synchronous=FULL. It isolates the store's share of
// BenchmarkCallbackDurableAck in n8n.
//
//	go test -run '^$' -bench BenchmarkRecordDelivery -benchtime 5000x ./store/
func BenchmarkRecordDelivery(b *testing.B) {
	db, _ := openTest(b)
	ctx := context.Background()
	const pool = 256
	ids := make([]string, pool)
	for i := range ids {
		ids[i] = createOne(b, db, fmt.Sprint("bench ", i)).ID
	}
	pic := make([]byte, 7800)
	_, _ = rand.Read(pic)
	b64 := base64.StdEncoding.EncodeToString(pic)
	var next atomic.Int64
	setup := db.commits.Load()
	rate := runWriters(b, 64, func() error {
		i := next.Add(1)
		body := `{"status":"success","images":[{"base64":"` + b64 + `"}],"execution_id":"` + fmt.Sprint(i) + `"}`
		_, dup, err := db.RecordDelivery(ctx, app.Delivery{
			IdempotencyKey: fmt.Sprint("bench:", i), RequestID: ids[i%pool], Body: []byte(body), Source: "127.0.0.1",
		})
		if err == nil && dup {
			err = fmt.Errorf("delivery %d reported as a duplicate", i)
		}
		return err
	})
	b.ReportMetric(rate, "deliveries/s")
	b.ReportMetric(float64(b.N)/float64(max(db.commits.Load()-setup, 1)), "rows/tx")
}
