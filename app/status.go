package app

import "slices"

// Status is a request's state (DESIGN §3).
type Status string

const (
	StatusQueued           Status = "queued"            // stored, not sent
	StatusSending          Status = "sending"           // webhook POST in flight
	StatusProcessing       Status = "processing"        // n8n answered 2xx
	StatusCompleted        Status = "completed"         // success callback, >= 1 image stored
	StatusFailed           Status = "failed"            // failure callback, or image unobtainable
	StatusInitiationFailed Status = "initiation_failed" // webhook rejected or unreachable
	StatusTimedOut         Status = "timed_out"         // no callback within request_timeout: lost, not done
	StatusCancelled        Status = "cancelled"         // by the user; a late result is kept, the state stays
)

// Statuses lists every state in lifecycle order (used for tabs and counts).
var Statuses = []Status{
	StatusQueued, StatusSending, StatusProcessing, StatusCompleted,
	StatusFailed, StatusInitiationFailed, StatusTimedOut, StatusCancelled,
}

// transitions is the whole state machine: every allowed move, and nothing
// else. Two moves look backwards on purpose:
//   - sending → queued is crash recovery: a process died with the POST in
//     flight, so the request is re-sent once with the same id;
//   - initiation_failed → queued is the user's retry, re-sending the same id.
//
// A callback can arrive before the webhook's own HTTP response is read, so
// sending may move straight to completed or failed; the late ack then finds
// a final state and its processing move is refused. A result is never
// thrown away because our view of the send was wrong: queued (recovered
// after a crash, the first POST's execution still running) and
// initiation_failed (the POST timed out although n8n started the workflow)
// may also move straight to completed or failed. The sender claims only
// queued rows, so a request whose result is in is not sent again.
var transitions = map[Status][]Status{
	StatusQueued:           {StatusSending, StatusCompleted, StatusFailed, StatusCancelled},
	StatusSending:          {StatusQueued, StatusProcessing, StatusInitiationFailed, StatusCompleted, StatusFailed, StatusCancelled},
	StatusProcessing:       {StatusCompleted, StatusFailed, StatusTimedOut, StatusCancelled},
	StatusInitiationFailed: {StatusQueued, StatusCompleted, StatusFailed, StatusCancelled},
	StatusTimedOut:         {StatusCompleted, StatusFailed, StatusCancelled},
	StatusCompleted:        nil,
	StatusFailed:           nil,
	StatusCancelled:        nil,
}

// Valid reports whether s is a known state.
func (s Status) Valid() bool {
	_, ok := transitions[s]
	return ok
}

// Final reports whether no further move is possible from s. timed_out is not
// final: a late callback may still complete it.
func (s Status) Final() bool {
	return s == StatusCompleted || s == StatusFailed || s == StatusCancelled
}

// Active reports whether the request is waiting on n8n.
func (s Status) Active() bool {
	return s == StatusQueued || s == StatusSending || s == StatusProcessing
}

// CanTransition reports whether from → to is an allowed move.
func CanTransition(from, to Status) bool {
	return slices.Contains(transitions[from], to)
}

// Transition decides a move: nil when allowed, a conflict error otherwise.
func Transition(from, to Status) error {
	if !from.Valid() {
		return Errorf(EINVALID, "unknown state %q", from)
	}
	if !to.Valid() {
		return Errorf(EINVALID, "unknown state %q", to)
	}
	if !CanTransition(from, to) {
		return ReasonErrorf(ECONFLICT, "invalid_transition", "cannot move a %s request to %s", from, to)
	}
	return nil
}

// SourcesOf returns the states from which to may be reached. The store uses it
// for compare-and-set updates: UPDATE … WHERE id=? AND status IN (sources).
func SourcesOf(to Status) []Status {
	var from []Status
	for _, s := range Statuses {
		if CanTransition(s, to) {
			from = append(from, s)
		}
	}
	return from
}

// ParseStatus accepts a state name, returning an invalid error naming the
// allowed values otherwise.
func ParseStatus(s string) (Status, error) {
	st := Status(s)
	if !st.Valid() {
		return "", Errorf(EINVALID, "unknown state %q: use one of queued, sending, processing, completed, failed, initiation_failed, timed_out, cancelled", s)
	}
	return st, nil
}
