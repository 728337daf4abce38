// Package odootest is a fake Odoo 19 server for tests: it speaks JSON-2 and
// JSON-RPC with the status codes, headers and body shapes recorded from a
// real server (shared/peers/odoo), keeps records in memory, counts RPCs and
// injects faults (5xx, outages, hangs, latency, a revoked key, unique
// conflicts). Other packages' tests may use it; production code never does.
package odootest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Config sets up a fake.
type Config struct {
	APIKey   string // default "test-api-key"; also the JSON-RPC password
	Database string // default "igtest"
	Login    string // default "admin"
	// RequestModel and ImageModel default to the addon's names.
	RequestModel, ImageModel string
	Models                   []Model // default DefaultModels(RequestModel, ImageModel)
	NoJSON2                  bool    // behave like Odoo ≤ 18: /json/2 is a plain 404
	// ConnectionClose makes every answer carry Connection: close, as the
	// recorded server did (no reverse proxy in front of it).
	ConnectionClose bool
	// OldAddon behaves like the addon before 19.0.1.1.0: no
	// influencegen_upsert / influencegen_attach.
	OldAddon bool
	// NoQueue behaves like the addon 19.0.1.1.0: the guarded sync methods
	// but no influence_gen_claim / influencegen_publish.
	NoQueue bool
	// NoCuration behaves like the addon 19.0.1.2.0: no
	// influencegen_decide and no favourite/approval fields' method.
	NoCuration bool
	// Now is the fake's clock for claims (claimed_at, expiry); default time.Now.
	Now func() time.Time
	// NextID is the id the next created record gets (default 37450, as in
	// the recordings; ids are shared by all models).
	NextID int64
}

// Call is one RPC the fake served.
type Call struct {
	Protocol string // json2 | jsonrpc
	Service  string // jsonrpc service (common, object, db); "" for json2
	Model    string
	Method   string
	Context  map[string]any
	Records  int // values in a create / ids in a write
}

// Server is the fake.
type Server struct {
	cfg Config
	srv *httptest.Server
	URL string

	closing   chan struct{}
	closeOnce sync.Once

	mu          sync.Mutex
	tables      map[string]*table
	blobs       map[int64][]byte // attachment id → stored bytes
	nextID      int64
	calls       []Call
	rpcs        int
	logins      int
	key         string
	readOnly    bool
	admin       bool
	latency     time.Duration
	failNext    []int
	down        bool
	hang        bool
	conflictExt map[string]bool
	failCalls   map[string]int
	refusals    []refusal
	params      map[string]string
	chatter     []ChatterNote
}

// UID is the uid the fake's user has (admin on a fresh database).
const UID = 2

