package n8n

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/influencegen/influencegen/app"
)

// The simulated n8n answers exactly what n8n 2.8.4 answered in
// /work/shared/peers/n8n, so the demo exercises the real client, the real
// listener, its auth and the real ingest path.
const (
	SimWebhookPath = "/webhook/influence-gen/generate"
	simImagePath   = "/webhook/influence-gen/image.png"
	simUserAgent   = "axios/1.12.0"
	simAccept      = "application/json,text/html,application/xhtml+xml,application/xml,text/*;q=0.9, image/*;q=0.8, */*;q=0.7"
	simMaxBody     = 1 << 20
)

// SimulatorOptions configure a Simulator. Secrets come from funcs so that a
// rotation (or a key typed in the admin screen) takes effect at once.
type SimulatorOptions struct {
	// APIKey returns the key the webhook's Header Auth credential expects.
	APIKey       func() string
	APIKeyHeader string // default X-API-Key
	// CallbackToken returns the value sent in x-callback-token ("" = none).
	CallbackToken func() string
	// WebhookSecret returns a whsec_ secret; when non-empty the callback is
	// also signed the Standard Webhooks way (callback.auth = signature).
	WebhookSecret func() string
	// Delay is how long a "generation" takes; default uniform 1–6 s.
	Delay func() time.Duration
	// FailRate is the share of requests that fail at random (default 0.05;
	// negative disables random failures).
	FailRate float64
	// RandSeed makes the random failures, delays and execution ids
	// reproducible (0 = a fixed default, so runs are comparable).
	RandSeed uint64
	// Client posts the callbacks; default has n8n's 10 s timeout.
	Client *http.Client
	Log    *slog.Logger
}

// SimStats counts what the simulator did, for tests and the demo header.
type SimStats struct {
	Accepted, Rejected, CallbacksOK, CallbacksFailed int64
}

// Simulator is an in-process stand-in for n8n running the influence-gen
// workflow: it accepts generate calls and calls back with procedural images.
type Simulator struct {
	opts SimulatorOptions
	log  *slog.Logger

	mu       sync.Mutex
	rng      *rand.Rand
	execSeq  int64
	images   map[string]simJob // "<request id>/<index>" → how to redraw it
	srv      *http.Server
	ln       net.Listener
	baseURL  string
	ctx      context.Context
	cancel   context.CancelFunc
	inflight sync.WaitGroup
	closed   bool

	accepted, rejected, cbOK, cbFailed atomic.Int64
}

type simJob struct {
	prompt string
	seed   int64
	w, h   int
}

// simPayload is the part of the DESIGN §4 body the workflow reads.
type simPayload struct {
	RequestID        json.RawMessage `json:"ai_generation_request_id"`
	GenerationParams struct {
		Prompt    string `json:"prompt"`
		ModelID   string `json:"model_id"`
		Width     int    `json:"width"`
		Height    int    `json:"height"`
		Seed      int64  `json:"seed"`
		NumImages int    `json:"num_images"`
	} `json:"generation_params"`
	CallbackURL string `json:"callback_url"`
}

// NewSimulator returns a simulator; Start binds it.
func NewSimulator(opts SimulatorOptions) *Simulator {
	if opts.APIKeyHeader == "" {
		opts.APIKeyHeader = "X-API-Key"
	}
	if opts.APIKey == nil {
		opts.APIKey = func() string { return "" }
	}
	if opts.CallbackToken == nil {
		opts.CallbackToken = func() string { return "" }
	}
	if opts.FailRate == 0 {
		opts.FailRate = 0.05
	}
	if opts.RandSeed == 0 {
		opts.RandSeed = 20261127
	}
	if opts.Client == nil {
		// n8n's HTTP Request node: one attempt, 10 s, no retry.
		opts.Client = &http.Client{Timeout: 10 * time.Second}
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Simulator{opts: opts, log: log, rng: rand.New(rand.NewPCG(opts.RandSeed, opts.RandSeed^0x5DEECE66D)),
		images: map[string]simJob{}}
	if s.opts.Delay == nil {
		s.opts.Delay = func() time.Duration {
			s.mu.Lock()
			defer s.mu.Unlock()
			return time.Second + time.Duration(s.rng.Int64N(int64(5*time.Second)))
		}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Start binds a free loopback port and serves.
func (s *Simulator) Start() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return app.Errorf(app.EUNAVAILABLE, "simulated n8n: cannot listen on a loopback port: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/webhook/", s.handleWebhook)
	mux.HandleFunc("/", s.handleUnknown)
	s.ln = ln
	s.baseURL = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	go func() { _ = s.srv.Serve(ln) }()
	s.log.Info("simulated n8n started", "webhook", s.URL())
	return nil
}

// BaseURL is the simulator's origin, e.g. http://127.0.0.1:41234.
func (s *Simulator) BaseURL() string { return s.baseURL }

// URL is the production webhook URL to put in n8n.webhook_url.
func (s *Simulator) URL() string { return s.baseURL + SimWebhookPath }

// Stats returns what happened so far.
func (s *Simulator) Stats() SimStats {
	return SimStats{Accepted: s.accepted.Load(), Rejected: s.rejected.Load(), CallbacksOK: s.cbOK.Load(), CallbacksFailed: s.cbFailed.Load()}
}

// Close stops serving and abandons pending callbacks, like stopping n8n.
func (s *Simulator) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	var err error
	if s.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = s.srv.Shutdown(ctx)
	}
	s.inflight.Wait()
	return err
}

