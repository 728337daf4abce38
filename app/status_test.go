package app

import (
	"fmt"
	"testing"
)

// allowed is the state machine written out by hand, independently of the
// transitions table, so a change to either shows up here.
var allowed = map[[2]Status]bool{
	{StatusQueued, StatusSending}:             true,
	{StatusQueued, StatusCancelled}:           true,
	{StatusQueued, StatusCompleted}:           true, // result of a send we recovered from
	{StatusQueued, StatusFailed}:              true,
	{StatusSending, StatusQueued}:             true, // crash recovery
	{StatusSending, StatusProcessing}:         true,
	{StatusSending, StatusInitiationFailed}:   true,
	{StatusSending, StatusCompleted}:          true, // callback before the 202 was read
	{StatusSending, StatusFailed}:             true,
	{StatusSending, StatusCancelled}:          true,
	{StatusProcessing, StatusCompleted}:       true,
	{StatusProcessing, StatusFailed}:          true,
	{StatusProcessing, StatusTimedOut}:        true,
	{StatusProcessing, StatusCancelled}:       true,
	{StatusInitiationFailed, StatusQueued}:    true, // retry re-sends the same id
	{StatusInitiationFailed, StatusCancelled}: true,
	{StatusInitiationFailed, StatusCompleted}: true, // n8n ran it although the POST failed
	{StatusInitiationFailed, StatusFailed}:    true,
	{StatusTimedOut, StatusCompleted}:         true, // late callback
	{StatusTimedOut, StatusFailed}:            true,
	{StatusTimedOut, StatusCancelled}:         true,
}

func TestEveryTransitionPairIsDecided(t *testing.T) {
	for _, from := range Statuses {
		for _, to := range Statuses {
			t.Run(fmt.Sprintf("%s to %s", from, to), func(t *testing.T) {
				err := Transition(from, to)
				if allowed[[2]Status{from, to}] {
					if err != nil {
						t.Fatalf("expected the move to be allowed, got %v", err)
					}
					return
				}
				if err == nil {
					t.Fatal("expected the move to be refused")
				}
				if ErrorCode(err) != ECONFLICT || ErrorReason(err) != "invalid_transition" {
					t.Fatalf("refusal should be a conflict with reason invalid_transition, got %s/%s", ErrorCode(err), ErrorReason(err))
				}
			})
		}
	}
}

func TestALateAckNeverReopensAFinishedRequest(t *testing.T) {
	for _, final := range []Status{StatusCompleted, StatusFailed, StatusCancelled} {
		if CanTransition(final, StatusProcessing) {
			t.Errorf("%s → processing must be refused", final)
		}
		if !final.Final() {
			t.Errorf("%s should be final", final)
		}
	}
	if StatusTimedOut.Final() {
		t.Error("timed_out is lost, not done: a late callback may still complete it")
	}
}

func TestSourcesOfListsExactlyTheAllowedOrigins(t *testing.T) {
	for _, to := range Statuses {
		got := map[Status]bool{}
		for _, s := range SourcesOf(to) {
			got[s] = true
		}
		for _, from := range Statuses {
			if got[from] != allowed[[2]Status{from, to}] {
				t.Errorf("SourcesOf(%s) contains %s = %v, want %v", to, from, got[from], allowed[[2]Status{from, to}])
			}
		}
	}
}

func TestUnknownStatesAreInvalidNotConflicts(t *testing.T) {
	if err := Transition("bogus", StatusQueued); ErrorCode(err) != EINVALID {
		t.Fatalf("unknown source: got %v", err)
	}
	if err := Transition(StatusQueued, "bogus"); ErrorCode(err) != EINVALID {
		t.Fatalf("unknown target: got %v", err)
	}
	if _, err := ParseStatus("done"); err == nil || ErrorCode(err) != EINVALID {
		t.Fatalf("ParseStatus(done) = %v", err)
	}
	if s, err := ParseStatus("timed_out"); err != nil || s != StatusTimedOut {
		t.Fatalf("ParseStatus(timed_out) = %v, %v", s, err)
	}
}
