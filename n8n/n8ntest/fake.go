// Package n8ntest is a fake n8n webhook for tests: an httptest server that
// answers like real n8n 2.8.4 (see /work/shared/peers/n8n), records every
// request it receives, and can be told to misbehave (500, 429, slow answers,
// a closed connection, an inactive workflow) or to call back before its 202,
// as real n8n often does. It is test-only code and must never be wired into
// the program. Admin (admin.go) fakes n8n's public API the same way, from
// the recordings in shared/peers/n8n-api.
package n8ntest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// DefaultPath is the production webhook path of the influence-gen workflow.
const DefaultPath = "/webhook/influence-gen/generate"

// Fault is a way the fake misbehaves.
type Fault int

const (
	Accept          Fault = iota // 202 {"status":"accepted"}
	ServerError                  // 500 like a crashed workflow
	RateLimited                  // 429 with Retry-After (RetryAfter)
	Slow                         // waits SlowFor (or until the client gives up), then accepts
	CloseConnection              // drops the connection without answering
	NotRegistered                // 404: the workflow is inactive
	TooLarge                     // 413
	Unprocessable                // 422 like n8n's answer to a body it cannot parse
)

// Received is one request as the fake saw it.
type Received struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
	At     time.Time
}

// JSON decodes the body into a generic map (nil if it is not JSON).
func (r Received) JSON() map[string]any {
	var m map[string]any
	if json.Unmarshal(r.Body, &m) != nil {
		return nil
	}
	return m
}

// Options configure a Server.
type Options struct {
	Path         string // webhook path, default DefaultPath
	APIKeyHeader string // default X-API-Key
	APIKey       string // the key the Header Auth credential expects; default "test-api-key"
}

// Server is the fake n8n.
type Server struct {
	*httptest.Server
	// WebhookURL is the full URL to put in n8n.webhook_url.
	WebhookURL string
	opts       Options

	mu         sync.Mutex
	received   []Received
	fault      Fault
	faultNext  []Fault // consumed one per request before fault applies
	slowFor    time.Duration
	retryAfter string
	ackBody    []byte
	beforeAck  func(Received)
}

