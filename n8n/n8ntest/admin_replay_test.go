package n8ntest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/influencegen/influencegen/n8n/n8ntest"
)

type apiExchange struct {
	Description string `json:"description"`
	Request     struct {
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

// shape compares JSON types and object keys (not values): n8n's ids, dates
// and texts differ between runs, the envelope does not.
func shape(t *testing.T, where string, got, want any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s: got %T, recorded an object", where, got)
			return
		}
		var missing, extra []string
		for k := range w {
			if _, ok := g[k]; !ok {
				missing = append(missing, k)
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				extra = append(extra, k)
			}
		}
		sort.Strings(missing)
		sort.Strings(extra)
		if len(missing)+len(extra) > 0 {
			t.Errorf("%s: keys missing %v, extra %v", where, missing, extra)
		}
		for k, wv := range w {
			if gv, ok := g[k]; ok && k != "parameters" && k != "data" || (ok && where == "") {
				shape(t, where+"."+k, gv, wv)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			t.Errorf("%s: got %T, recorded a list", where, got)
			return
		}
		if len(w) > 0 && len(g) > 0 {
			shape(t, where+"[0]", g[0], w[0])
		}
	default:
		if fmt.Sprintf("%T", got) != fmt.Sprintf("%T", want) {
			t.Errorf("%s: got %T (%v), recorded %T (%v)", where, got, got, want, want)
		}
	}
}

// replayable says which recordings the fake can answer alone: the public
// API, and webhook calls that end before any workflow node runs.
func replayable(ex apiExchange) bool {
	if strings.HasPrefix(ex.Request.Path, "/api/v1/") {
		return true
	}
	return strings.HasPrefix(ex.Request.Path, "/webhook/") && (ex.Response.Status == 403 || ex.Response.Status == 404)
}

// TestFakeAdminAnswersLikeTheRecordedN8N replays shared/peers/n8n-api in
// order against one fake. Ids the fake makes replace the recorded ones in
// later paths and bodies; executions (which need real runs) are seeded
// from the recorded list and details just before they are read.
func TestFakeAdminAnswersLikeTheRecordedN8N(t *testing.T) {
	dir := filepath.Join(filepath.Dir(n8ntest.PeersDir(t)), "n8n-api")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) < 60 {
		t.Fatalf("expected the 65 n8n-api recordings in %s, found %d", dir, len(files))
	}
	sort.Strings(files)
	const key = "fake-admin-key"
	fake := n8ntest.NewAdmin(t, key)
	ids := map[string]string{} // recorded id → fake id
	load := func(name string) apiExchange {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var ex apiExchange
		if err := json.Unmarshal(raw, &ex); err != nil {
			t.Fatal(err)
		}
		return ex
	}
	mapIDs := func(s string) string {
		for rec, mine := range ids {
			s = strings.ReplaceAll(s, rec, mine)
		}
		return s
	}
	seed := func(execs ...json.RawMessage) {
		for _, raw := range execs {
			var e map[string]any
			if err := json.Unmarshal([]byte(mapIDs(string(raw))), &e); err != nil {
				t.Fatal(err)
			}
			fake.AddExecution(e)
		}
	}
	replayed := 0
	for _, file := range files {
		name := filepath.Base(file)
		ex := load(name)
		if !replayable(ex) {
			continue
		}
		switch {
		case strings.HasPrefix(name, "47-"):
			seed(load("58-execution-missing-callback-credential-detail.json").Response.Body)
		case strings.HasPrefix(name, "54-"):
			var list struct{ Data []json.RawMessage }
			_ = json.Unmarshal(ex.Response.Body, &list)
			seed(load("55-execution-success-detail.json").Response.Body)
			for _, row := range list.Data {
				if !bytes.Contains(row, []byte(`"id": "11"`)) && !bytes.Contains(row, []byte(`"id": "13"`)) {
					seed(row)
				}
			}
			seed(load("56-execution-error-callback-refused-detail.json").Response.Body, load("57-execution-provider-500-detail.json").Response.Body)
		}
		t.Run(name, func(t *testing.T) {
			replayed++
			var body io.Reader
			if len(ex.Request.Body) > 0 && string(ex.Request.Body) != "null" {
				body = strings.NewReader(mapIDs(string(ex.Request.Body)))
			}
			req, err := http.NewRequest(ex.Request.Method, fake.URL+mapIDs(ex.Request.Path), body)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range ex.Request.Headers {
				req.Header.Set(k, strings.ReplaceAll(v, "<N8N_API_KEY>", key))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != ex.Response.Status {
				t.Fatalf("status %d, recorded %d (%s); body %s", resp.StatusCode, ex.Response.Status, ex.Description, raw)
			}
			for _, h := range []string{"Content-Type", "WWW-Authenticate"} {
				if resp.Header.Get(h) != ex.Response.Headers[h] {
					t.Errorf("header %s = %q, recorded %q", h, resp.Header.Get(h), ex.Response.Headers[h])
				}
			}
			var want, got any
			if json.Unmarshal(ex.Response.Body, &want) != nil {
				return
			}
			if s, ok := want.(string); ok {
				if string(raw) != s {
					t.Errorf("body %q, recorded %q", raw, s)
				}
				return
			}
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("body is not JSON: %s", raw)
			}
			if m, ok := want.(map[string]any); ok && len(m) == 1 && m["message"] != nil && resp.StatusCode >= 400 {
				if mapIDs(fmt.Sprint(m["message"])) != fmt.Sprint(got.(map[string]any)["message"]) {
					t.Errorf("message %q, recorded %q", got.(map[string]any)["message"], m["message"])
				}
			}
			shape(t, "", got, want)
			// Learn the ids the fake gave to what the recording created.
			if g, ok := got.(map[string]any); ok && ex.Request.Method == http.MethodPost && g["id"] != nil {
				if w, ok := want.(map[string]any); ok && w["id"] != nil {
					ids[fmt.Sprint(w["id"])] = fmt.Sprint(g["id"])
				}
			}
		})
	}
	if replayed < 40 {
		t.Errorf("only %d recordings replayed", replayed)
	}
}
