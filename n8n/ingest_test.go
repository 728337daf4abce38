package n8n

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/n8n/n8ntest"
)

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func TestSuccessCallbackStoresTheImageOnceAndCompletes(t *testing.T) {
	h := newHarness(t)
	req := h.request(app.StatusProcessing)
	pic := testPNG(t, 16, 8, 3)
	got := h.callback(successBody(req.ID, pic))
	wantStatus(t, got, http.StatusOK)
	if got.body["status"] != "success" || got.body["duplicate"] != nil {
		t.Fatalf("reply %s, want {\"status\":\"success\"}", got.raw)
	}
	if n := h.process(); n != 1 {
		t.Fatalf("processed %d deliveries, want 1", n)
	}
	r := h.get(req.ID)
	if r.Status != app.StatusCompleted || r.ImageCount != 1 {
		t.Fatalf("request %s with %d images, want completed with 1", r.Status, r.ImageCount)
	}
	imgs, err := h.db.Images(context.Background(), req.ID)
	if err != nil || len(imgs) != 1 {
		t.Fatalf("Images = %v, %v", imgs, err)
	}
	img := imgs[0]
	if img.SHA256 != sha(pic) || img.Width != 16 || img.Height != 8 || img.MimeType != "image/png" || img.Bytes != int64(len(pic)) || img.Source != "base64" {
		t.Fatalf("image %+v does not describe the bytes sent", img)
	}
	wantPath := filepath.Join(h.dir, "images", img.SHA256[:2], img.SHA256+".png")
	if img.Path != wantPath {
		t.Fatalf("path %s, want %s", img.Path, wantPath)
	}
	onDisk, err := os.ReadFile(img.Path)
	if err != nil || sha(onDisk) != sha(pic) {
		t.Fatalf("stored file differs from the bytes sent: %v", err)
	}
	if st, _ := os.Stat(img.Path); st.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", st.Mode().Perm())
	}
	if st, _ := os.Stat(filepath.Dir(img.Path)); st.Mode().Perm() != 0o700 {
		t.Errorf("folder mode %v, want 0700", st.Mode().Perm())
	}

	again := h.callback(successBody(req.ID, pic))
	wantStatus(t, again, http.StatusOK)
	if again.body["duplicate"] != true {
		t.Fatalf("the same callback again answered %s, want duplicate:true", again.raw)
	}
	if h.process() != 0 || h.count("deliveries") != 1 || h.count("images") != 1 {
		t.Fatalf("a duplicate did work: %d deliveries, %d images", h.count("deliveries"), h.count("images"))
	}
}

func TestFailureCallbackFailsTheRequest(t *testing.T) {
	tests := []struct {
		name      string
		body      map[string]any
		wantCode  string
		wantMsgIn string
	}{
		{"an error_message string is kept", map[string]any{"status": "failed", "error_message": "GPU melted"}, "generation_failed", "GPU melted"},
		{"an error object gives message and code", map[string]any{"status": "error", "error": map[string]any{"message": "NSFW", "code": "content_policy"}}, "content_policy", "NSFW"},
		{"a bare failure still explains itself", map[string]any{"status": "failure"}, "generation_failed", "without a message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			req := h.request(app.StatusProcessing)
			tt.body["request_id"] = req.ID
			wantStatus(t, h.callback(tt.body), http.StatusOK)
			h.process()
			r := h.get(req.ID)
			if r.Status != app.StatusFailed || r.ErrorCode != tt.wantCode || !strings.Contains(r.ErrorMessage, tt.wantMsgIn) {
				t.Fatalf("request %s %q %q, want failed %q containing %q", r.Status, r.ErrorCode, r.ErrorMessage, tt.wantCode, tt.wantMsgIn)
			}
		})
	}
}

