package main

import (
	"io"
	"log/slog"
	"testing"

	"github.com/influencegen/influencegen/app"
)

// Issue 10 §16: the dashboard header and serve read the exposure warning
// from the listener status.
func TestListenerStatusFlagsANonLoopbackBind(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if got := newReachability(app.DefaultConfig(), "0.0.0.0:8787", app.NewBus(), log).Status().Exposed; got == "" {
		t.Error("a bind on every interface is not flagged")
	}
	if got := newReachability(app.DefaultConfig(), "127.0.0.1:8787", app.NewBus(), log).Status().Exposed; got != "" {
		t.Errorf("a loopback bind is flagged: %q", got)
	}
}
