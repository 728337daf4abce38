package ui

import (
	"context"
	"fmt"
	"image/color"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/influencegen/influencegen/app"
)

func TestABusEventReloadsThatRequestAndNotifiesWhenItFinishes(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 100, 30)
	m = press(t, m, "j") // the processing request
	path, sha := writeTestPNG(t, t.TempDir())
	completeWithImage(t, r.db, testID(7), path, sha)

	m, msgs := do(t, m, busEventMsg{ev: app.Event{Kind: app.EventRequest, RequestID: testID(7)}})
	if !hasMsg(msgs, "ui.requestReloadedMsg") {
		t.Fatalf("event produced %v", msgTypes(msgs))
	}
	var reloaded tea.Msg
	for _, msg := range msgs {
		if _, ok := msg.(requestReloadedMsg); ok {
			reloaded = msg
		}
	}
	m, msgs = do(t, m, reloaded)
	var raw string
	for _, msg := range msgs {
		if rm, ok := msg.(tea.RawMsg); ok {
			raw += rm.Msg.(string)
		}
	}
	if !strings.Contains(raw, "\a") || !strings.Contains(raw, "\x1b]9;InfluenceGen: completed") {
		t.Fatalf("want a bell and an OSC 9 notification, got %q", raw)
	}
	m = feedAll(t, m, msgs)
	if sel, _ := m.list.selected(); sel.Status != app.StatusCompleted {
		t.Fatalf("row is %s", sel.Status)
	}
	if !m.headerDirty {
		t.Fatal("a request event should mark the header counts stale")
	}
	m, msgs = do(t, m, pollTickedMsg{})
	if !hasMsg(msgs, "ui.headerLoadedMsg") || !hasMsg(msgs, "ui.dataVersionCheckedMsg") {
		t.Fatalf("the poll tick produced %v", msgTypes(msgs))
	}
}

func TestNotificationsCanBeTurnedOff(t *testing.T) {
	r := newRig(t, true)
	r.b.Config.UI.Notify = false
	m := r.model(t, 100, 30)
	if cmd := m.notifySettled([]app.Request{{Status: app.StatusCompleted}}); cmd != nil {
		t.Fatal("ui.notify = false must not ring")
	}
}

func TestTheBusWaitIsReArmedAfterEveryEvent(t *testing.T) {
	r := newRig(t, true)
	bus := app.NewBus()
	r.b.Bus = bus
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := New(ctx, r.b)
	m.noTicks = true
	bus.Publish(app.Event{Kind: app.EventListener})
	msg := waitForEventCmd(m.sub)()
	ev, ok := msg.(busEventMsg)
	if !ok || ev.ev.Kind != app.EventListener {
		t.Fatalf("got %#v", msg)
	}
	_, cmd := m.Update(ev)
	bus.Publish(app.Event{Kind: app.EventSecrets})
	msgs := runCmd(t, cmd)
	found := false
	for _, x := range msgs {
		if e, ok := x.(busEventMsg); ok && e.ev.Kind == app.EventSecrets {
			found = true
		}
	}
	if !found {
		t.Fatalf("the next event was not awaited: %v", msgTypes(msgs))
	}
}

func TestDroppedEventsMakeTheDashboardReloadEverything(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 100, 30)
	_, msgs := do(t, m, busEventMsg{resync: true})
	if !hasMsg(msgs, "ui.pageWantedMsg") || !hasMsg(msgs, "ui.headerLoadedMsg") {
		t.Fatalf("resync produced %v", msgTypes(msgs))
	}
}

func TestAWriteByAnotherProcessIsNoticedThroughTheDataVersion(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 100, 30)
	if m.dataVersion == 0 {
		t.Fatal("Init should have read the data version")
	}
	// Another process: a second connection to the same file.
	other := openStoreAt(t, r.db)
	if err := other.CreateRequests(context.Background(), []app.Request{{ID: testID(50), Params: params("from the CLI", "sdxl", 1), RequestedBy: "cli", CreatedAt: testNow, UpdatedAt: testNow}}); err != nil {
		t.Fatal(err)
	}
	m, msgs := do(t, m, pollTickedMsg{})
	m, msgs = do(t, m, msgs[0])
	if !hasMsg(msgs, "ui.pageWantedMsg") {
		t.Fatalf("a changed data version should reload the list, got %v", msgTypes(msgs))
	}
	m = feedAll(t, m, msgs)
	if top := m.list.rows[0]; top.ID != testID(50) {
		t.Fatalf("top row %s", top.ID)
	}
}

func TestADeletedRequestDisappearsOnItsEvent(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 100, 30)
	if _, err := r.db.DeleteRequest(context.Background(), testID(5)); err != nil {
		t.Fatal(err)
	}
	m = step(t, m, busEventMsg{ev: app.Event{Kind: app.EventRequest, RequestID: testID(5)}})
	for _, row := range m.list.rows {
		if row.ID == testID(5) {
			t.Fatal("the deleted request is still listed")
		}
	}
}