func TestLateResults(t *testing.T) {
	t.Run("a callback for a cancelled request keeps the state and the image", func(t *testing.T) {
		h := newHarness(t)
		req := h.request(app.StatusCancelled)
		wantStatus(t, h.callback(successBody(req.ID, testPNG(t, 8, 8, 9))), http.StatusOK)
		h.process()
		if r := h.get(req.ID); r.Status != app.StatusCancelled || r.ImageCount != 1 {
			t.Fatalf("request %s with %d images, want cancelled with 1", r.Status, r.ImageCount)
		}
		acts, err := h.db.ListActivity(context.Background(), app.ActivityQuery{RequestID: req.ID, Kinds: []string{app.ActivityLateResult}})
		if err != nil || len(acts) == 0 {
			t.Fatalf("no late_result activity: %v", err)
		}
	})
	t.Run("a callback for a timed-out request completes it", func(t *testing.T) {
		h := newHarness(t)
		req := h.request(app.StatusTimedOut)
		wantStatus(t, h.callback(successBody(req.ID, testPNG(t, 8, 8, 9))), http.StatusOK)
		h.process()
		if r := h.get(req.ID); r.Status != app.StatusCompleted {
			t.Fatalf("request %s, want completed", r.Status)
		}
	})
	t.Run("a callback that arrives while the webhook POST is in flight completes it", func(t *testing.T) {
		h := newHarness(t)
		req := h.request(app.StatusSending)
		wantStatus(t, h.callback(successBody(req.ID, testPNG(t, 8, 8, 9))), http.StatusOK)
		h.process()
		if r := h.get(req.ID); r.Status != app.StatusCompleted {
			t.Fatalf("request %s, want completed", r.Status)
		}
	})
	t.Run("a different result for a completed request is a conflict and writes nothing", func(t *testing.T) {
		h := newHarness(t)
		req := h.request(app.StatusCompleted)
		got := h.callback(map[string]any{"ai_generation_request_id": req.ID, "status": "failed", "error": "late"})
		wantStatus(t, got, http.StatusConflict)
		h.wantNothingWritten()
	})
	// A callback for a request we believe never sent is accepted now:
	// TestAResultIsAcceptedWhateverOurViewOfTheSend.
}

func TestCallbackShapes(t *testing.T) {
	t.Run("the JSON-RPC envelope is accepted and answered in kind", func(t *testing.T) {
		h := newHarness(t)
		req := h.request(app.StatusProcessing)
		got := h.callback(map[string]any{"jsonrpc": "2.0", "id": 7, "method": "call", "params": successBody(req.ID, testPNG(t, 8, 8, 1))})
		wantStatus(t, got, http.StatusOK)
		result, _ := got.body["result"].(map[string]any)
		if got.body["jsonrpc"] != "2.0" || got.body["id"] != float64(7) || result["status"] != "success" {
			t.Fatalf("reply %s is not a JSON-RPC result", got.raw)
		}
	})
	t.Run("a JSON-RPC error keeps the envelope", func(t *testing.T) {
		h := newHarness(t)
		got := h.callback(map[string]any{"jsonrpc": "2.0", "id": "x", "params": map[string]any{"status": "success"}})
		wantStatus(t, got, http.StatusBadRequest)
		rpcErr, _ := got.body["error"].(map[string]any)
		if got.body["id"] != "x" || !strings.Contains(rpcErr["message"].(string), "images:") {
			t.Fatalf("reply %s is not a JSON-RPC error naming the field", got.raw)
		}
	})
	t.Run("a numeric id matches the Odoo record id", func(t *testing.T) {
		h := newHarness(t)
		req := h.request(app.StatusProcessing)
		if err := h.db.SetOdooID(context.Background(), req.ID, 37450); err != nil {
			t.Fatal(err)
		}
		body := successBody("", testPNG(t, 8, 8, 1))
		body["ai_generation_request_id"] = 37450
		wantStatus(t, h.callback(body), http.StatusOK)
		h.process()
		if r := h.get(req.ID); r.Status != app.StatusCompleted {
			t.Fatalf("request %s, want completed", r.Status)
		}
	})
	t.Run("the id may come from the URL path", func(t *testing.T) {
		h := newHarness(t)
		req := h.request(app.StatusProcessing)
		body := map[string]any{"status": "success", "images": []any{
			map[string]any{"data": b64(testPNG(t, 8, 8, 1)), "format": "png", "seed": 1},
			map[string]any{"image_base64": b64(testPNG(t, 8, 8, 2)), "mime_type": "image/png", "seed": 2},
		}}
		wantStatus(t, h.post(app.CallbackPath+"/"+req.ID, map[string]string{"X-Callback-Token": testToken}, mustJSON(t, body)), http.StatusOK)
		h.process()
		if r := h.get(req.ID); r.Status != app.StatusCompleted || r.ImageCount != 2 {
			t.Fatalf("request %s with %d images, want completed with 2", r.Status, r.ImageCount)
		}
	})
	t.Run("an id in the path that contradicts the body is refused", func(t *testing.T) {
		h := newHarness(t)
		req := h.request(app.StatusProcessing)
		other := h.request(app.StatusProcessing)
		got := h.post(app.CallbackPath+"/"+other.ID, map[string]string{"X-Callback-Token": testToken}, mustJSON(t, successBody(req.ID, testPNG(t, 8, 8, 1))))
		wantStatus(t, got, http.StatusBadRequest)
		h.wantNothingWritten()
	})
}

