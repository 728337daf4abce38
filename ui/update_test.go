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

// do applies one message without settling and returns the new model and
// the messages its Cmd produced, so a test can assert what was asked for.
func do(t *testing.T, m Model, msg tea.Msg) (Model, []tea.Msg) {
	t.Helper()
	next, cmd := m.Update(msg)
	return next.(Model), runCmd(t, cmd)
}

func hasMsg(msgs []tea.Msg, typ string) bool {
	return slices.Contains(msgTypes(msgs), typ)
}

func feedAll(t *testing.T, m Model, msgs []tea.Msg) Model {
	t.Helper()
	for _, msg := range msgs {
		m = step(t, m, msg)
	}
	return m
}

func TestInitAsksForEverythingTheFirstFrameNeeds(t *testing.T) {
	r := newRig(t, true)
	m := New(context.Background(), r.b)
	m.noTicks = true
	got := msgTypes(runCmd(t, m.Init()))
	for _, want := range []string{"tea.backgroundColorMsg", "ui.pageLoadedMsg", "ui.headerLoadedMsg", "ui.dataVersionCheckedMsg"} {
		if !slices.Contains(got, want) {
			t.Errorf("Init produced %v; want %s among them", got, want)
		}
	}
}

func TestKeysMoveBetweenScreens(t *testing.T) {
	tests := []struct {
		name     string
		width    int
		keys     []string
		want     screen
		wantMsgs []string // produced by the last key
	}{
		{"n opens the composer and loads prompt history", 80, []string{"n"}, screenComposer, []string{"ui.historyLoadedMsg"}},
		{"esc closes the composer", 80, []string{"n", "esc"}, screenMain, nil},
		{"a opens admin and reads the secrets", 80, []string{"a"}, screenAdmin, []string{"ui.secretsLoadedMsg", "ui.headerLoadedMsg"}},
		{"esc leaves admin", 80, []string{"a", "esc"}, screenMain, nil},
		{"l opens the activity log", 80, []string{"l"}, screenActivity, []string{"ui.activityLoadedMsg"}},
		{"esc leaves the activity log", 80, []string{"l", "esc"}, screenMain, nil},
		{"? opens the help", 80, []string{"?"}, screenHelp, nil},
		{"q closes the help instead of quitting", 80, []string{"?", "q"}, screenMain, nil},
		{"esc closes the help", 80, []string{"?", "esc"}, screenMain, nil},
		{"other letters leave the help open", 80, []string{"?", "x"}, screenHelp, nil},
		{"j scrolls the help instead of closing it", 80, []string{"?", "j"}, screenHelp, nil},
		{"enter on a narrow terminal shows the detail full screen", 80, []string{"enter"}, screenDetail, nil},
		{"esc returns from the full-screen detail", 80, []string{"enter", "esc"}, screenMain, nil},
		{"tab on a narrow terminal opens the detail too", 80, []string{"tab"}, screenDetail, nil},
		{"enter on a wide terminal keeps the split view", 160, []string{"enter"}, screenMain, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, true)
			m := r.model(t, tt.width, 30)
			m = press(t, m, tt.keys[:len(tt.keys)-1]...)
			m, msgs := do(t, m, keyMsg(tt.keys[len(tt.keys)-1]))
			if m.screen != tt.want {
				t.Fatalf("screen = %d, want %d", m.screen, tt.want)
			}
			for _, w := range tt.wantMsgs {
				if !hasMsg(msgs, w) {
					t.Errorf("last key produced %v; want %s", msgTypes(msgs), w)
				}
			}
		})
	}
}

func TestTabSwitchesFocusBetweenListAndDetailWhenWide(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 160, 40)
	m = press(t, m, "tab")
	if m.focus != focusDetail {
		t.Fatal("tab should focus the detail pane")
	}
	m = press(t, m, "tab")
	if m.focus != focusList {
		t.Fatal("a second tab should focus the list again")
	}
}

func TestQuitKeysEndTheProgram(t *testing.T) {
	for _, tc := range []struct {
		name string
		keys []string
	}{{"q on the list", []string{"q"}}, {"ctrl+c in the composer", []string{"n", "ctrl+c"}}, {"q in admin", []string{"a", "q"}}} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, true)
			m := r.model(t, 80, 24)
			m = press(t, m, tc.keys[:len(tc.keys)-1]...)
			_, msgs := do(t, m, keyMsg(tc.keys[len(tc.keys)-1]))
			if !hasMsg(msgs, "tea.QuitMsg") {
				t.Fatalf("got %v, want tea.QuitMsg", msgTypes(msgs))
			}
		})
	}
}

