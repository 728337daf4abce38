package app

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Service is what a person can do with requests: submit, retry, cancel,
// remix, reuse a seed and delete. The TUI and the CLI call it; the sender
// and sweeper workers (sender.go, sweeper.go) move requests on by themselves.
//
// Every change goes through the store's compare-and-set transitions, appends
// an activity row in the same transaction, and publishes an event.
type Service struct {
	Config   Config
	Store    Store
	Workflow Workflow
	Bus      *Bus // may be nil (CLI without a dashboard)
	Clock    Clock
	Log      *slog.Logger
	User     string // requested_by
	// Seeds draws a random seed (default crypto/rand).
	Seeds func() uint32
	// CallbackURL is the full URL n8n posts results to; it is read at send
	// time because a tunnel may change it while the program runs.
	CallbackURL func() string

	wakeOnce sync.Once
	wake     chan struct{}
	bellOnce sync.Once
	bell     chan struct{}
}

// sweepBell re-arms a sleeping sweeper: a request entered processing, so
// the earliest deadline may have changed. Buffered by one, like wakeups.
func (s *Service) sweepBell() chan struct{} {
	s.bellOnce.Do(func() { s.bell = make(chan struct{}, 1) })
	return s.bell
}

func (s *Service) rearmSweeper() {
	select {
	case s.sweepBell() <- struct{}{}:
	default:
	}
}

// wakeups is the sender's doorbell: buffered by one, so a ring while the
// sender is busy is remembered and never blocks the caller.
func (s *Service) wakeups() chan struct{} {
	s.wakeOnce.Do(func() { s.wake = make(chan struct{}, 1) })
	return s.wake
}

// Wake tells a running sender that queued requests wait. It never blocks.
func (s *Service) Wake() {
	select {
	case s.wakeups() <- struct{}{}:
	default:
	}
}