// TestRecordedN8NCallbacksAreAccepted replays what n8n 2.8.4 really sent,
// headers and all.
func TestRecordedN8NCallbacksAreAccepted(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(n8ntest.PeersDir(t), "0[678]-*.json"))
	if len(files) != 3 {
		t.Fatalf("want the 3 recorded callbacks 06-08, found %d", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var ex struct {
				Request struct {
					Path    string            `json:"path"`
					Headers map[string]string `json:"headers"`
					Body    json.RawMessage   `json:"body"`
				} `json:"request"`
				Response struct {
					Status int            `json:"status"`
					Body   map[string]any `json:"body"`
				} `json:"response"`
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &ex); err != nil {
				t.Fatal(err)
			}
			// The recordings' n8n served images itself on 127.0.0.1:5678.
			h := newHarness(t, func(o *ListenerOptions) { o.N8NWebhookURL = "http://127.0.0.1:5678/webhook/influence-gen/generate" })
			var ids struct {
				ID string `json:"ai_generation_request_id"`
			}
			_ = json.Unmarshal(ex.Request.Body, &ids)
			r := app.Request{ID: ids.ID, Params: app.GenerationParams{Prompt: "p", Model: "sdxl", Width: 1024, Height: 1024, AspectRatio: "1:1", NumImages: 1},
				Status: app.StatusQueued, RequestedBy: "alice", CreatedAt: h.clock.Now()}
			if err := h.db.CreateRequests(context.Background(), []app.Request{r}); err != nil {
				t.Fatal(err)
			}
			for _, to := range []app.Status{app.StatusSending, app.StatusProcessing} {
				if _, err := h.db.Transition(context.Background(), app.Change{ID: r.ID, To: to}); err != nil {
					t.Fatal(err)
				}
			}
			headers := map[string]string{}
			for k, v := range ex.Request.Headers {
				switch k {
				case "Content-Length", "Host", "Connection", "Accept-Encoding":
				default:
					headers[k] = v
				}
			}
			got := h.post(ex.Request.Path, headers, ex.Request.Body)
			wantStatus(t, got, ex.Response.Status)
			if got.body["status"] != ex.Response.Body["status"] {
				t.Fatalf("reply %s, want %v", got.raw, ex.Response.Body)
			}
			if strings.HasPrefix(filepath.Base(f), "06") {
				return // its image lives on the recording machine's n8n
			}
			h.process()
			st := h.get(r.ID)
			if strings.HasPrefix(filepath.Base(f), "07") && (st.Status != app.StatusCompleted || st.ImageCount != 1) {
				t.Fatalf("07: request %s with %d images, want completed with 1", st.Status, st.ImageCount)
			}
			if strings.HasPrefix(filepath.Base(f), "08") && (st.Status != app.StatusFailed || !strings.Contains(st.ErrorMessage, "FAIL")) {
				t.Fatalf("08: request %s %q, want failed with n8n's message", st.Status, st.ErrorMessage)
			}
		})
	}
}

// imageServer serves a PNG and, on /redirect, redirects to ?to=.
func imageServer(t *testing.T, pic []byte) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if to := r.URL.Query().Get("to"); to != "" {
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(pic)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// lookupTable resolves the test's made-up names.
func lookupTable(names map[string]string) func(context.Context, string) ([]netip.Addr, error) {
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		if ip, ok := names[host]; ok {
			return []netip.Addr{netip.MustParseAddr(ip)}, nil
		}
		return nil, &netErr{host}
	}
}

type netErr struct{ host string }

func (e *netErr) Error() string { return "no such host " + e.host }

