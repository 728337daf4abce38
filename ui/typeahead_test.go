package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app/apptest"
)

// TestKeysTypedDuringAndRightAfterASubmitAreHeld replays the issue's
// finding at the Update level: while the submit is in flight every key is
// held, and the burst that follows it is dropped until a pause in typing.
func TestKeysTypedDuringAndRightAfterASubmitAreHeld(t *testing.T) {
	r := newRig(t, true)
	clock := apptest.NewClock(testNow)
	r.b.Clock = clock
	m := r.model(t, 100, 30)
	m = press(t, m, "n")
	m = typeText(t, m, "a fox")

	// ctrl+s without settling: the submit is in flight
	m, msgs := do(t, m, keyMsg("ctrl+s"))
	if !m.composer.submitting || !strings.Contains(screenText(m), "submitting…") {
		t.Fatalf("the composer should say it is submitting:\n%s", screenText(m))
	}
	for _, k := range []string{"z", "?", "a", "esc"} {
		clock.Advance(20 * time.Millisecond)
		m = press(t, m, k)
		if m.screen != screenComposer || m.composer.prompt.Value() != "a fox" {
			t.Fatalf("%q during the submit reached screen %d (prompt %q)", k, m.screen, m.composer.prompt.Value())
		}
	}
	m = feedAll(t, m, msgs) // the submit completes: the list shows
	if m.screen != screenMain {
		t.Fatalf("after the submit the list should show, screen %d", m.screen)
	}
	for _, k := range []string{"z", "?", "a", "e", "t"} {
		clock.Advance(20 * time.Millisecond)
		m = press(t, m, k)
		if m.screen != screenMain || m.confirm != nil {
			t.Fatalf("%q typed right after the submit opened screen %d", k, m.screen)
		}
	}
	if !strings.Contains(m.flash, "ignored") {
		t.Fatalf("the footer should say keys were ignored, flash %q", m.flash)
	}
	clock.Advance(time.Second) // a pause: the next key is a decision
	m = press(t, m, "?")
	if m.screen != screenHelp {
		t.Fatalf("after a pause ? should open the help, screen %d", m.screen)
	}
}

func TestANamedKeyEndsTheHoldAtOnce(t *testing.T) {
	r := newRig(t, true)
	clock := apptest.NewClock(testNow)
	r.b.Clock = clock
	m := r.model(t, 100, 30)
	m = press(t, m, "n")
	m = typeText(t, m, "a fox")
	m = press(t, m, "ctrl+s", "down", "?")
	if m.screen != screenHelp {
		t.Fatalf("after an arrow key ? should act, screen %d", m.screen)
	}
}

func TestADraftIsKeptByEscBroughtBackByNAndCtrlCAsksFirst(t *testing.T) {
	r := newRig(t, true)
	m := r.model(t, 100, 30)
	m = press(t, m, "n")
	m = typeText(t, m, "half a thought")
	m = press(t, m, "esc", "n")
	if m.composer.prompt.Value() != "half a thought" {
		t.Fatalf("n should bring the draft back, got %q", m.composer.prompt.Value())
	}
	m, msgs := do(t, m, keyMsg("ctrl+c"))
	if hasMsg(msgs, "tea.QuitMsg") || !strings.Contains(m.flash, "ctrl+c again") {
		t.Fatalf("ctrl+c with a draft should ask; msgs %v flash %q", msgTypes(msgs), m.flash)
	}
	_, msgs = do(t, m, keyMsg("ctrl+c"))
	if !hasMsg(msgs, "tea.QuitMsg") {
		t.Fatalf("a second ctrl+c should quit, got %v", msgTypes(msgs))
	}
}