func TestActionsCallTheServiceForTheSelectedRequest(t *testing.T) {
	tests := []struct {
		name      string
		moves     []string // keys to reach the row
		keys      []string
		wantCall  string
		wantFinal app.Status
	}{
		{"r retries an initiation failure", []string{"j", "j", "j", "j"}, []string{"r"}, "retry " + testID(4), app.StatusQueued},
		{"x cancels a processing request at once", []string{"j"}, []string{"x"}, "cancel " + testID(7), app.StatusCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, true)
			m := r.model(t, 80, 24)
			m = press(t, m, tt.moves...)
			m = press(t, m, tt.keys[:len(tt.keys)-1]...)
			m, msgs := do(t, m, keyMsg(tt.keys[len(tt.keys)-1]))
			if !hasMsg(msgs, "ui.actionDoneMsg") {
				t.Fatalf("got %v, want ui.actionDoneMsg", msgTypes(msgs))
			}
			m = feedAll(t, m, msgs)
			if calls := r.svc.Calls(); !slices.Contains(calls, tt.wantCall) {
				t.Fatalf("service calls %v, want %q", calls, tt.wantCall)
			}
			sel, _ := m.list.selected()
			if sel.Status != tt.wantFinal {
				t.Fatalf("selected row is %s, want %s", sel.Status, tt.wantFinal)
			}
		})
	}
}

func TestCancelIsNotOfferedOnAFinishedRequest(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 160, 40)
	if strings.Contains(screenText(m), "x cancel") || strings.Contains(screenText(m), "r retry") {
		t.Fatalf("the footer offers cancel or retry on a completed request:\n%s", screenText(m))
	}
	m = press(t, m, "x") // the completed one is selected
	if m.confirm != nil || len(r.svc.Calls()) != 0 {
		t.Fatalf("confirm=%v calls=%v", m.confirm, r.svc.Calls())
	}
}

func TestRemixPrefillsEveryFieldAndReuseSeedLocksTheSeed(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 80, 24)
	m, msgs := do(t, m, keyMsg("R"))
	if !hasMsg(msgs, "ui.remixLoadedMsg") {
		t.Fatalf("R produced %v", msgTypes(msgs))
	}
	m = feedAll(t, m, msgs)
	if m.screen != screenComposer || !strings.HasPrefix(m.composer.prompt.Value(), "A red fox") || m.composer.seed.Value() != "" {
		t.Fatalf("remix: screen %d prompt %q seed %q", m.screen, m.composer.prompt.Value(), m.composer.seed.Value())
	}
	m = press(t, m, "esc", "s")
	if m.composer.seed.Value() != "1007" || m.composer.resolution.Value() != "1024x1024" {
		t.Fatalf("reuse seed: seed %q resolution %q", m.composer.seed.Value(), m.composer.resolution.Value())
	}
}

func TestOpenAndCopyActOnTheSelectedImage(t *testing.T) {
	r := newRig(t, true)
	var mu sync.Mutex
	var opened string
	r.b.OpenImage = func(_ context.Context, p string) error { mu.Lock(); opened = p; mu.Unlock(); return nil }
	m := r.model(t, 80, 24)
	m, msgs := do(t, m, keyMsg("o"))
	if !hasMsg(msgs, "ui.imageOpenedMsg") {
		t.Fatalf("o produced %v", msgTypes(msgs))
	}
	ims, err := r.db.Images(context.Background(), testID(8))
	if err != nil || len(ims) != 1 {
		t.Fatalf("images = %v, %v", ims, err)
	}
	mu.Lock()
	if opened != ims[0].Path {
		t.Fatalf("opened %q; want the selected image %q", opened, ims[0].Path)
	}
	mu.Unlock()
	_, msgs = do(t, m, keyMsg("y"))
	if !hasMsg(msgs, "tea.setClipboardMsg") {
		t.Fatalf("y produced %v, want an OSC 52 clipboard write", msgTypes(msgs))
	}
}

func TestOpenIsNotOfferedWithoutAnImage(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 160, 40)
	m = press(t, m, "j", "tab")
	if strings.Contains(screenText(m), "o open image") {
		t.Fatalf("the footer offers to open a missing image:\n%s", screenText(m))
	}
	_, msgs := do(t, m, keyMsg("o"))
	if hasMsg(msgs, "ui.imageOpenedMsg") {
		t.Fatal("o opened something without an image")
	}
}

// The dashboard shows local time; ? says which zone that is and its
// offset from UTC, with the time now in UTC, so a time can be read as UTC.
func TestHelpNamesTheLocalZoneAndItsUTCOffset(t *testing.T) {
	saved := time.Local
	time.Local = time.FixedZone("CET", 3600)
	t.Cleanup(func() { time.Local = saved })
	r := newRig(t, true)
	m := r.model(t, 120, 40)
	m = press(t, m, "?")
	if m.screen != screenHelp {
		t.Fatal("? should open the help")
	}
	var text string
	for range 20 { // the Times section is at the end: page down to it
		text += screenText(m)
		m = press(t, m, "f")
	}
	for _, want := range []string{"CET", "UTC+01:00", "14:00 UTC"} {
		if !strings.Contains(text, want) {
			t.Errorf("the help does not say %q:\n%s", want, text)
		}
	}
}