func TestImageURLsAreFetchedSafely(t *testing.T) {
	pic := testPNG(t, 12, 12, 5)
	srv := imageServer(t, pic)
	port := srv.Listener.Addr().(interface{ String() string }).String()
	port = port[strings.LastIndex(port, ":")+1:]

	t.Run("an allowed host's image is downloaded and stored", func(t *testing.T) {
		h := newHarness(t, func(o *ListenerOptions) { o.Config.AllowImageHosts = []string{"images.test"} })
		h.policy.SetLookup(lookupTable(map[string]string{"images.test": "127.0.0.1"}))
		req := h.request(app.StatusProcessing)
		wantStatus(t, h.callback(urlBody(req.ID, "http://images.test:"+port+"/a.png")), http.StatusOK)
		h.process()
		imgs, _ := h.db.Images(context.Background(), req.ID)
		if r := h.get(req.ID); r.Status != app.StatusCompleted || len(imgs) != 1 || imgs[0].SHA256 != sha(pic) || imgs[0].Source != "url" {
			t.Fatalf("request %s, images %+v; want completed with the served PNG", r.Status, imgs)
		}
	})
	t.Run("a name that resolves to loopback is refused before the ack", func(t *testing.T) {
		h := newHarness(t)
		h.policy.SetLookup(lookupTable(map[string]string{"loopback.test": "127.0.0.1"}))
		req := h.request(app.StatusProcessing)
		got := h.callback(urlBody(req.ID, "http://loopback.test:"+port+"/a.png"))
		wantStatus(t, got, http.StatusBadRequest)
		if msg, _ := got.body["message"].(string); !strings.Contains(msg, "image_url: host loopback.test resolves to 127.0.0.1, a loopback address") {
			t.Fatalf("message %q does not explain the refusal", msg)
		}
		h.wantNothingWritten()
	})
	t.Run("a name re-pointed to loopback after the check (DNS rebinding) is refused at connect time", func(t *testing.T) {
		h := newHarness(t)
		calls := 0
		h.policy.SetLookup(func(context.Context, string) ([]netip.Addr, error) {
			calls++
			if calls == 1 {
				return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, nil // public at check time
			}
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil // loopback at connect time
		})
		req := h.request(app.StatusProcessing)
		wantStatus(t, h.callback(urlBody(req.ID, "http://rebind.test:"+port+"/a.png")), http.StatusOK)
		h.process()
		r := h.get(req.ID)
		if r.Status != app.StatusFailed || r.ErrorCode != app.ReasonImageUnavailable || !strings.Contains(r.ErrorMessage, "loopback") {
			t.Fatalf("request %s %q %q, want failed image_unavailable naming loopback", r.Status, r.ErrorCode, r.ErrorMessage)
		}
		if h.count("images") != 0 {
			t.Fatal("an image row was written")
		}
		wantNoImageFiles(t, h)
	})
	for _, target := range []string{"http://127.0.0.1:" + port + "/a.png", "http://rebind.test:" + port + "/a.png", "http://10.0.0.1/a.png"} {
		t.Run("a redirect to a private address is refused: "+target, func(t *testing.T) {
			h := newHarness(t, func(o *ListenerOptions) { o.Config.AllowImageHosts = []string{"images.test"} })
			h.policy.SetLookup(lookupTable(map[string]string{"images.test": "127.0.0.1", "rebind.test": "127.0.0.1"}))
			req := h.request(app.StatusProcessing)
			wantStatus(t, h.callback(urlBody(req.ID, "http://images.test:"+port+"/r?to="+target)), http.StatusOK)
			h.process()
			if r := h.get(req.ID); r.Status != app.StatusFailed || r.ErrorCode != app.ReasonImageUnavailable {
				t.Fatalf("request %s %q %q, want failed image_unavailable", r.Status, r.ErrorCode, r.ErrorMessage)
			}
			if h.count("images") != 0 {
				t.Fatal("an image row was written")
			}
			wantNoImageFiles(t, h)
		})
	}
	t.Run("a 5xx is retried and then succeeds", func(t *testing.T) {
		calls := 0
		flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls++
			if calls < 3 {
				http.Error(w, "busy", http.StatusBadGateway)
				return
			}
			_, _ = w.Write(pic)
		}))
		defer flaky.Close()
		h := newHarness(t, func(o *ListenerOptions) { o.Config.AllowImageHosts = []string{"127.0.0.1"} })
		req := h.request(app.StatusProcessing)
		wantStatus(t, h.callback(urlBody(req.ID, flaky.URL+"/a.png")), http.StatusOK)
		h.process()
		if r := h.get(req.ID); r.Status != app.StatusCompleted || calls != 3 {
			t.Fatalf("request %s after %d calls, want completed after 3", r.Status, calls)
		}
	})
	t.Run("a dead image server fails the request after 4 tries", func(t *testing.T) {
		calls := 0
		dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls++
			http.Error(w, "down", http.StatusServiceUnavailable)
		}))
		defer dead.Close()
		h := newHarness(t, func(o *ListenerOptions) { o.Config.AllowImageHosts = []string{"127.0.0.1"} })
		req := h.request(app.StatusProcessing)
		wantStatus(t, h.callback(urlBody(req.ID, dead.URL+"/a.png")), http.StatusOK)
		h.process()
		if r := h.get(req.ID); r.Status != app.StatusFailed || r.ErrorCode != app.ReasonImageUnavailable || calls != 4 {
			t.Fatalf("request %s %q after %d calls, want failed image_unavailable after 4", r.Status, r.ErrorCode, calls)
		}
	})
}

func wantNoImageFiles(t *testing.T, h *harness) {
	t.Helper()
	var files []string
	_ = filepath.Walk(filepath.Join(h.dir, "images"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 0 {
		t.Fatalf("image files left behind: %v", files)
	}
}