func (s *Simulator) handleUnknown(w http.ResponseWriter, r *http.Request) {
	writeN8NJSON(w, http.StatusNotFound, map[string]any{"code": 404,
		"message": fmt.Sprintf("The requested webhook \"%s %s\" is not registered.", r.Method, strings.TrimPrefix(r.URL.Path, "/webhook/")),
		"hint":    "The workflow must be active for a production URL to run successfully. You can activate the workflow using the toggle in the top-right of the editor."})
}

func (s *Simulator) handleWebhook(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == simImagePath && r.Method == http.MethodGet:
		s.serveImage(w, r)
		return
	case r.URL.Path != SimWebhookPath:
		s.handleUnknown(w, r)
		return
	case r.Method != http.MethodPost:
		writeN8NJSON(w, http.StatusNotFound, map[string]any{"code": 404,
			"message": fmt.Sprintf("This webhook is not registered for %s requests. Did you mean to make a POST request?", r.Method)})
		return
	}
	want := s.opts.APIKey()
	got := r.Header.Get(s.opts.APIKeyHeader)
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		s.rejected.Add(1)
		// Real n8n: plain text without Content-Type, Basic realm even for Header Auth.
		w.Header()["Content-Type"] = nil
		w.Header().Set("WWW-Authenticate", `Basic realm="Webhook"`)
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, "Authorization data is wrong!")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, simMaxBody))
	if err != nil {
		writeN8NJSON(w, http.StatusRequestEntityTooLarge, map[string]any{"code": 413, "message": "request entity too large"})
		return
	}
	var p simPayload
	if err := json.Unmarshal(body, &p); err != nil {
		writeN8NJSON(w, http.StatusUnprocessableEntity, map[string]any{"code": 422, "message": "Failed to parse request body", "hint": err.Error()})
		return
	}
	s.accepted.Add(1)
	// "Respond immediately": the 202 goes out before the workflow runs.
	writeN8NJSON(w, http.StatusAccepted, map[string]any{"status": "accepted"})
	s.schedule(p)
}

func writeN8NJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// schedule runs the "generation" after the injected delay and posts the
// result, as the workflow's callback node would.
func (s *Simulator) schedule(p simPayload) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.inflight.Add(1)
	failRandom := s.opts.FailRate > 0 && s.rng.Float64() < s.opts.FailRate
	s.execSeq++
	exec := s.execSeq
	s.mu.Unlock()
	delay := s.opts.Delay()
	go func() {
		defer s.inflight.Done()
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(delay):
		}
		s.callback(p, failRandom, exec)
	}()
}

// callbackBody builds what the workflow posts back (DESIGN §5; the shapes of
// peers/n8n/06–08). Odd execution numbers send base64, even ones a URL, so
// the demo shows both ingest paths.
func (s *Simulator) callbackBody(p simPayload, failRandom bool, exec int64) map[string]any {
	id := p.RequestID
	gp := p.GenerationParams
	body := map[string]any{"ai_generation_request_id": id, "execution_id": strconv.FormatInt(exec, 10), "model_id": gp.ModelID}
	switch {
	case strings.Contains(strings.ToLower(gp.Prompt), "fail"):
		body["status"] = "failed"
		body["error_message"] = "simulated generation failure (prompt contained FAIL)"
		body["error_code"] = "provider_error"
		return body
	case failRandom:
		body["status"] = "failed"
		body["error_message"] = "CUDA out of memory. Tried to allocate 2.00 GiB (simulated provider outage)"
		body["error_code"] = "provider_oom"
		return body
	}
	n := min(max(gp.NumImages, 1), 16)
	w, h := simSize(gp.Width, gp.Height, simMaxSide)
	asBase64 := exec%2 == 1
	images := make([]map[string]any, 0, n)
	for i := 0; i < n; i++ {
		seed := gp.Seed + int64(i)
		img := map[string]any{"mime_type": "image/png", "width": w, "height": h, "seed": seed}
		if asBase64 {
			img["base64"] = base64.StdEncoding.EncodeToString(SimImage(gp.Prompt, seed, 0, w, h))
		} else {
			img["url"] = s.rememberImage(string(trimJSONString(id)), i, simJob{prompt: gp.Prompt, seed: seed, w: w, h: h})
		}
		images = append(images, img)
	}
	body["status"] = "success"
	if n == 1 {
		// Real workflows usually send one image at top level (peers/n8n/06, 07).
		img := images[0]
		body["image_format"] = "png"
		body["width"], body["height"], body["seed"] = img["width"], img["height"], img["seed"]
		if v, ok := img["base64"]; ok {
			body["image_base64"] = v
		} else {
			body["image_url"] = img["url"]
		}
		return body
	}
	body["images"] = images
	return body
}