func TestResizingAtAnyMomentKeepsTheScreenExactlyTheTerminalSize(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 100, 30)
	for _, keys := range [][]string{nil, {"enter"}, {"n"}, {"a"}, {"l"}, {"?"}} {
		mm := press(t, m, keys...)
		for _, sz := range [][2]int{{200, 60}, {60, 15}, {121, 33}, {119, 16}, {30, 5}, {80, 24}} {
			mm = step(t, mm, tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
			lines := strings.Split(mm.View().Content, "\n")
			if len(lines) != sz[1] {
				t.Fatalf("keys %v at %dx%d: %d lines", keys, sz[0], sz[1], len(lines))
			}
		}
	}
}

func TestNoColorMeansNoColourAndNoImageBlocks(t *testing.T) {
	r := newRig(t, true)
	r.b.Getenv = func(k string) string { return map[string]string{"NO_COLOR": "1", "TERM": "xterm-256color"}[k] }
	m := r.model(t, 160, 40)
	m = step(t, m, tea.BackgroundColorMsg{})
	out := m.View().Content
	if strings.Contains(out, "38;2;") || strings.Contains(out, "48;2;") || strings.Contains(out, "\x1b[3") {
		t.Fatalf("colour escape under NO_COLOR: %q", out[:min(len(out), 300)])
	}
	if !strings.Contains(screenText(m), "[image 64x48") {
		t.Fatal("the image should be described instead of drawn")
	}
}

func TestALightBackgroundGetsLightStyles(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 100, 30)
	m = step(t, m, tea.BackgroundColorMsg{Color: color.White})
	if m.styles.isDark {
		t.Fatal("a white background should select the light palette")
	}
	m = step(t, m, tea.BackgroundColorMsg{Color: color.Black})
	if !m.styles.isDark {
		t.Fatal("a black background should select the dark palette")
	}
}

func countRaw(msgs []tea.Msg) int {
	n := 0
	for _, t := range msgTypes(msgs) {
		if t == "tea.RawMsg" {
			n++
		}
	}
	return n
}

func TestABatchRingsOnceWhenItsLastRequestSettles(t *testing.T) {
	r := newRig(t, false)
	r.b.Config.UI.Notify = true
	m := r.model(t, 100, 30)
	m = press(t, m, "n")
	m = typeText(t, m, "three foxes")
	m = press(t, m, "tab", "tab", "tab", "tab", "tab", "tab", "tab", "backspace")
	m = typeText(t, m, "3")
	m = press(t, m, "ctrl+s")
	if len(m.list.rows) != 3 {
		t.Fatalf("want 3 rows, got %d", len(m.list.rows))
	}
	if pb := m.View().ProgressBar; pb == nil || pb.Value != 0 {
		t.Fatalf("a running batch should show the terminal progress bar at 0, got %+v", pb)
	}
	path, sha := writeTestPNG(t, t.TempDir())
	rings := 0
	for i, row := range m.list.rows {
		move(t, r.db, row.ID, app.Change{}, app.StatusSending, app.StatusProcessing)
		m = step(t, m, busEventMsg{ev: app.Event{Kind: app.EventRequest, RequestID: row.ID}})
		completeWithImage(t, r.db, row.ID, path, sha)
		var msgs []tea.Msg
		m, msgs = do(t, m, busEventMsg{ev: app.Event{Kind: app.EventRequest, RequestID: row.ID}})
		for _, msg := range msgs {
			var out []tea.Msg
			m, out = do(t, m, msg)
			rings += countRaw(out)
			m = feedAll(t, m, out)
		}
		if i < 2 && rings != 0 {
			t.Fatalf("rang after %d of 3 requests", i+1)
		}
		if i == 1 {
			if pb := m.View().ProgressBar; pb == nil || pb.Value != 66 {
				t.Fatalf("progress after 2 of 3: %+v", pb)
			}
		}
	}
	if rings != 1 {
		t.Fatalf("the batch rang %d times, want once", rings)
	}
	if m.View().ProgressBar != nil {
		t.Fatal("the progress bar should be gone once the batch is done")
	}
}

// An event that moves a row moves the header counts in the same update:
// the row and the counts come from one load, so they never disagree, even
// before the next poll tick refreshes the rest of the header.
func TestHeaderCountsMoveWithTheRowAnEventMoves(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 120, 40)
	processing := 1 + slices.Index(app.Statuses, app.StatusProcessing)
	m = press(t, m, fmt.Sprint(processing))
	if len(m.list.rows) != 1 || m.header.counts[app.StatusProcessing] != 1 || m.header.counts[app.StatusCompleted] != 1 {
		t.Fatalf("before: %d processing rows, header %v", len(m.list.rows), m.header.counts)
	}
	path, sha := writeTestPNG(t, t.TempDir())
	completeWithImage(t, r.db, testID(7), path, sha)
	m = step(t, m, busEventMsg{ev: app.Event{Kind: app.EventRequest, RequestID: testID(7)}})
	if len(m.list.rows) != 0 {
		t.Fatalf("the completed row lingers under Processing: %d rows", len(m.list.rows))
	}
	if m.header.counts[app.StatusProcessing] != 0 || m.header.counts[app.StatusCompleted] != 2 {
		t.Fatalf("rows moved but the header still says %v", m.header.counts)
	}
	if m.list.tabCount(processing) != len(m.list.rows) {
		t.Fatalf("the Processing tab says %d, the list shows %d", m.list.tabCount(processing), len(m.list.rows))
	}
}
