package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/influencegen/influencegen/n8n/n8ntest"
	"github.com/influencegen/influencegen/odoo/odootest"
	"github.com/influencegen/influencegen/ui/cli"
)

// TestTwoServeHostsShareTheOdooQueue is issue 15's "done when" against the
// fake Odoo (TestRealOdooTwoServeHosts: a real one): 20 requests made in Odoo, two `serve` processes (in this
// process, each with its own home and its own fake n8n) taking work from
// the same Odoo. All 20 end completed in Odoo with their image, and each
// request id reached exactly one n8n, once.
func TestTwoServeHostsShareTheOdooQueue(t *testing.T) {
	erp := odootest.New(t, odootest.Config{})
	runTwoHosts(t, queueOdoo{
		url: erp.URL, database: erp.Database(), hostKey: erp.Key(),
		generate: func(n int) []string {
			var exts []string
			for i := range n {
				exts = append(exts, erp.Generate(fmt.Sprintf("a red fox %d", i), "Alice", nil))
			}
			return exts
		},
		read: func(exts []string) map[string]odooState {
			want := map[string]bool{}
			for _, e := range exts {
				want[e] = true
			}
			images := map[int64]int{}
			for _, img := range erp.Records("influence_gen.generated_image") {
				images[asInt64(img["request_id"])]++
			}
			out := map[string]odooState{}
			for _, r := range erp.Records("influence_gen.ai_image_generation_request") {
				if ext, _ := r["external_id"].(string); want[ext] {
					state, _ := r["state"].(string)
					out[ext] = odooState{state: state, images: images[asInt64(r["id"])]}
				}
			}
			return out
		},
	})
}

// queueOdoo is the Odoo the two hosts share: the fake, or a real one.
type queueOdoo struct {
	url, database, hostKey string
	generate               func(n int) []string // n requests made in Odoo, their external ids
	read                   func(exts []string) map[string]odooState
}

type odooState struct {
	state  string
	images int
}

func runTwoHosts(t *testing.T, erp queueOdoo) {
	const token = "e2e-callback-token"
	t.Setenv("INFLUENCEGEN_PROFILE", "e2e-queue")
	t.Setenv("INFLUENCEGEN_CALLBACK_TOKEN", token)
	t.Setenv("INFLUENCEGEN_N8N_API_KEY", "test-api-key")
	t.Setenv("INFLUENCEGEN_ODOO_API_KEY", erp.hostKey)
	pic := pngBytes(t)
	body := func(id string) []byte {
		b, _ := json.Marshal(map[string]any{"ai_generation_request_id": id, "status": "success",
			"image_base64": base64.StdEncoding.EncodeToString(pic), "image_format": "png", "seed": 7})
		return b
	}
	exts := erp.generate(20)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	var fakes []*n8ntest.Server
	var homes []string
	for h := range 2 {
		fake := n8ntest.New(t, n8ntest.Options{})
		fake.CallbackFirst(token, body, nil)
		fakes = append(fakes, fake)
		home := t.TempDir()
		homes = append(homes, home)
		conf := fmt.Sprintf("[n8n]\nwebhook_url = %q\n\n[callback]\nlisten = %q\n\n[odoo]\nurl = %q\ndatabase = %q\n"+
			"accept_requests = true\npoll_interval = \"100ms\"\n", fake.WebhookURL, freeAddr(t), erp.url, erp.database)
		if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			env := cli.DefaultEnv(cli.BuildInfo{Version: "e2e"}, wiring())
			var out, errOut syncBuffer
			env.Stdout, env.Stderr = &out, &errOut
			root := cli.NewRoot(env, nil)
			root.SetArgs([]string{"--home", home, "serve"})
			if code := cli.Execute(ctx, root, env); code != 0 && ctx.Err() == nil {
				t.Errorf("serve %d exited %d: %s", h, code, errOut.String())
			}
		})
	}
	completed := func() int {
		n := 0
		for _, st := range erp.read(exts) {
			if st.state == "completed" && st.images == 1 {
				n++
			}
		}
		return n
	}
	start := time.Now()
	waitFor(t, 30*time.Second, func() bool { return completed() == len(exts) })
	t.Logf("all %d completed in Odoo, each with its image, %s after both hosts started", len(exts), time.Since(start).Round(time.Millisecond))

	sent := map[string]int{}
	perHost := make([]int, len(fakes))
	for i, f := range fakes {
		for _, r := range f.Requests() {
			id, _ := r.JSON()["ai_generation_request_id"].(string)
			sent[id]++
			perHost[i]++
		}
	}
	for _, ext := range exts {
		if sent[ext] != 1 {
			t.Errorf("%s reached n8n %d times, want exactly once", ext, sent[ext])
		}
	}
	if len(sent) != len(exts) {
		t.Errorf("n8n got %d distinct ids, want %d", len(sent), len(exts))
	}
	t.Logf("host a sent %d, host b sent %d", perHost[0], perHost[1])

	// status --team on host a's home lists what host b ran.
	env := cli.DefaultEnv(cli.BuildInfo{Version: "e2e"}, wiring())
	var out, errOut syncBuffer
	env.Stdout, env.Stderr = &out, &errOut
	root := cli.NewRoot(env, nil)
	root.SetArgs([]string{"--home", homes[0], "status", "--team", "--json", "--limit", "1000"})
	if code := cli.Execute(context.Background(), root, env); code != 0 {
		t.Fatalf("status --team exited %d: %s", code, errOut.String())
	}
	var team struct {
		Requests []struct {
			ID    string `json:"id"`
			Host  string `json:"host"`
			State string `json:"state"`
		} `json:"requests"`
	}
	if err := json.Unmarshal([]byte(out.String()), &team); err != nil {
		t.Fatalf("status --team --json printed %q: %v", out.String(), err)
	}
	hosts := map[string]int{}
	for _, r := range team.Requests {
		if sent[r.ID] == 1 && r.State == "completed" {
			hosts[r.Host]++
		}
	}
	if len(hosts) != 2 {
		t.Errorf("status --team on host a lists the requests of hosts %v, want both hosts'", hosts)
	}
}
