package ui

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/influencegen/influencegen/app"
)

// fakeTeamOdoo answers Team as Odoo's search_read does (write_date >
// since, newest change first) and records each since it was asked for.
type fakeTeamOdoo struct {
	mu     sync.Mutex
	rows   []app.TeamRequest
	sinces []time.Time
	served []int // how many rows each call returned
	images []int64
	png    app.StoredFile
}

func (f *fakeTeamOdoo) Team(_ context.Context, since time.Time, limit int) ([]app.TeamRequest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sinces = append(f.sinces, since)
	var out []app.TeamRequest
	for _, r := range f.rows {
		if since.IsZero() || r.UpdatedAt.After(since) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b app.TeamRequest) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	f.served = append(f.served, len(out))
	return out, nil
}

func (f *fakeTeamOdoo) put(r app.TeamRequest) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.rows {
		if f.rows[i].OdooID == r.OdooID {
			f.rows[i] = r
			return
		}
	}
	f.rows = append(f.rows, r)
}

func (f *fakeTeamOdoo) fetchImages(_ context.Context, odooID int64) ([]app.StoredFile, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.images = append(f.images, odooID)
	return []app.StoredFile{f.png}, nil
}

func (f *fakeTeamOdoo) imageCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.images)
}

// teamRig is a dashboard whose Odoo holds four team requests: one made on
// this host (testID(8), in the local store), one another host claimed,
// one failed on another laptop and a draft in Odoo.
func teamRig(t testing.TB) (*rig, *fakeTeamOdoo) {
	t.Helper()
	r := newRig(t, true)
	path, sha := writeTestPNG(t, t.TempDir())
	odoo := &fakeTeamOdoo{png: app.StoredFile{Path: path, SHA256: sha, MimeType: "image/png", Width: 64, Height: 48}}
	at := func(min int) time.Time { return testNow.Add(-time.Duration(min) * time.Minute) }
	odoo.rows = []app.TeamRequest{
		{ID: testID(8), OdooID: 41, Prompt: "A red fox in fresh snow at dawn", Model: "sdxl", State: "completed", RequestedBy: "alice", RequestedAt: at(7), Origin: "app", Images: 1, UpdatedAt: at(6)},
		{ID: "01JDX3V6Q6T7ZP3Y6N4BOTHER1", OdooID: 42, Prompt: "poster of a jazz night, art deco", Model: "flux-dev", State: "processing", RequestedBy: "bob", RequestedAt: at(20), Origin: "odoo", Host: "studio-mac/9f3a", UpdatedAt: at(18)},
		{ID: "01JDX3V6Q6T7ZP3Y6N4BOTHER2", OdooID: 43, Prompt: "isometric office, pastel", Model: "sdxl", State: "failed", RequestedBy: "carol", RequestedAt: at(40), Origin: "app", UpdatedAt: at(39)},
		{OdooID: 44, Prompt: "label for a honey jar", Model: "sdxl", State: "draft", RequestedBy: "dave", RequestedAt: at(90), Origin: "odoo", UpdatedAt: at(90)},
	}
	r.b.Team = &TeamBackend{Feed: app.NewTeamFeed(odoo, 200), Images: odoo.fetchImages, Host: "this-laptop/0001"}
	return r, odoo
}

func TestTWithoutOdooSaysItIsNotConfigured(t *testing.T) {
	r := newRig(t, true)
	r.b.Config.Odoo.URL = ""
	m := r.model(t, 100, 30)
	m = press(t, m, "T")
	got := screenText(m)
	if m.screen != screenTeam || !strings.Contains(got, "Odoo is not configured") || !strings.Contains(got, "odoo.url") {
		t.Fatalf("T without Odoo should say so:\n%s", got)
	}
	for _, k := range []string{"ctrl+r", "enter", "retry"} {
		if strings.Contains(lastLine(got), k) {
			t.Fatalf("the footer offers %q with nothing to act on: %q", k, lastLine(got))
		}
	}
	m = press(t, m, "esc")
	if m.screen != screenMain {
		t.Fatalf("esc should return to the requests, screen %d", m.screen)
	}
}

func TestTListsEveryonesRequestsWithWhoStateAndWhere(t *testing.T) {
	r, _ := teamRig(t)
	m := r.model(t, 120, 30)
	next, cmd := m.Update(keyMsg("T"))
	m = next.(Model)
	if cmd == nil || m.screen != screenTeam || !m.team.loading {
		t.Fatal("T should open the team scope and ask Odoo in a Cmd")
	}
	m = settle(t, m, cmd)
	got := screenText(m)
	for _, want := range []string{"alice", "bob", "carol", "dave", "this host", "studio-mac/9f3a", "Odoo (unclaimed)", "draft", "processing", "WHO", "WHEN"} {
		if !strings.Contains(got, want) {
			t.Fatalf("the team scope lacks %q:\n%s", want, got)
		}
	}
}