// New starts a fake on loopback; it stops when the test ends.
func New(t testing.TB, cfg Config) *Server {
	t.Helper()
	s := Start(cfg)
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake outside a test (benchmarks, demo); call Close.
func Start(cfg Config) *Server {
	if cfg.APIKey == "" {
		cfg.APIKey = "test-api-key"
	}
	if cfg.Database == "" {
		cfg.Database = "igtest"
	}
	if cfg.Login == "" {
		cfg.Login = "admin"
	}
	if cfg.RequestModel == "" {
		cfg.RequestModel = "influence_gen.ai_image_generation_request"
	}
	if cfg.ImageModel == "" {
		cfg.ImageModel = "influence_gen.generated_image"
	}
	if cfg.Models == nil {
		cfg.Models = DefaultModels(cfg.RequestModel, cfg.ImageModel)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NextID == 0 {
		cfg.NextID = 37450
	}
	s := &Server{cfg: cfg, tables: map[string]*table{}, blobs: map[int64][]byte{}, nextID: cfg.NextID,
		closing: make(chan struct{}), key: cfg.APIKey, admin: true, conflictExt: map[string]bool{}, failCalls: map[string]int{}, params: map[string]string{}}
	for _, m := range cfg.Models {
		s.tables[m.Name] = &table{model: m}
	}
	if users := s.tables["res.users"]; users != nil {
		users.rows = append(users.rows, map[string]any{"id": int64(UID), "name": "Administrator", "login": cfg.Login})
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.srv.URL
	return s
}

// Close stops the server, releasing hanging requests first.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
	s.srv.Close()
}

// Key is the valid API key.
func (s *Server) Key() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.key
}

// Database is the database name.
func (s *Server) Database() string { return s.cfg.Database }

// Login is the user login (JSON-RPC).
func (s *Server) Login() string { return s.cfg.Login }

// --- fault injection ---

// SetLatency delays every answer by d (the cost of a real Odoo write).
func (s *Server) SetLatency(d time.Duration) { s.mu.Lock(); s.latency = d; s.mu.Unlock() }

// FailNext answers the next len(statuses) RPCs with those HTTP statuses.
func (s *Server) FailNext(statuses ...int) {
	s.mu.Lock()
	s.failNext = append(s.failNext, statuses...)
	s.mu.Unlock()
}

// SetDown makes every RPC answer 502 Bad Gateway, as a reverse proxy does
// while Odoo is down.
func (s *Server) SetDown(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }

// SetHang makes every RPC wait until the client gives up (a timeout).
func (s *Server) SetHang(hang bool) { s.mu.Lock(); s.hang = hang; s.mu.Unlock() }

// RevokeKey invalidates the key; SetKey installs a new one.
func (s *Server) RevokeKey() { s.SetKey("revoked-" + time.Now().String()) }

// SetKey changes the valid key.
func (s *Server) SetKey(key string) { s.mu.Lock(); s.key = key; s.mu.Unlock() }

// SetReadOnly removes create/write rights from the user.
func (s *Server) SetReadOnly(ro bool) { s.mu.Lock(); s.readOnly = ro; s.mu.Unlock() }

// SetAdmin gives or removes Settings rights (system parameters).
func (s *Server) SetAdmin(admin bool) { s.mu.Lock(); s.admin = admin; s.mu.Unlock() }

// ConflictOnCreate makes the next create carrying externalID lose a race:
// another writer inserts that record first, and the create fails on the
// unique constraint.
func (s *Server) ConflictOnCreate(externalID string) {
	s.mu.Lock()
	s.conflictExt[externalID] = true
	s.mu.Unlock()
}

// FailCall makes the next n calls of model.method fail as a database
// conflict does (psycopg2.OperationalError: HTTP 500 in JSON-2, an error
// object in JSON-RPC): transient, after earlier calls of the same sync
// succeeded, which is how a crash in the middle of a batch looks to Odoo.
func (s *Server) FailCall(model, method string, n int) {
	s.mu.Lock()
	s.failCalls[model+"/"+method] += n
	s.mu.Unlock()
}

// Refuse makes create and write fail with a ValidationError carrying
// message whenever field is set to value, as an Odoo constraint would.
func (s *Server) Refuse(field, value, message string) {
	s.mu.Lock()
	s.refusals = append(s.refusals, refusal{field, value, message})
	s.mu.Unlock()
}

type refusal struct{ field, value, message string }

func (s *Server) refused(vals map[string]any) *odooError {
	for _, r := range s.refusals {
		if v, ok := vals[r.field].(string); ok && v == r.value {
			return validationError(r.message)
		}
	}
	return nil
}

// --- inspection ---

// RPCs counts every RPC served (logins and failures included).
func (s *Server) RPCs() int { s.mu.Lock(); defer s.mu.Unlock(); return s.rpcs }

// Logins counts JSON-RPC common.login calls.
func (s *Server) Logins() int { s.mu.Lock(); defer s.mu.Unlock(); return s.logins }

// Calls returns the RPCs served, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// ResetCounts forgets the calls and the RPC count.
func (s *Server) ResetCounts() {
	s.mu.Lock()
	s.calls, s.rpcs, s.logins = nil, 0, 0
	s.mu.Unlock()
}

// Records returns copies of a model's stored rows (raw values: many2one as
// an id), in id order.
func (s *Server) Records(model string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tables[model]
	if t == nil {
		return nil
	}
	out := make([]map[string]any, len(t.rows))
	for i, r := range t.rows {
		c := make(map[string]any, len(r))
		for k, v := range r {
			c[k] = v
		}
		out[i] = c
	}
	return out
}

// AttachmentData returns the bytes an attachment stores.
func (s *Server) AttachmentData(id int64) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.blobs[id]
	return b, ok
}

