package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/odoo"
)

// TestRealOdooTwoServeHosts runs the two-host queue on a real Odoo 19
// with the addon at 19.0.1.2.0 (opt-in): the 20 requests are made by an
// Internal User (create, then action_generate, with
// INFLUENCEGEN_TEST_ODOO_USER_KEY, that user's API key); the hosts use
// INFLUENCEGEN_TEST_ODOO_API_KEY (a user in InfluenceGen / Manager).
func TestRealOdooTwoServeHosts(t *testing.T) {
	url, db := os.Getenv("INFLUENCEGEN_TEST_ODOO_URL"), os.Getenv("INFLUENCEGEN_TEST_ODOO_DATABASE")
	hostKey, userKey := os.Getenv("INFLUENCEGEN_TEST_ODOO_API_KEY"), os.Getenv("INFLUENCEGEN_TEST_ODOO_USER_KEY")
	if url == "" || userKey == "" {
		t.Skip("INFLUENCEGEN_TEST_ODOO_URL / INFLUENCEGEN_TEST_ODOO_USER_KEY not set: no real Odoo to test against")
	}
	client := func(key string) odoo.Client {
		c, err := odoo.New(odoo.Options{URL: url, Database: db, Protocol: odoo.ProtocolJSON2,
			Key: func(context.Context) (string, error) { return key, nil }, HTTP: &http.Client{Timeout: time.Minute}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	user, admin := client(userKey), client(hostKey)
	const model = "influence_gen.ai_image_generation_request"
	ctx := context.Background()
	runTwoHosts(t, queueOdoo{url: url, database: db, hostKey: hostKey,
		generate: func(n int) []string {
			cfg := app.DefaultConfig().Generation
			var published int
			if err := admin.Call(ctx, odoo.ModelModel, odoo.PublishMethod, nil, []odoo.Arg{odoo.Pos("names", cfg.Models),
				odoo.Pos("default_model", cfg.DefaultModel), odoo.Pos("default_resolution", cfg.DefaultResolution)}, &published); err != nil {
				t.Fatal(err)
			}
			vals := make([]map[string]any, n)
			run := time.Now().UnixNano()
			for i := range vals {
				vals[i] = map[string]any{"prompt": fmt.Sprintf("a red fox %d #%d", run, i)}
			}
			ids, err := odoo.Create(ctx, user, model, vals, nil)
			if err != nil {
				t.Fatal(err)
			}
			var ok any
			if err := user.Call(ctx, model, "action_generate", ids, nil, &ok); err != nil {
				t.Fatal(err)
			}
			var rows []odoo.Record
			if err := odoo.SearchRead(ctx, user, model, []any{[]any{"id", "in", ids}}, []string{"external_id", "requested_by"}, 0, &rows); err != nil {
				t.Fatal(err)
			}
			var exts []string
			for _, r := range rows {
				exts = append(exts, r.String("external_id"))
			}
			t.Logf("%d requests generated in Odoo by %q", len(exts), rows[0].String("requested_by"))
			return exts
		},
		read: func(exts []string) map[string]odooState {
			ext := make([]any, len(exts))
			for i, e := range exts {
				ext[i] = e
			}
			var rows []odoo.Record
			if err := odoo.SearchRead(ctx, admin, model, []any{[]any{"external_id", "in", ext}},
				[]string{"external_id", "state", "image_count"}, 0, &rows); err != nil {
				t.Error(err)
				return nil
			}
			out := map[string]odooState{}
			for _, r := range rows {
				n, _ := r["image_count"].(float64)
				out[r.String("external_id")] = odooState{state: r.String("state"), images: int(n)}
			}
			return out
		},
	})
}