func TestAPollReadsOnlyWhatChangedSinceTheNewestWriteDateAndMergesIt(t *testing.T) {
	r, odoo := teamRig(t)
	m := r.model(t, 120, 30)
	m = press(t, m, "T")
	if len(m.team.rows) != 4 {
		t.Fatalf("first read: %d rows", len(m.team.rows))
	}
	odoo.put(app.TeamRequest{ID: "01JDX3V6Q6T7ZP3Y6N4BOTHER3", OdooID: 45, Prompt: "erin's new banner", State: "queued",
		RequestedBy: "erin", RequestedAt: testNow, Origin: "odoo", UpdatedAt: testNow})
	m = step(t, m, odooPolledMsg{})
	// newest write_date seen (alice's, 6 minutes ago) less the feed's one
	// minute of overlap for long Odoo transactions
	if want := testNow.Add(-7 * time.Minute); len(odoo.sinces) != 2 || !odoo.sinces[1].Equal(want) {
		t.Fatalf("the poll should ask for changes after %v, asked %v", want, odoo.sinces)
	}
	if odoo.served[1] != 2 {
		t.Fatalf("the poll read %d rows, want only the new one and the one inside the overlap, not all 4", odoo.served[1])
	}
	if len(m.team.rows) != 5 || m.team.rows[0].RequestedBy != "erin" || m.team.seen != 1 {
		t.Fatalf("the new row should be merged on top of the 4: %d rows, first %q, seen %d", len(m.team.rows), m.team.rows[0].RequestedBy, m.team.seen)
	}
	if !strings.Contains(screenText(m), "erin") {
		t.Fatal("the new request is not on screen")
	}
}

func TestTeamRowsAreReadOnlyUnlessThisHostHoldsThem(t *testing.T) {
	r, odoo := teamRig(t)
	// carol's failed request becomes one this host holds once it is claimed here
	m := r.model(t, 120, 30)
	m = press(t, m, "T")
	sel := func(by string) Model {
		for i, row := range m.team.rows {
			if row.RequestedBy == by {
				m.team.cursor = i
				next, _ := m.Update(nil)
				return next.(Model)
			}
		}
		t.Fatalf("no row of %s", by)
		return m
	}
	m = sel("carol")
	if m.team.keys.Retry.Enabled() || m.team.keys.Cancel.Enabled() || strings.Contains(lastLine(screenText(m)), "retry") {
		t.Fatalf("another laptop's failed request must be read-only: footer %q", lastLine(screenText(m)))
	}
	m = press(t, m, "r")
	if calls := r.svc.Calls(); len(calls) != 0 {
		t.Fatalf("r on a read-only row called the service: %v", calls)
	}
	m = sel("bob")
	if m.team.keys.Cancel.Enabled() {
		t.Fatal("another host's processing request must not offer cancel")
	}
	// claimed by this host: now it is ours
	row := odoo.rows[2]
	row.Host, row.UpdatedAt = "this-laptop/0001", testNow
	odoo.put(row)
	m = step(t, m, odooPolledMsg{})
	m = sel("carol")
	if !m.team.keys.Retry.Enabled() || !strings.Contains(lastLine(screenText(m)), "r retry") {
		t.Fatalf("a failed request this host claimed should offer retry: footer %q", lastLine(screenText(m)))
	}
	m = sel("alice") // made here: completed, so nothing to retry or cancel
	if m.team.keys.Retry.Enabled() || m.team.keys.Cancel.Enabled() || !m.team.owns(m.team.rows[m.team.cursor]) {
		t.Fatal("this host's completed request: owned, but neither retry nor cancel applies")
	}
}

func TestOpeningATeamRowFetchesItsImageInACmdOnce(t *testing.T) {
	r, odoo := teamRig(t)
	m := r.model(t, 120, 40)
	m = press(t, m, "T") // alice's completed request is selected
	next, cmd := m.Update(keyMsg("enter"))
	m = next.(Model)
	if odoo.imageCalls() != 0 {
		t.Fatal("Update fetched the image itself; it must be a Cmd")
	}
	if !strings.Contains(screenText(m), "fetching the image from Odoo") {
		t.Fatalf("the detail should say the image is on its way:\n%s", screenText(m))
	}
	msgs := runCmd(t, cmd)
	if !hasMsg(msgs, "ui.teamImagesFetchedMsg") || odoo.imageCalls() != 1 {
		t.Fatalf("enter should fetch the image once in a Cmd: %v, %d calls", msgTypes(msgs), odoo.imageCalls())
	}
	for _, msg := range msgs {
		m = step(t, m, msg)
	}
	got := screenText(m)
	if !strings.Contains(got, "64x48 image/png") || !strings.Contains(got, "▀") {
		t.Fatalf("the detail should preview the fetched image:\n%s", got)
	}
	m = press(t, m, "esc", "enter")
	if odoo.imageCalls() != 1 {
		t.Fatalf("a second look fetched again (%d calls)", odoo.imageCalls())
	}
	if !strings.Contains(screenText(m), "▀") {
		t.Fatal("the second look should show the kept preview")
	}
	m = press(t, m, "esc", "esc")
	if m.screen != screenMain {
		t.Fatalf("esc, esc should lead back to the requests, screen %d", m.screen)
	}
}