// Param returns a system parameter (ir.config_parameter).
func (s *Server) Param(key string) string { s.mu.Lock(); defer s.mu.Unlock(); return s.params[key] }

// Insert stores a record directly (as if made in Odoo) and returns its id;
// vals may carry an explicit "id" lower than Config.NextID.
func (s *Server) Insert(model string, vals map[string]any) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tables[model]
	row := normVals(vals)
	if id := num(row["id"]); id > 0 {
		row["id"] = id
		i, _ := slices.BinarySearchFunc(t.rows, id, func(r map[string]any, id int64) int { return cmpInt(num(r["id"]), id) })
		t.rows = slices.Insert(t.rows, i, row)
		return id
	}
	return s.insert(t, row)
}

// Delete removes a record, as a person deleting it in Odoo would.
func (s *Server) Delete(model string, id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tables[model]
	t.rows = slices.DeleteFunc(t.rows, func(r map[string]any) bool { return num(r["id"]) == id })
}

func (s *Server) insert(t *table, row map[string]any) int64 {
	id := s.nextID
	s.nextID++
	row["id"] = id
	if _, ok := row["write_date"]; !ok {
		s.touch(t, row)
	}
	t.rows = append(t.rows, row)
	return id
}

// normVals round-trips values through JSON so stored rows hold what a
// client would have sent.
func normVals(vals map[string]any) map[string]any {
	b, _ := json.Marshal(vals)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// --- HTTP ---

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if s.cfg.ConnectionClose {
		w.Header().Set("Connection", "close")
	}
	switch {
	case r.URL.Path == "/web/version" && r.Method == http.MethodGet:
		writeJSON(w, 200, map[string]any{"version_info": versionInfo(), "version": "19.0"}, true)
		return
	case r.URL.Path == "/web/version":
		writeHTML(w, 400, "400 Bad Request", "Bad Request", "Session expired (invalid CSRF token)", "")
		return
	case r.URL.Path == "/jsonrpc":
		s.serveJSONRPC(w, r)
		return
	case strings.HasPrefix(r.URL.Path, "/json/2/") && !s.cfg.NoJSON2:
		s.serveJSON2(w, r)
		return
	}
	http.NotFound(w, r)
}

// fault applies latency and injected failures; it reports whether the
// request was answered already.
func (s *Server) fault(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	s.rpcs++
	latency, down, hang := s.latency, s.down, s.hang
	status := 0
	if len(s.failNext) > 0 {
		status, s.failNext = s.failNext[0], s.failNext[1:]
	}
	s.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true
		}
	}
	switch {
	case hang:
		// Read the body first: only then does net/http notice the client
		// hanging up and cancel the request context.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
		return true
	case down:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>\n"))
		return true
	case status != 0:
		writeJSON(w, status, errorBody("werkzeug.exceptions.InternalServerError", http.StatusText(status), status, true), false)
		return true
	}
	return false
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
}

func versionInfo() []any { return []any{19, 0, 0, "final", 0, ""} }

func writeJSON(w http.ResponseWriter, status int, body any, nosniff bool) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if nosniff {
		w.Header().Set("X-Content-Type-Options", "nosniff")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func writeHTML(w http.ResponseWriter, status int, title, h1, text, accept string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if accept != "" {
		w.Header().Set("Accept", accept)
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte("<!doctype html>\n<html lang=en>\n<title>" + title + "</title>\n<h1>" + h1 + "</h1>\n<p>" + text + "</p>\n"))
}

// errorBody is Odoo's serialized exception. werkzeug exceptions carry the
// status as a second argument; Odoo's own exceptions do not.
func errorBody(name, message string, status int, werkzeug bool) map[string]any {
	args := []any{message}
	if werkzeug {
		args = append(args, status)
	}
	return map[string]any{"name": name, "message": message, "arguments": args, "context": map[string]any{},
		"debug": "Traceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/odoo/http.py\", line 2275, in _serve_db\n    return service_model.retrying(serve_func, env=self.env)\n..."}
}

// touch sets write_date as Odoo does on every create and write (its
// search_read renders whole seconds, UTC).
func (s *Server) touch(t *table, row map[string]any) {
	if _, ok := t.model.Fields["write_date"]; ok {
		row["write_date"] = s.cfg.Now().UTC().Format("2006-01-02 15:04:05")
	}
}
