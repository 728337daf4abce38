package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/influencegen/influencegen/n8n/n8ntest"
	"github.com/influencegen/influencegen/odoo/odootest"
	"github.com/influencegen/influencegen/ui/cli"
)

// TestServeSyncsACompletedRequestToOdooWithinTwoSeconds is issue 5's
// "done when": serve receives a callback, and within 2 s the fake Odoo
// holds the request record in state completed and an attachment whose
// bytes hash to the local image's sha256. Then Odoo goes down for a while:
// a second request completes meanwhile, nothing is lost, and after
// recovery both records exist exactly once.
func TestServeSyncsACompletedRequestToOdooWithinTwoSeconds(t *testing.T) {
	const token = "e2e-callback-token"
	fake := n8ntest.New(t, n8ntest.Options{})
	erp := odootest.New(t, odootest.Config{})
	listen := freeAddr(t)
	t.Setenv("INFLUENCEGEN_HOME", t.TempDir())
	t.Setenv("INFLUENCEGEN_PROFILE", "e2e")
	t.Setenv("INFLUENCEGEN_CALLBACK_TOKEN", token)
	t.Setenv("INFLUENCEGEN_N8N_API_KEY", "test-api-key")
	t.Setenv("INFLUENCEGEN_N8N_WEBHOOK_URL", fake.WebhookURL)
	t.Setenv("INFLUENCEGEN_CALLBACK_LISTEN", listen)
	t.Setenv("INFLUENCEGEN_ODOO_URL", erp.URL)
	t.Setenv("INFLUENCEGEN_ODOO_DATABASE", erp.Database())
	t.Setenv("INFLUENCEGEN_ODOO_API_KEY", erp.Key())

	pic := pngBytes(t)
	sum := sha256.Sum256(pic)
	callbackStatus := make(chan int, 2)
	fake.CallbackFirst(token, func(id string) []byte {
		b, _ := json.Marshal(map[string]any{"ai_generation_request_id": id, "status": "success",
			"image_base64": base64.StdEncoding.EncodeToString(pic), "image_format": "png", "seed": 7})
		return b
	}, func(status int, err error) { callbackStatus <- status })

	ctx, cancel := context.WithCancel(context.Background())
	serveDone := make(chan int, 1)
	var serveOut syncBuffer
	go func() {
		env := cli.DefaultEnv(cli.BuildInfo{Version: "e2e"}, wiring())
		var serveErr syncBuffer
		env.Stdout, env.Stderr = &serveOut, &serveErr
		root := cli.NewRoot(env, nil)
		root.SetArgs([]string{"serve"})
		serveDone <- cli.Execute(ctx, root, env)
	}()
	defer func() {
		cancel()
		select {
		case <-serveDone:
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop within 15 s of its context ending")
		}
	}()
	waitFor(t, 20*time.Second, func() bool { return len(serveOut.String()) > 0 })

	generate := func() string {
		t.Helper()
		code, out, errOut := runCLI(context.Background(), "generate", "--prompt", "a red fox", "--json")
		if code != 0 {
			t.Fatalf("generate exited %d: %s %s", code, out, errOut)
		}
		var sent []struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal([]byte(out), &sent); err != nil || len(sent) != 1 {
			t.Fatalf("generate --json printed %q: %v", out, err)
		}
		if st := <-callbackStatus; st != http.StatusOK {
			t.Fatalf("the callback got %d, want 200", st)
		}
		return sent[0].ID
	}
	// synced reports whether Odoo holds request id, completed, with one
	// attachment hashing to the image's sha256.
	synced := func(id string) bool {
		var odooID int64
		for _, r := range erp.Records("influence_gen.ai_image_generation_request") {
			if r["external_id"] == id && r["state"] == "completed" {
				odooID = asInt64(r["id"])
			}
		}
		if odooID == 0 {
			return false
		}
		for _, a := range erp.Records("ir.attachment") {
			if asInt64(a["res_id"]) == odooID {
				data, _ := erp.AttachmentData(asInt64(a["id"]))
				got := sha256.Sum256(data)
				return hex.EncodeToString(got[:]) == hex.EncodeToString(sum[:])
			}
		}
		return false
	}

	first := generate()
	callbackAt := time.Now()
	waitFor(t, 2*time.Second, func() bool { return synced(first) })
	t.Logf("synced to Odoo %s after the callback", time.Since(callbackAt).Round(time.Millisecond))

	erp.SetDown(true)
	second := generate()
	waitFor(t, 10*time.Second, func() bool {
		code, out, _ := runCLI(context.Background(), "sync", "status", "--json")
		var st struct {
			Pending   int    `json:"pending"`
			LastError string `json:"last_error"`
		}
		return code == 0 && json.Unmarshal([]byte(out), &st) == nil && st.Pending > 0 && st.LastError != ""
	})
	erp.SetDown(false)
	// The worker backs off (1 s, 2 s, …); recovery is seen on its next try.
	waitFor(t, 30*time.Second, func() bool { return synced(second) })
	counts := map[string]int{}
	for _, r := range erp.Records("influence_gen.ai_image_generation_request") {
		counts[r["external_id"].(string)]++
	}
	if counts[first] != 1 || counts[second] != 1 || len(erp.Records("ir.attachment")) != 2 {
		t.Fatalf("Odoo holds records %v and %d attachments, want each request once with one attachment", counts, len(erp.Records("ir.attachment")))
	}
}

// asInt64 reads an id from the fake's raw rows (int64 ids, float64 JSON numbers).
func asInt64(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	}
	return 0
}
