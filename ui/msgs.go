package ui

import (
	"time"

	"github.com/influencegen/influencegen/app"
)

// Messages are named in the past tense: each reports something a Cmd did
// or the outside world did.

// pageWantedMsg is the list asking for a keyset read: the list holds no
// store, so the root turns this into the read.
type pageWantedMsg struct {
	seq  int
	mode loadMode
	q    app.ListQuery
}

// pageLoadedMsg carries a window of requests read by keyset.
type pageLoadedMsg struct {
	seq  int      // the list's load sequence; older answers are dropped
	mode loadMode // how the window relates to the current one
	page app.Page
	// counts are the tab counts: per state, the requests matching the
	// page's search and mine filter
	counts map[app.Status]int
	totals map[app.Status]int // the header's counts, read with the rows
	// entries is how many list entries (a batch is one) the query matches;
	// batches summarises the page's batch entries (batchlist.go)
	entries int
	batches map[string]app.Batch
	err     error
}

// requestReloadedMsg carries one request re-read after an event hint.
type requestReloadedMsg struct {
	req app.Request
	err error
	// counts are the tab counts read with it, for the list's search and
	// mine filter at the time (nil when the read failed)
	counts       map[app.Status]int
	totals       map[app.Status]int // the header's counts, read with it
	search, mine string
}

// detailLoadedMsg carries the images and timeline of one request.
type detailLoadedMsg struct {
	id       string
	images   []app.Image
	activity []app.Activity
	batch    *app.Batch // the request's batch, when it belongs to one
	// batchReqs are that batch's requests, for the detail of a batch row
	batchReqs []app.Request
	err       error
}

// headerLoadedMsg carries everything the header shows.
type headerLoadedMsg struct {
	outbox   app.OutboxStats
	odoo     bool
	n8nError *app.Activity // the latest n8n outcome, only when it was an error
	listener ListenerStatus
	curation app.CurationCounts // images starred, approved, rejected
	err      error
}

// busEventMsg is one event from the app bus (or the end of the stream).
type busEventMsg struct {
	ev     app.Event
	resync bool // events were dropped: reload everything
	closed bool // the subscription ended
}

// pollTickedMsg fires every 250 ms to check the database's data version.
type pollTickedMsg struct{}

// dataVersionCheckedMsg carries PRAGMA data_version.
type dataVersionCheckedMsg struct {
	version int64
	err     error
}

// submittedMsg answers a composer submit.
type submittedMsg struct {
	reqs []app.Request
	err  error
}

// actionDoneMsg answers retry, cancel and delete.
type actionDoneMsg struct {
	action string // "retry" | "cancel" | "delete"
	id     string
	req    app.Request
	err    error
}

// undoneMsg answers an undo of a delete or a cancel.
type undoneMsg struct {
	action string // the action undone: "cancel" | "delete"
	id     string
	req    app.Request
	err    error
}

// historyLoadedMsg carries recent prompts for ctrl+p/ctrl+n.
type historyLoadedMsg struct {
	prompts []string
	err     error
}

// previewRenderedMsg carries a decoded, scaled image ready to draw.
type previewRenderedMsg struct {
	key        previewKey
	cols, rows int    // the rendering's size in cells
	cells      string // half-block rendering, always present on success
	inline     string // kitty/iTerm2/sixel escape payload, "" for half-blocks
	err        error
}

// secretsLoadedMsg carries the secrets table (never values).
type secretsLoadedMsg struct {
	secrets []app.SecretStatus
	err     error
}

// secretSetMsg answers a masked "set secret".
type secretSetMsg struct {
	name string
	err  error
}

// tokenRotatedMsg carries the new callback token: shown once, then dropped.
// pushTried says the token was also pushed to n8n; pushErr is how that
// went.
type tokenRotatedMsg struct {
	token     string
	expires   time.Time
	err       error
	pushTried bool
	pushErr   error
}

// erpCheckedMsg answers "test Odoo connection".
type erpCheckedMsg struct {
	at    time.Time
	check app.ERPCheck
	err   error
}

// remixLoadedMsg carries the parameters to pre-fill the composer with.
type remixLoadedMsg struct {
	in  app.ParamsInput
	err error
}

// activityLoadedMsg carries the activity log.
type activityLoadedMsg struct {
	items []app.Activity
	err   error
}

// imageOpenedMsg answers `o`.
type imageOpenedMsg struct {
	path string
	err  error
}

// tabClickedMsg is a click on a state filter tab.
type tabClickedMsg struct{ filter int }

// rowClickedMsg is a click on a request row (its index in the loaded rows).
type rowClickedMsg struct{ index int }

// paneClickedMsg is a click in the detail pane beside the list.
type paneClickedMsg struct{}

// teamRefreshedMsg carries the team feed after a poll of what changed in
// Odoo, and which of its requests this host holds.
type teamRefreshedMsg struct {
	rows    []app.TeamRequest
	owned   map[string]bool
	changed int
	err     error
}

// teamImagesFetchedMsg carries a team request's images, fetched from Odoo
// and kept in the image folder.
type teamImagesFetchedMsg struct {
	odooID int64
	files  []app.StoredFile
	err    error
}

// odooPolledMsg is the odoo.poll_interval tick: the team scope and the
// header's queue count read Odoo again.
type odooPolledMsg struct{}

// queueCountedMsg carries how many requests made in Odoo wait for a host.
type queueCountedMsg struct {
	waiting int
	err     error
}