// New starts a fake n8n on loopback; it is closed when the test ends.
func New(t interface{ Cleanup(func()) }, opts Options) *Server {
	if opts.Path == "" {
		opts.Path = DefaultPath
	}
	if opts.APIKeyHeader == "" {
		opts.APIKeyHeader = "X-API-Key"
	}
	if opts.APIKey == "" {
		opts.APIKey = "test-api-key"
	}
	s := &Server{opts: opts, slowFor: 30 * time.Second, retryAfter: "1", ackBody: []byte(`{"status":"accepted"}`)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	s.WebhookURL = s.Server.URL + opts.Path
	t.Cleanup(s.Close)
	return s
}

// SetFault makes every following request fail in the given way.
func (s *Server) SetFault(f Fault) { s.mu.Lock(); s.fault = f; s.mu.Unlock() }

// FailNext makes the next len(faults) requests fail in the given ways, in
// order; later requests follow SetFault.
func (s *Server) FailNext(faults ...Fault) {
	s.mu.Lock()
	s.faultNext = append(s.faultNext, faults...)
	s.mu.Unlock()
}

// SetSlow sets how long the Slow fault waits before answering.
func (s *Server) SetSlow(d time.Duration) { s.mu.Lock(); s.slowFor = d; s.mu.Unlock() }

// SetRetryAfter sets the Retry-After header of RateLimited and ServerError
// answers ("" omits it).
func (s *Server) SetRetryAfter(v string) { s.mu.Lock(); s.retryAfter = v; s.mu.Unlock() }

// SetAckBody replaces the 202 body, e.g. with {"execution_id":"42"}.
func (s *Server) SetAckBody(b []byte) { s.mu.Lock(); s.ackBody = b; s.mu.Unlock() }

// BeforeAck runs hook after an accepted request was authenticated and
// parsed, and before the 202 is written: real n8n starts the workflow
// first, and its callback often arrives before the client reads the ack.
func (s *Server) BeforeAck(hook func(Received)) { s.mu.Lock(); s.beforeAck = hook; s.mu.Unlock() }

// CallbackFirst makes the fake POST a callback to the request's
// callback_url, with header x-callback-token: token and the body body(id)
// returns, and wait for its answer before writing the 202. The callback
// answer is handed to onResult (may be nil).
func (s *Server) CallbackFirst(token string, body func(requestID string) []byte, onResult func(status int, err error)) {
	s.BeforeAck(func(r Received) {
		m := r.JSON()
		id, _ := m["ai_generation_request_id"].(string)
		cb, _ := m["callback_url"].(string)
		status, err := postCallback(cb, token, body(id))
		if onResult != nil {
			onResult(status, err)
		}
	})
}

// postCallback sends a callback like n8n's HTTP Request node: axios user
// agent, lower-case token header, Connection: close, 10 s timeout.
func postCallback(callbackURL, token string, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, callbackURL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header["x-callback-token"] = []string{token}
	req.Header.Set("User-Agent", "axios/1.12.0")
	req.Close = true
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// Requests returns a copy of every request received so far.
func (s *Server) Requests() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// Count is the number of requests received so far.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.received)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	rec := Received{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body, At: time.Now()}
	s.mu.Lock()
	s.received = append(s.received, rec)
	fault := s.fault
	if len(s.faultNext) > 0 {
		fault, s.faultNext = s.faultNext[0], s.faultNext[1:]
	}
	slowFor, retryAfter, ackBody, hook := s.slowFor, s.retryAfter, s.ackBody, s.beforeAck
	s.mu.Unlock()

	webhookName := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/webhook-test/"), "/webhook/")
	if r.URL.Path != s.opts.Path || fault == NotRegistered {
		notRegistered(w, "POST", webhookName, strings.HasPrefix(r.URL.Path, "/webhook-test/"))
		return
	}
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusNotFound, map[string]any{"code": 404,
			"message": fmt.Sprintf("This webhook is not registered for %s requests. Did you mean to make a POST request?", r.Method)})
		return
	}
	if r.Header.Get(s.opts.APIKeyHeader) != s.opts.APIKey {
		// Real n8n: text body, no Content-Type (nil stops Go sniffing one),
		// and a Basic challenge even though the credential is Header Auth.
		w.Header()["Content-Type"] = nil
		w.Header().Set("WWW-Authenticate", `Basic realm="Webhook"`)
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, "Authorization data is wrong!")
		return
	}
	if !json.Valid(body) || fault == Unprocessable {
		var v any
		hint := "Unexpected end of JSON input"
		if err := json.Unmarshal(body, &v); err != nil {
			hint = err.Error()
		}
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"code": 422, "message": "Failed to parse request body", "hint": hint})
		return
	}
	switch fault {
	case ServerError:
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		writeJSON(w, http.StatusInternalServerError, map[string]any{"code": 0, "message": "Error in workflow"})
		return
	case RateLimited:
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"code": 429, "message": "Too many requests"})
		return
	case TooLarge:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		_, _ = io.WriteString(w, "request entity too large")
		return
	case CloseConnection:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	case Slow:
		t := time.NewTimer(slowFor)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if hook != nil {
		hook(rec)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write(ackBody)
}

// notRegistered is n8n's 404 for an unknown or inactive webhook.
func notRegistered(w http.ResponseWriter, method, name string, test bool) {
	hint := "The workflow must be active for a production URL to run successfully. You can activate the workflow using the toggle in the top-right of the editor. Note that unlike test URL calls, production URL calls aren't shown on the canvas (only in the executions list)"
	if test {
		hint = "Click the 'Execute workflow' button on the canvas, then try again. (In test mode, the webhook only works for one call after you click this button)"
	}
	writeJSON(w, http.StatusNotFound, map[string]any{"code": 404,
		"message": fmt.Sprintf("The requested webhook %q is not registered.", method+" "+name), "hint": hint})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
