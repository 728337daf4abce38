package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/influencegen/influencegen/app"
)

func init() { GenerateWaitHook = generateWait }

// waitPoll is how often --wait looks at the store. A listener in another
// process (serve) writes there, so the store is what both can see.
const waitPoll = 250 * time.Millisecond

// generateWait makes sure something receives this profile's callbacks: a
// running listener (serve or the dashboard) answers GET /healthz on
// callback.listen; if none does, one runs in this process until stop.
func generateWait(ctx context.Context, env *Env, svc *app.Service) (
	func(ctx context.Context, ids []string) ([]app.Request, error), func(), error) {
	cfg, _, err := env.Config()
	if err != nil {
		return nil, nil, err
	}
	stop := func() {}
	if !listenerRunning(ctx, cfg.Callback.Listen) {
		if env.Wiring.StartRuntime == nil {
			return nil, nil, app.Errorf(app.EINTERNAL, "this build has no callback listener wired (cli.Wiring.StartRuntime is nil)")
		}
		rt, err := env.Wiring.StartRuntime(ctx, env, svc, RuntimeOptions{})
		if err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(env.Stderr, "no listener was running: receiving callbacks at %s until the results are in\n", rt.CallbackURL())
		stop = func() {
			if err := rt.Close(); err != nil {
				fmt.Fprintln(env.Stderr, "influencegen: stopping the listener:", err)
			}
		}
	}
	wait := func(ctx context.Context, ids []string) ([]app.Request, error) {
		return waitForFinal(ctx, env.Stderr, svc.Store, ids, cfg.Generation.RequestTimeout.D())
	}
	return wait, stop, nil
}

// listenerRunning probes GET /healthz on addr with a short timeout.
func listenerRunning(ctx context.Context, addr string) bool {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "0" {
		return false
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	// Unauthenticated, /healthz says only "ok"; an identity probe (any
	// nonce) is answered only by an influencegen listener.
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz?probe="+hex.EncodeToString(nonce[:]), nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var health struct {
		Status string `json:"status"`
		Probe  string `json:"probe"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&health) != nil {
		return false
	}
	return health.Status == "ok" && health.Probe != ""
}

// waitDone reports whether a request will not change without someone
// acting: completed, failed, cancelled, initiation_failed, or timed_out
// (lost; a late result may still complete it, but nobody should wait).
func waitDone(s app.Status) bool {
	return s.Final() || s == app.StatusInitiationFailed || s == app.StatusTimedOut
}

// waitForFinal polls the store until every request is done, printing a
// progress line on w whenever the picture changes. It gives up with the
// states as they are at the deadline the sweeper times them out at
// (processing since + generation.request_timeout, see waitDeadline).
func waitForFinal(ctx context.Context, w io.Writer, st app.Store, ids []string, limit time.Duration) ([]app.Request, error) {
	if limit <= 0 {
		limit = 30 * time.Minute
	}
	started := time.Now()
	last := ""
	var lastVersion int64 = -1
	var reqs []app.Request
	ticker := time.NewTicker(waitPoll)
	defer ticker.Stop()
	for {
		// Re-read only when some connection committed since the last look.
		v, err := st.DataVersion(ctx)
		if err != nil || v != lastVersion || reqs == nil {
			lastVersion = v
			reqs = reqs[:0]
			for _, id := range ids {
				r, err := st.GetRequest(ctx, id)
				if err != nil {
					return nil, err
				}
				reqs = append(reqs, r)
			}
		}
		done, line := waitProgress(reqs)
		if line != last {
			fmt.Fprintln(w, line)
			last = line
		}
		if done == len(reqs) {
			return reqs, nil
		}
		if !time.Now().Before(waitDeadline(reqs, started, limit)) {
			return reqs, app.ReasonErrorf(app.EUNAVAILABLE, "wait_timeout",
				"%d of %d requests still unfinished after %s (generation.request_timeout): check `influencegen status` later", len(reqs)-done, len(reqs), limit)
		}
		select {
		case <-ctx.Done():
			return reqs, ctx.Err()
		case <-ticker.C:
		}
	}
}

// waitDeadline is when --wait gives up: the latest deadline of the
// unfinished requests. A request in processing has the sweeper's deadline
// (app.Deadline); one not accepted yet gets limit from the start of the
// wait.
func waitDeadline(reqs []app.Request, started time.Time, limit time.Duration) time.Time {
	var latest time.Time
	for _, r := range reqs {
		if waitDone(r.Status) {
			continue
		}
		d := started.Add(limit)
		if r.Status == app.StatusProcessing {
			d = app.Deadline(r, limit)
		}
		if d.After(latest) {
			latest = d
		}
	}
	return latest
}

func waitProgress(reqs []app.Request) (int, string) {
	counts := map[app.Status]int{}
	done := 0
	for _, r := range reqs {
		counts[r.Status]++
		if waitDone(r.Status) {
			done++
		}
	}
	var parts []string
	for _, s := range app.Statuses {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, counts[s]))
		}
	}
	return done, fmt.Sprintf("waiting: %d/%d done (%s)", done, len(reqs), strings.Join(parts, ", "))
}
