package store

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/influencegen/influencegen/app"
)

// walFrameSize is one WAL frame: a 24-byte header and a 4 KiB page.
const walFrameSize = 24 + 4096

// walFile reads the WAL file of db.
func walFile(t testing.TB, db *DB) []byte {
	t.Helper()
	var seq int
	var name, file string
	if err := db.rdb.QueryRowContext(context.Background(), "PRAGMA database_list").Scan(&seq, &name, &file); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// walPages counts the frames from frame number from on by the table or
// index their page belongs to (the page number is the frame header's
// first field; dbstat names each page's owner).
func walPages(t testing.TB, db *DB, wal []byte, from int) map[string]int {
	t.Helper()
	owner := map[uint32]string{}
	rows, err := db.rdb.QueryContext(context.Background(), "SELECT name, pageno FROM dbstat")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var page uint32
		if err := rows.Scan(&name, &page); err != nil {
			t.Fatal(err)
		}
		owner[page] = name
	}
	count := map[string]int{}
	for off := 32 + from*walFrameSize; off+walFrameSize <= len(wal); off += walFrameSize {
		page := binary.BigEndian.Uint32(wal[off:])
		name, ok := owner[page]
		if !ok {
			name = "(freed)"
		}
		count[name]++
	}
	return count
}

// Every page a commit changes is written to the WAL, fsynced, and copied
// again into the database file (issue 17: at 1,000 callbacks/s, 52 MB/s of
// WAL). This counts the pages ingest's commit of one callback writes, one
// completion per commit as a lone callback makes it: the request's state
// move, its image row, three activities, the delivery marked processed
// and the outbox's work, with every index they touch. The checkpointer is
// stopped, so nothing restarts the WAL during the count and it is exact.
func TestACompletedCallbackWritesFewWALFrames(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	const n = 300
	type item struct {
		req app.Request
		did int64
	}
	items := make([]item, n)
	for i := range items {
		r, did := processing(t, db, fmt.Sprint("k", i))
		items[i] = item{r, did}
	}
	db.ckpt.stop()
	before := (len(walFile(t, db)) - 32) / walFrameSize
	for i, it := range items {
		acts := []app.Activity{
			{Kind: app.ActivityCallback, RequestID: it.req.ID, Message: "callback received: success, 1 image"},
			{Kind: app.ActivityImageStored, RequestID: it.req.ID, Message: "image 1 stored: 56×56 image/png, 9500 bytes"},
			{Kind: app.ActivityCompleted, RequestID: it.req.ID, Message: "completed with 1 image"},
		}
		// Hashes spread over the whole key space, as real ones do.
		im := img(it.req.ID, fmt.Sprintf("%016x%048x", uint64(i)*0x9e3779b97f4a7c15, i))
		im.Unsynced = true // written without fsync, as ingest writes inline pictures
		if _, err := db.CompleteDelivery(ctx, app.IngestResult{DeliveryID: it.did, RequestID: it.req.ID, To: app.StatusCompleted,
			Images: []app.Image{im}, Activities: acts}); err != nil {
			t.Fatal(err)
		}
	}
	wal := walFile(t, db)
	pages := walPages(t, db, wal, before)
	var by strings.Builder
	for _, name := range slices.SortedFunc(maps.Keys(pages), func(a, b string) int { return cmp.Compare(pages[b], pages[a]) }) {
		fmt.Fprintf(&by, "\n  %-26s %.2f", name, float64(pages[name])/n)
	}
	per := float64((len(wal)-32)/walFrameSize-before) / n
	t.Logf("%.2f WAL frames per completed callback (one per commit), by table and index:%s", per, by.String())
	// Measured 20.3 (23.6 before migration 0013 dropped the activity
	// (kind, id) index and images_path).
	if per > 21 {
		t.Errorf("a completed callback writes %.2f WAL frames; want at most 21 (20.3 since migration 0013):%s", per, by.String())
	}
}
