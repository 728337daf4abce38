package ui

import (
	"context"
	"strconv"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/ansi/kitty"

	"github.com/influencegen/influencegen/app"
)

// Cmds of the grid, the viewer and compare. Each runs on its own
// goroutine and reports back with one message; none touches the model.

// galleryLoadedMsg carries the pictures of the gallery or of one request.
type galleryLoadedMsg struct {
	seq   int
	items []galleryItem
	err   error
}

// thumbRenderedMsg carries one thumbnail (or viewer picture) ready to draw.
type thumbRenderedMsg struct{ previewRenderedMsg }

// fileOpenedMsg answers o in the grid, the viewer or compare.
type fileOpenedMsg struct {
	path string
	err  error
}

// galleryPageSize is how many requests one read of the gallery takes.
const galleryPageSize = 200

// loadGalleryCmd reads the newest pictures (up to galleryLimit), or every
// picture of one request when requestID is set.
func loadGalleryCmd(ctx context.Context, st app.Store, seq int, requestID, batchID string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, 4*ioTimeout)
		defer cancel()
		if batchID != "" {
			items, err := batchItems(ctx, st, batchID)
			return galleryLoadedMsg{seq: seq, items: items, err: err}
		}
		if requestID != "" {
			r, err := st.GetRequest(ctx, requestID)
			if err != nil {
				return galleryLoadedMsg{seq: seq, err: err}
			}
			items, err := requestItems(ctx, st, r, galleryLimit)
			return galleryLoadedMsg{seq: seq, items: items, err: err}
		}
		var items []galleryItem
		q := app.ListQuery{Statuses: []app.Status{app.StatusCompleted}, Limit: galleryPageSize}
		for len(items) < galleryLimit {
			page, err := st.ListRequests(ctx, q)
			if err != nil {
				return galleryLoadedMsg{seq: seq, err: err}
			}
			for _, r := range page.Requests {
				more, err := requestItems(ctx, st, r, galleryLimit-len(items))
				if err != nil {
					return galleryLoadedMsg{seq: seq, err: err}
				}
				items = append(items, more...)
				if len(items) >= galleryLimit {
					break
				}
			}
			if !page.HasMore || len(page.Requests) == 0 {
				break
			}
			q.Before = page.Requests[len(page.Requests)-1].ID
		}
		return galleryLoadedMsg{seq: seq, items: items}
	}
}

// batchItems is every picture of a batch, in the order its requests were
// made (seeds s+1, s+2, … for a vary).
func batchItems(ctx context.Context, st app.Store, batchID string) ([]galleryItem, error) {
	reqs, err := st.BatchRequests(ctx, batchID)
	if err != nil {
		return nil, err
	}
	var items []galleryItem
	for _, r := range reqs {
		more, err := requestItems(ctx, st, r, galleryLimit-len(items))
		if err != nil {
			return nil, err
		}
		items = append(items, more...)
	}
	return items, nil
}

func requestItems(ctx context.Context, st app.Store, r app.Request, limit int) ([]galleryItem, error) {
	imgs, err := st.Images(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	out := make([]galleryItem, 0, min(len(imgs), limit))
	for _, img := range imgs {
		if len(out) == limit {
			break
		}
		out = append(out, galleryItem{img: img, req: r})
	}
	return out, nil
}

// renderThumbCmd decodes, scales and encodes one picture for a box off the
// UI goroutine; the scaled pixels go into the bounded cache on the way.
func renderThumbCmd(ctx context.Context, cache *previewCache, path string, k previewKey) tea.Cmd {
	return func() tea.Msg {
		return thumbRenderedMsg{renderPreview(ctx, cache, path, k)}
	}
}

// thumbKittyID gives each picture its own kitty image id, derived from its
// sha256 so a rendering can be cached, and never the detail's id.
func thumbKittyID(sha string) int {
	if len(sha) < 7 {
		return kittyImageID + 1
	}
	n, err := strconv.ParseUint(sha[:7], 16, 32)
	if err != nil {
		return kittyImageID + 1
	}
	return int(n) + 10000
}

// wipeAllImagesCmds remove every terminal-graphics picture: kitty's are
// deleted with their data, and the screen is redrawn for the others.
func wipeAllImagesCmds(g graphicsEnv) []tea.Cmd {
	var cmds []tea.Cmd
	if g.proto == protoKitty {
		o := kitty.Options{Action: kitty.Delete, Delete: kitty.DeleteAll, DeleteResources: true, Quiet: 2}
		cmds = append(cmds, placeImageCmd(g, ansi.KittyGraphics(nil, o.Options()...), 0, 0))
	}
	return append(cmds, tea.ClearScreen)
}

// openFileCmd shows path in the system viewer.
func openFileCmd(ctx context.Context, open func(context.Context, string) error, path string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return fileOpenedMsg{path: path, err: open(ctx, path)}
	}
}