func TestTheHeaderCountsTheOdooQueueWhenThisHostAcceptsRequests(t *testing.T) {
	for _, tc := range []struct {
		name   string
		accept bool
		w      int
		want   string
	}{
		{"accepting, wide", true, 160, "Odoo queue: 3 waiting"},
		{"accepting, 80 columns", true, 80, "Odoo queue: 3 waiting"},
		{"accepting, 60 columns", true, 60, "queue 3"},
		{"not accepting", false, 160, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := teamRig(t)
			r.b.Config.Odoo.AcceptRequests = tc.accept
			calls := 0
			r.b.Team.QueueWaiting = func(context.Context) (int, error) { calls++; return 3, nil }
			m := r.model(t, tc.w, 30)
			line2 := strings.Split(screenText(m), "\n")[1]
			if tc.want == "" {
				if strings.Contains(line2, "Odoo queue") || calls != 0 {
					t.Fatalf("with accept_requests off the header should not count the queue (%d calls): %q", calls, line2)
				}
				return
			}
			if !strings.Contains(line2, tc.want) {
				t.Fatalf("header line 2 %q lacks %q", line2, tc.want)
			}
			step(t, m, odooPolledMsg{})
			if calls != 2 {
				t.Fatalf("each poll should count the queue once: %d calls", calls)
			}
		})
	}
}

func TestTheQueueCountStepsDownBeforeTheOdooSyncLine(t *testing.T) {
	r, _ := teamRig(t)
	r.b.Config.Odoo.AcceptRequests = true
	r.b.Team.QueueWaiting = func(context.Context) (int, error) { return 12, nil }
	m := r.model(t, 60, 24)
	lines := strings.Split(screenText(m), "\n")
	if !strings.Contains(lines[0], "✓") {
		t.Fatalf("the reachability mark must stay at 60 columns: %q", lines[0])
	}
	if strings.Contains(lines[1], "Odoo queue: 12 waiting") {
		t.Fatalf("at 60 columns the queue count should shorten or go: %q", lines[1])
	}
	if !strings.Contains(lines[1], "Odoo pending 24") {
		t.Fatalf("the sync line outranks the queue count: %q", lines[1])
	}
	m = step(t, m, tea.WindowSizeMsg{Width: 200, Height: 24})
	if !strings.Contains(strings.Split(screenText(m), "\n")[1], "Odoo queue: 12 waiting") {
		t.Fatal("at 200 columns the full queue count should show")
	}
}

// failingTeamOdoo is an Odoo that refuses the team read.
type failingTeamOdoo struct{}

func (failingTeamOdoo) Team(context.Context, time.Time, int) ([]app.TeamRequest, error) {
	return nil, app.Errorf(app.EUNAVAILABLE, "Odoo answered 503 Service Unavailable")
}

func TestATeamReadThatFailsSaysSoAndTheNextPollTriesAgain(t *testing.T) {
	r, _ := teamRig(t)
	r.b.Team.Feed = app.NewTeamFeed(failingTeamOdoo{}, 200)
	m := r.model(t, 120, 30)
	m = press(t, m, "T")
	if got := screenText(m); !strings.Contains(got, "cannot read the team's requests from Odoo") || !strings.Contains(got, "503") {
		t.Fatalf("a failed read should be said:\n%s", got)
	}
	next, cmd := m.Update(odooPolledMsg{})
	if cmd == nil || !next.(Model).team.loading {
		t.Fatal("the next poll should read Odoo again")
	}
}

func TestCancelOnATeamRowThisHostHoldsAsksAndCancelsThroughTheService(t *testing.T) {
	r, odoo := teamRig(t)
	// bob's processing request, claimed by this host
	row := odoo.rows[1]
	row.Host, row.ID = "this-laptop/0001", testID(7)
	odoo.put(row)
	m := r.model(t, 120, 30)
	m = press(t, m, "T", "j")
	if sel, _ := m.team.selected(); sel.RequestedBy != "bob" || !m.team.keys.Cancel.Enabled() {
		t.Fatalf("bob's request held here should offer cancel (selected %q)", sel.RequestedBy)
	}
	m = press(t, m, "x")
	if m.confirm == nil {
		t.Fatal("x should ask first")
	}
	m = typeText(t, m, "cancel")
	m = press(t, m, "enter")
	if calls := r.svc.Calls(); len(calls) != 1 || !strings.HasPrefix(calls[0], "cancel") {
		t.Fatalf("the service should have cancelled once: %v", calls)
	}
}