func (s *Service) clock() Clock {
	if s.Clock == nil {
		return SystemClock{}
	}
	return s.Clock
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

func (s *Service) seeds() func() uint32 {
	if s.Seeds != nil {
		return s.Seeds
	}
	return func() uint32 {
		var b [4]byte
		_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
		return binary.BigEndian.Uint32(b[:])
	}
}

func (s *Service) publish(requestID string) {
	s.Bus.Publish(Event{Kind: EventRequest, RequestID: requestID})
	s.Bus.Publish(Event{Kind: EventActivity, RequestID: requestID})
}

// Submit validates in and stores one queued request per image (in.Count) in
// one transaction, then wakes the sender. The requests are returned with
// their ids, in creation (= id) order.
func (s *Service) Submit(ctx context.Context, in ParamsInput) ([]Request, error) {
	params, err := Validate(in, s.Config.Defaults(), s.seeds())
	if err != nil {
		return nil, err
	}
	return s.submitParams(ctx, params, 0)
}

// submitParams stores one queued request per params, as one batch when
// there are several, and wakes the sender.
func (s *Service) submitParams(ctx context.Context, params []GenerationParams, variationOf int64) ([]Request, error) {
	now := s.clock().Now().UTC()
	batchID := ""
	if len(params) > 1 {
		batchID = NewID(now)
	}
	reqs := make([]Request, len(params))
	for i, p := range params {
		reqs[i] = Request{ID: NewID(now), Params: p, Status: StatusQueued, RequestedBy: s.requester(ctx),
			CreatedAt: now, UpdatedAt: now, SyncState: SyncPending, BatchID: batchID, VariationOf: variationOf}
	}
	if err := s.Store.CreateRequests(ctx, reqs); err != nil {
		return nil, err
	}
	for _, r := range reqs {
		s.publish(r.ID)
	}
	s.log().Info("requests submitted", "count", len(reqs), "first", reqs[0].ID, "model", reqs[0].Params.Model)
	s.Wake()
	return reqs, nil
}

// Retry starts a request again. An initiation_failed request is re-queued
// with the same id (n8n never started it, and the Idempotency-Key lets a
// careful workflow drop a duplicate). A failed or timed_out request ran in
// n8n, so a new request with the same parameters is made, pointing back
// with RetryOf. It returns the request that will be sent.
func (s *Service) Retry(ctx context.Context, id string) (Request, error) {
	req, err := s.Store.GetRequest(ctx, id)
	if err != nil {
		return Request{}, err
	}
	if err := MayActOn(ctx, req, "retry"); err != nil {
		return Request{}, err
	}
	switch req.Status {
	case StatusInitiationFailed:
		out, err := s.Store.Transition(ctx, Change{ID: id, To: StatusQueued, From: []Status{StatusInitiationFailed},
			Activity: s.activity(id, ActivityRetried, LevelInfo, "retry by "+s.userName(ctx)+": re-sending with the same id")})
		if err != nil {
			return Request{}, s.conflict(ctx, err, id, "retry")
		}
		s.publish(id)
		s.Wake()
		return out, nil
	case StatusFailed, StatusTimedOut:
		now := s.clock().Now().UTC()
		retry := Request{ID: NewID(now), Params: req.Params, Status: StatusQueued, RequestedBy: s.requester(ctx),
			CreatedAt: now, UpdatedAt: now, RetryOf: req.ID, SyncState: SyncPending}
		if err := s.Store.CreateRequests(ctx, []Request{retry}); err != nil {
			return Request{}, err
		}
		if err := s.Store.AppendActivity(ctx, *s.activity(id, ActivityRetried, LevelInfo, "retried as "+retry.ID),
			*s.activity(retry.ID, ActivityRetried, LevelInfo, "retry of "+id+" ("+string(req.Status)+")")); err != nil {
			s.log().Warn("retry activity not recorded", "request_id", id, "error", err)
		}
		s.publish(id)
		s.publish(retry.ID)
		s.Wake()
		return retry, nil
	default:
		return Request{}, Errorf(ECONFLICT, "request %s is %s: only initiation_failed, failed or timed_out requests can be retried%s",
			id, req.Status, remixHint(req.Status))
	}
}

func remixHint(st Status) string {
	if st == StatusCompleted || st == StatusCancelled {
		return "; remix it to generate again"
	}
	return ""
}

// Cancel stops waiting for a request. A result that still arrives is kept
// and logged, but the state stays cancelled (DESIGN §3).
func (s *Service) Cancel(ctx context.Context, id string) (Request, error) {
	if err := s.mayActOn(ctx, id, "cancel"); err != nil {
		return Request{}, err
	}
	out, err := s.Store.Transition(ctx, Change{ID: id, To: StatusCancelled,
		Activity: s.activity(id, ActivityCancelled, LevelInfo, "cancelled by "+s.userName(ctx))})
	if err != nil {
		return Request{}, s.conflict(ctx, err, id, "cancel")
	}
	s.publish(id)
	return out, nil
}

// Remix returns a request's parameters for the composer, with a fresh
// random seed and a count of one.
func (s *Service) Remix(ctx context.Context, id string) (ParamsInput, error) {
	req, err := s.Store.GetRequest(ctx, id)
	if err != nil {
		return ParamsInput{}, err
	}
	return remixOf(req.Params), nil
}

func remixOf(p GenerationParams) ParamsInput {
	return ParamsInput{Prompt: p.Prompt, NegativePrompt: p.NegativePrompt, Model: p.Model,
		Resolution: p.Resolution(), AspectRatio: p.AspectRatio, Count: 1}
}

// ReuseSeed is Remix with the seed locked, to vary the prompt of a picture
// one liked while keeping its composition.
func (s *Service) ReuseSeed(ctx context.Context, id string) (ParamsInput, error) {
	req, err := s.Store.GetRequest(ctx, id)
	if err != nil {
		return ParamsInput{}, err
	}
	in := remixOf(req.Params)
	seed := req.Params.Seed
	in.Seed = &seed
	return in, nil
}

// Delete removes a request locally (never in Odoo). The request is hidden
// at once and UndoDelete brings it back within UndoWindow; afterwards the
// collector removes the row (store.PurgeDeleted) and, after its own grace,
// the image files no row references any more (another request's ingest
// may be storing identical bytes, so files are never unlinked here). A
// request being sent is refused by the store inside its UPDATE: its POST
// is in flight and the ack would find nothing.
func (s *Service) Delete(ctx context.Context, id string) error {
	req, err := s.Store.GetRequest(ctx, id)
	if err != nil {
		return err
	}
	// Who may act on a request never changes (requested_by is fixed at
	// submit), so this check outside the delete's transaction is safe; the
	// "not sending" check is inside its statement.
	if err := MayActOn(ctx, req, "delete"); err != nil {
		return err
	}
	if err := s.Store.SoftDeleteRequest(ctx, id); err != nil {
		return err
	}
	s.log().Info("request deleted (undoable for a while)", "request_id", id, "undo_window", UndoWindow)
	s.publish(id)
	return nil
}

// UndoWindow is how long a delete or a cancel can be undone (issue 14 §6).
const UndoWindow = 10 * time.Second

// UndoDelete brings back a request deleted less than UndoWindow ago, with
// anything that arrived for it meanwhile (a callback for a deleted request
// is recorded as usual).
func (s *Service) UndoDelete(ctx context.Context, id string) (Request, error) {
	if err := s.mayActOn(ctx, id, "undo the delete of"); err != nil {
		return Request{}, err
	}
	out, err := s.Store.RestoreRequest(ctx, id, s.clock().Now().Add(-UndoWindow),
		*s.activity(id, ActivityRestored, LevelInfo, "delete undone by "+s.userName(ctx)))
	if err != nil {
		return Request{}, err
	}
	s.publish(id)
	if out.Status == StatusQueued {
		s.Wake() // the sender skipped it while it was deleted
	}
	return out, nil
}

// UndoCancel returns a request cancelled less than UndoWindow ago to the
// state it was cancelled from. The cancel itself took effect at once
// (a result arriving after it is kept as a late result); the undo is
// refused when such a result has arrived, so it can never hide one, and
// when the request was cancelled while sending (n8n may or may not have
// its POST). A request put back in queued is sent again.
func (s *Service) UndoCancel(ctx context.Context, id string) (Request, error) {
	if err := s.mayActOn(ctx, id, "undo the cancel of"); err != nil {
		return Request{}, err
	}
	out, err := s.Store.UndoCancel(ctx, id, s.clock().Now().Add(-UndoWindow),
		*s.activity(id, ActivityUncancelled, LevelInfo, "cancel undone by "+s.userName(ctx)))
	if err != nil {
		return Request{}, err
	}
	s.publish(id)
	switch out.Status {
	case StatusQueued:
		s.Wake()
	case StatusProcessing:
		s.rearmSweeper()
	}
	return out, nil
}

func (s *Service) activity(id, kind, level, msg string) *Activity {
	return &Activity{RequestID: id, Kind: kind, Level: level, Message: msg, CreatedAt: s.clock().Now().UTC()}
}

// requester is requested_by for a new request: the team member acting in
// ctx on a shared host, else the service's local user.
func (s *Service) requester(ctx context.Context) string {
	if a, ok := ActorFrom(ctx); ok {
		return a.Name
	}
	return s.User
}

func (s *Service) userName(ctx context.Context) string {
	if name := s.requester(ctx); name != "" {
		return name
	}
	return "the user"
}

// mayActOn loads the request only when a staff member acts: the local
// user and admins may act on anything without the extra read.
func (s *Service) mayActOn(ctx context.Context, id, action string) error {
	if a, ok := ActorFrom(ctx); !ok || a.Role == RoleAdmin {
		return nil
	}
	req, err := s.Store.GetRequest(ctx, id)
	if err != nil {
		return err
	}
	return MayActOn(ctx, req, action)
}

// conflict rewrites the store's generic invalid_transition into a message
// naming the action and the state that prevented it.
func (s *Service) conflict(ctx context.Context, err error, id, action string) error {
	if ErrorCode(err) != ECONFLICT {
		return err
	}
	req, gerr := s.Store.GetRequest(ctx, id)
	if gerr != nil {
		return err
	}
	return &Error{Code: ECONFLICT, Reason: "invalid_transition", Err: err,
		Message: fmt.Sprintf("cannot %s request %s: it is %s%s", action, id, req.Status, remixHint(req.Status))}
}
