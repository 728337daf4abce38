package n8ntest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type exchange struct {
	Request struct {
		Method  string            `json:"method"`
		Path    string            `json:"path"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"request"`
	Response struct {
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"response"`
}

// shape describes a JSON value by its keys and types only: the ids and
// texts of a recording need not match, the envelope must.
func shape(v any) string {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ":" + shape(x[k])
		}
		return "{" + strings.Join(parts, ",") + "}"
	case []any:
		if len(x) == 0 {
			return "[]"
		}
		return "[" + shape(x[0]) + "]"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// TestFakeAnswersLikeTheRecordedN8N replays every recorded generate
// exchange against the fake and compares status, headers and body shape.
func TestFakeAnswersLikeTheRecordedN8N(t *testing.T) {
	dir := PeersDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "0[1-5]-generate-*.json"))
	if len(files) != 5 {
		t.Fatalf("found %d generate recordings, want 5", len(files))
	}
	fake := New(t, Options{APIKey: "test-api-key"})
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var ex exchange
			if err := json.Unmarshal(raw, &ex); err != nil {
				t.Fatal(err)
			}
			// A string body was sent verbatim (e.g. broken JSON); an object as JSON.
			var body []byte
			var asString string
			if json.Unmarshal(ex.Request.Body, &asString) == nil {
				body = []byte(asString)
			} else if string(ex.Request.Body) != "null" {
				body = ex.Request.Body
			}
			req, _ := http.NewRequestWithContext(t.Context(), ex.Request.Method, fake.URL+ex.Request.Path, bytes.NewReader(body))
			for k, v := range ex.Request.Headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != ex.Response.Status {
				t.Errorf("status = %d, want %d", resp.StatusCode, ex.Response.Status)
			}
			for _, h := range []string{"Content-Type", "WWW-Authenticate"} {
				if g, w := resp.Header.Get(h), ex.Response.Headers[h]; g != w {
					t.Errorf("header %s = %q, want %q", h, g, w)
				}
			}
			var wantText string
			if json.Unmarshal(ex.Response.Body, &wantText) == nil {
				if string(got) != wantText {
					t.Errorf("body = %q, want %q", got, wantText)
				}
				return
			}
			var gv, wv any
			if err := json.Unmarshal(got, &gv); err != nil {
				t.Fatalf("body %q is not JSON", got)
			}
			_ = json.Unmarshal(ex.Response.Body, &wv)
			if shape(gv) != shape(wv) {
				t.Errorf("body shape = %s, want %s (body %s)", shape(gv), shape(wv), got)
			}
		})
	}
}

func TestFakeSaysAnInactiveWebhookIsNotRegistered(t *testing.T) {
	fake := New(t, Options{})
	fake.SetFault(NotRegistered)
	resp, err := http.Post(fake.WebhookURL, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&got)
	if resp.StatusCode != 404 || got["message"] != `The requested webhook "POST influence-gen/generate" is not registered.` || got["hint"] == nil || got["code"] != float64(404) {
		t.Errorf("got %d %v", resp.StatusCode, got)
	}
}

func TestFakeCallsBackBeforeWritingItsAck(t *testing.T) {
	var acked atomic.Bool
	received := make(chan http.Header, 1)
	listener := httptestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if acked.Load() {
			t.Error("the callback arrived after the 202 was written")
		}
		received <- r.Header.Clone()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"success"}`)
	})
	fake := New(t, Options{})
	var cbStatus atomic.Int64
	fake.CallbackFirst("cb-token", func(id string) []byte {
		return []byte(`{"ai_generation_request_id":"` + id + `","status":"success","image_url":"http://x/i.png"}`)
	}, func(status int, err error) { cbStatus.Store(int64(status)) })
	body := `{"ai_generation_request_id":"01JDX3V6Q6T7ZP3Y6N4B1K9S2E","callback_url":"` + listener + `/influence_gen/ai/callback/image_result"}`
	req, _ := http.NewRequest(http.MethodPost, fake.WebhookURL, strings.NewReader(body))
	req.Header.Set("X-API-Key", "test-api-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	acked.Store(true)
	select {
	case h := <-received:
		if h.Get("X-Callback-Token") != "cb-token" || h.Get("User-Agent") != "axios/1.12.0" {
			t.Errorf("callback headers = %v", h)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no callback")
	}
	if resp.StatusCode != 202 || cbStatus.Load() != 200 {
		t.Errorf("ack %d, callback answered %d", resp.StatusCode, cbStatus.Load())
	}
}

func TestFakeRecordsEveryRequest(t *testing.T) {
	fake := New(t, Options{})
	fake.FailNext(ServerError)
	for range 2 {
		req, _ := http.NewRequest(http.MethodPost, fake.WebhookURL, strings.NewReader(`{"a":1}`))
		req.Header.Set("X-API-Key", "test-api-key")
		req.Header.Set("Idempotency-Key", "K")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	got := fake.Requests()
	if len(got) != 2 || got[0].Header.Get("Idempotency-Key") != "K" || got[1].JSON()["a"] != float64(1) {
		t.Errorf("recorded %+v", got)
	}
}

// httptestServer starts a plain handler (a stand-in callback listener) and
// returns its base URL.
func httptestServer(t *testing.T, h http.HandlerFunc) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
