package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/export"
)

// Cmds of the pick: favourite and verdict, "more like this", export.

// imageDecidedMsg answers f, + , - and 0 with the image as stored.
type imageDecidedMsg struct {
	img  app.Image
	what string // "favourite", "unfavourite", "approved", "rejected", "undecided"
	err  error
}

// variedMsg answers V (vary) and R (re-roll) with the new batch.
type variedMsg struct {
	reqs   []app.Request
	reroll bool
	err    error
}

// exportedMsg answers E with what the export wrote.
type exportedMsg struct {
	res export.Result
	err error
}

func favoriteCmd(ctx context.Context, svc Service, imageID int64, on bool) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, ioTimeout)
		defer cancel()
		img, err := svc.SetFavorite(ctx, imageID, on)
		what := "favourite"
		if !on {
			what = "unfavourite"
		}
		return imageDecidedMsg{img: img, what: what, err: err}
	}
}

func approvalCmd(ctx context.Context, svc Service, imageID int64, a app.Approval) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, ioTimeout)
		defer cancel()
		img, err := svc.SetApproval(ctx, imageID, a)
		return imageDecidedMsg{img: img, what: string(a), err: err}
	}
}

func varyCmd(ctx context.Context, svc Service, imageID int64, reroll bool) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, ioTimeout)
		defer cancel()
		var reqs []app.Request
		var err error
		if reroll {
			reqs, err = svc.Reroll(ctx, imageID)
		} else {
			reqs, err = svc.Vary(ctx, imageID)
		}
		return variedMsg{reqs: reqs, reroll: reroll, err: err}
	}
}

// exportCmd copies the images q selects into a new folder under base
// (named by the time), with the manifest; base "" is
// ~/influencegen-exports.
func exportCmd(ctx context.Context, st app.Store, base string, now time.Time, q app.ImageQuery) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		if base == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return exportedMsg{err: app.Errorf(app.EUNAVAILABLE, "no folder to export to: %v", err)}
			}
			base = filepath.Join(home, "influencegen-exports")
		}
		probe := q
		probe.Limit = 1
		if some, err := st.ListImages(ctx, probe); err != nil || len(some) == 0 {
			return exportedMsg{err: err} // nothing selected: no folder is made
		}
		// a folder of its own, even for two exports in the same second
		dir := filepath.Join(base, now.UTC().Format("20060102-150405"))
		for i := 2; i < 1000; i++ {
			if _, err := os.Stat(dir); os.IsNotExist(err) {
				break
			}
			dir = filepath.Join(base, fmt.Sprintf("%s-%d", now.UTC().Format("20060102-150405"), i))
		}
		res, err := export.Run(ctx, st, export.Options{Dir: dir, Query: q, Now: now})
		return exportedMsg{res: res, err: err}
	}
}

// batchCheckCmd reads one batch's summary (after one of its requests
// settled) to tell whether it is done.
func batchCheckCmd(ctx context.Context, st app.Store, batchID string, now time.Time) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, ioTimeout)
		defer cancel()
		bs, err := st.Batches(ctx, []string{batchID}, now)
		b, ok := bs[batchID]
		return batchCheckedMsg{batch: b, found: ok, err: err}
	}
}

// readBatchOf is the batch of request id, nil when it has none.
func readBatchOf(ctx context.Context, st app.Store, id string) (*app.Batch, error) {
	r, err := st.GetRequest(ctx, id)
	if err != nil || r.BatchID == "" {
		// a request deleted meanwhile has no batch line: the images and
		// timeline read just before say what there is to say
		return nil, nil //nolint:nilerr // the batch line is optional
	}
	bs, err := st.Batches(ctx, []string{r.BatchID}, time.Now())
	if b, ok := bs[r.BatchID]; ok {
		return &b, err
	}
	return nil, err
}