func trimJSONString(raw json.RawMessage) []byte {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []byte(s)
	}
	return bytes.TrimSpace(raw)
}

// rememberImage keeps only the recipe, not the bytes: the picture is
// redrawn on fetch, so a long demo does not hold every PNG in memory.
func (s *Simulator) rememberImage(requestID string, index int, job simJob) string {
	key := requestID + "/" + strconv.Itoa(index)
	s.mu.Lock()
	s.images[key] = job
	s.mu.Unlock()
	q := url.Values{"id": {requestID}, "n": {strconv.Itoa(index)}}
	return s.baseURL + simImagePath + "?" + q.Encode()
}

func (s *Simulator) serveImage(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("id") + "/" + r.URL.Query().Get("n")
	if r.URL.Query().Get("n") == "" {
		key = r.URL.Query().Get("id") + "/0"
	}
	s.mu.Lock()
	job, ok := s.images[key]
	s.mu.Unlock()
	if !ok {
		writeN8NJSON(w, http.StatusNotFound, map[string]any{"code": 404, "message": "No image for this id"})
		return
	}
	data := SimImage(job.prompt, job.seed, 0, job.w, job.h)
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

func (s *Simulator) callback(p simPayload, failRandom bool, exec int64) {
	if p.CallbackURL == "" {
		// The workflow's callback node would error out in n8n's execution log.
		s.cbFailed.Add(1)
		s.log.Warn("simulated n8n: payload has no callback_url; nothing to call back")
		return
	}
	raw, err := json.Marshal(s.callbackBody(p, failRandom, exec))
	if err != nil {
		s.cbFailed.Add(1)
		s.log.Error("simulated n8n: encode callback", "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.CallbackURL, bytes.NewReader(raw))
	if err != nil {
		s.cbFailed.Add(1)
		s.log.Warn("simulated n8n: bad callback_url", "err", err)
		return
	}
	// Header names and casing as n8n's axios sends them (peers/n8n/06).
	req.Header["Accept"] = []string{simAccept}
	req.Header["Content-Type"] = []string{"application/json"}
	if tok := s.opts.CallbackToken(); tok != "" {
		req.Header["x-callback-token"] = []string{tok}
	}
	req.Header["User-Agent"] = []string{simUserAgent}
	req.Close = true
	if s.opts.WebhookSecret != nil {
		if secret := s.opts.WebhookSecret(); secret != "" {
			if err := signStandardWebhook(req.Header, secret, fmt.Sprintf("msg_sim_%d", exec), time.Now(), raw); err != nil {
				s.cbFailed.Add(1)
				s.log.Warn("simulated n8n: cannot sign callback", "err", err)
				return
			}
		}
	}
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		s.cbFailed.Add(1)
		if !errors.Is(err, context.Canceled) {
			s.log.Warn("simulated n8n: callback failed", "err", err)
		}
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		s.cbFailed.Add(1)
		s.log.Warn("simulated n8n: callback rejected", "status", resp.StatusCode)
		return
	}
	s.cbOK.Add(1)
}

// signStandardWebhook adds webhook-id, webhook-timestamp and
// webhook-signature with the listener's own scheme (signature.go), the same
// bytes the signed workflow template's Crypto node produces.
func signStandardWebhook(h http.Header, secret, msgID string, now time.Time, body []byte) error {
	key, err := DecodeWebhookSecret(secret)
	if err != nil {
		return err
	}
	h["webhook-id"] = []string{msgID}
	h["webhook-timestamp"] = []string{strconv.FormatInt(now.Unix(), 10)}
	h["webhook-signature"] = []string{SignWebhook(key, msgID, now.Unix(), body)}
	return nil
}

// StartDemoSimulator starts a simulator for `influencegen demo` with the
// demo's secrets and the default 1–6 s delays and 5 % random failures.
func StartDemoSimulator(apiKeyHeader string, apiKey, callbackToken, webhookSecret func() string, log *slog.Logger) (*Simulator, error) {
	s := NewSimulator(SimulatorOptions{APIKeyHeader: apiKeyHeader, APIKey: apiKey, CallbackToken: callbackToken,
		WebhookSecret: webhookSecret, Log: log})
	if err := s.Start(); err != nil {
		return nil, err
	}
	return s, nil
}
