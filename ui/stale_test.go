package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/app/apptest"
)

func TestARowThatLeavesTheFilteredStateLeavesTheList(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 100, 30)
	m = press(t, m, "3") // processing
	if len(m.list.rows) != 1 || m.list.rows[0].ID != testID(7) {
		t.Fatalf("rows %d", len(m.list.rows))
	}
	path, sha := writeTestPNG(t, t.TempDir())
	completeWithImage(t, r.db, testID(7), path, sha)
	m = step(t, m, busEventMsg{ev: app.Event{Kind: app.EventRequest, RequestID: testID(7)}})
	if len(m.list.rows) != 0 {
		t.Fatalf("a completed row lingers under the processing filter")
	}
}

func TestAStatusLineGoesAfterAWhile(t *testing.T) {
	r := newRig(t, true)
	clock := apptest.NewClock(testNow)
	r.b.Clock = clock
	m := r.model(t, 100, 30)
	m = press(t, m, "n")
	m = typeText(t, m, "a heron")
	m = press(t, m, "ctrl+s")
	if !strings.Contains(m.flash, "submitted 1 request") {
		t.Fatalf("flash %q", m.flash)
	}
	clock.Advance(time.Second)
	m = step(t, m, pollTickedMsg{})
	if m.flash == "" {
		t.Fatal("the status line went too soon")
	}
	clock.Advance(flashFor)
	m = step(t, m, pollTickedMsg{})
	if m.flash != "" {
		t.Fatalf("the status line stays: %q", m.flash)
	}
}

func TestAMessageTooLongForTheFooterOpensInABoxThatAKeyCloses(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 80, 24)
	long := "retry …4B000004: " + strings.Repeat("n8n answered with a very long explanation ", 3)
	m = step(t, m, actionDoneMsg{action: actionRetry, id: testID(4), err: app.Errorf(app.ECONFLICT, "%s", long)})
	if !m.flashBox || !strings.Contains(screenText(m), "any key closes this") || !strings.Contains(screenText(m), "explanation") {
		t.Fatalf("no message box:\n%s", screenText(m))
	}
	m = press(t, m, "n") // closes the box, opens nothing
	if m.flashBox || m.screen != screenMain {
		t.Fatalf("box %v screen %d", m.flashBox, m.screen)
	}
}
