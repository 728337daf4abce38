package ui

import (
	"fmt"
	"sort"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/influencegen/influencegen/app"
)

// Notifications and the terminal's progress bar follow batches: the
// requests one submit made. A batch rings once, when its last request
// settles; a request made elsewhere (the CLI) rings on its own.

// batchWatch is one submitted batch still in flight.
type batchWatch struct {
	prompt string
	total  int
	left   map[string]bool
	done   map[app.Status]int
}

// batches maps a request id to its batch; it is shared by the root's
// copies and changed only in Update.
type batches map[string]*batchWatch

func (bs batches) add(reqs []app.Request) {
	if len(reqs) == 0 {
		return
	}
	w := &batchWatch{prompt: reqs[0].Params.Prompt, total: len(reqs), left: map[string]bool{}, done: map[app.Status]int{}}
	for _, r := range reqs {
		w.left[r.ID] = true
		bs[r.ID] = w
	}
}

// progress is the share of the requests in watched batches that settled.
func (bs batches) progress() (done, total int) {
	seen := map[*batchWatch]bool{}
	for _, w := range bs {
		if !seen[w] {
			seen[w] = true
			total += w.total
			done += w.total - len(w.left)
		}
	}
	return done, total
}

// settled reports whether a move from prev to next ends a request's run.
func settled(prev, next app.Status) bool {
	return prev != "" && !prev.Final() && next.Final()
}

// notifySettled records requests that just settled and returns at most
// one notification for all of them: a finished batch, or one request.
func (m Model) notifySettled(rs []app.Request) tea.Cmd {
	var texts []string
	var checks []tea.Cmd
	for _, r := range rs {
		w := m.batches[r.ID]
		if w == nil && r.BatchID != "" {
			checks = append(checks, batchCheckCmd(m.ctx, m.b.Store, r.BatchID, m.b.Clock.Now()))
			continue // a batch made elsewhere rings once, when it is done (batchrow.go)
		}
		if w == nil {
			if r.Status != app.StatusCancelled {
				texts = append(texts, fmt.Sprintf("%s — %s", strings.ReplaceAll(string(r.Status), "_", " "), clipRunes(oneLine(r.Params.Prompt), 60)))
			}
			continue
		}
		delete(m.batches, r.ID)
		delete(w.left, r.ID)
		w.done[r.Status]++
		if len(w.left) == 0 && w.done[app.StatusCancelled] < w.total {
			texts = append(texts, w.summary())
		}
	}
	if len(texts) == 0 || !m.b.Config.UI.Notify {
		return tea.Batch(checks...)
	}
	if len(texts) > 1 {
		return tea.Batch(append(checks, notifyCmd(fmt.Sprintf("InfluenceGen: %d requests finished", len(texts))))...)
	}
	return tea.Batch(append(checks, notifyCmd("InfluenceGen: "+texts[0]))...)
}

// summary is "batch of 4 done: 3 completed, 1 failed — prompt".
func (w *batchWatch) summary() string {
	prompt := clipRunes(oneLine(w.prompt), 60)
	if w.total == 1 {
		for st := range w.done {
			return fmt.Sprintf("%s — %s", strings.ReplaceAll(string(st), "_", " "), prompt)
		}
	}
	var parts []string
	for st, n := range w.done {
		parts = append(parts, fmt.Sprintf("%d %s", n, strings.ReplaceAll(string(st), "_", " ")))
	}
	sort.Strings(parts)
	return fmt.Sprintf("batch of %d done: %s — %s", w.total, strings.Join(parts, ", "), prompt)
}

// progressBar is the terminal's own progress bar while a batch runs.
func (m Model) progressBar() *tea.ProgressBar {
	done, total := m.batches.progress()
	if total == 0 {
		return nil
	}
	return tea.NewProgressBar(tea.ProgressBarDefault, done*100/total)
}
