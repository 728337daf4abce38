package cli

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/odoo"
)

// TestRealOdooCLIApproveAndFavouriteShowInTheGallery is issue 14's
// done-when on a real Odoo 19 with the addon 19.0.1.3.0 (opt-in, like
// odoo/realodoo_test.go: INFLUENCEGEN_TEST_ODOO_URL, _DATABASE, _API_KEY):
// approve one image of a 2-image result and star the other with the CLI;
// within 10 s Odoo shows approval_state = approved on the first and
// favorite = true on the second, the Gallery (kanban) lists both, its
// Approved and Favourites filters find one each, and the request's chatter
// names the decisions.
func TestRealOdooCLIApproveAndFavouriteShowInTheGallery(t *testing.T) {
	url := os.Getenv("INFLUENCEGEN_TEST_ODOO_URL")
	if url == "" {
		t.Skip("INFLUENCEGEN_TEST_ODOO_URL not set: no real Odoo to test against")
	}
	db, key := os.Getenv("INFLUENCEGEN_TEST_ODOO_DATABASE"), os.Getenv("INFLUENCEGEN_TEST_ODOO_API_KEY")
	rig := &syncRig{t: t, home: t.TempDir(), environ: map[string]string{
		"INFLUENCEGEN_ODOO_URL": url, "INFLUENCEGEN_ODOO_DATABASE": db, "INFLUENCEGEN_ODOO_API_KEY": key}}
	c, err := odoo.New(odoo.Options{URL: url, Database: db, Username: "admin", Protocol: odoo.ProtocolJSON2,
		Key: func(context.Context) (string, error) { return key, nil }, HTTP: &http.Client{Timeout: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	req, ims := rig.seedResult(2, fmt.Sprintf("curation e2e %d", time.Now().UnixNano()))
	if code, out, errOut := rig.run("sync", "now"); code != 0 {
		t.Fatalf("sync now: exit %d\n%s%s", code, out, errOut)
	}
	start := time.Now()
	if code, out, errOut := rig.run("image", "approve", fmt.Sprint(ims[0].ID)); code != 0 {
		t.Fatalf("image approve: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := rig.run("image", "favorite", ims[1].SHA256[:12]); code != 0 {
		t.Fatalf("image favorite: exit %d\n%s%s", code, out, errOut)
	}
	var reqs []odoo.Record
	if err := odoo.SearchRead(ctx, c, "influence_gen.ai_image_generation_request", []any{[]any{"external_id", "=", req.ID}}, []string{"id"}, 0, &reqs); err != nil || len(reqs) != 1 {
		t.Fatalf("request record: %v, %v", reqs, err)
	}
	odooReq := reqs[0].ID()
	read := func(extra ...any) map[string]odoo.Record {
		domain := append([]any{[]any{"request_id", "=", odooReq}}, extra...)
		var recs []odoo.Record
		if err := odoo.SearchRead(ctx, c, "influence_gen.generated_image", domain, []string{"sha256", "favorite", "approval_state", "approved_by"}, 0, &recs); err != nil {
			t.Fatal(err)
		}
		out := map[string]odoo.Record{}
		for _, r := range recs {
			out[r.String("sha256")] = r
		}
		return out
	}
	deadline := start.Add(10 * time.Second)
	for {
		got := read()
		if got[ims[0].SHA256].String("approval_state") == "approved" && got[ims[1].SHA256]["favorite"] == true {
			t.Logf("Odoo showed both decisions %v after the first CLI call began", time.Since(start).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s Odoo holds %v", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if all := read(); len(all) != 2 {
		t.Errorf("the Gallery's model lists %d images of the request, want 2", len(all))
	}
	if a := read([]any{"approval_state", "=", "approved"}); len(a) != 1 || a[ims[0].SHA256] == nil {
		t.Errorf("Approved filter = %v", a)
	}
	if f := read([]any{"favorite", "=", true}); len(f) != 1 || f[ims[1].SHA256] == nil {
		t.Errorf("Favourites filter = %v", f)
	}
	var views map[string]any
	if err := c.Call(ctx, "influence_gen.generated_image", "get_views", nil,
		[]odoo.Arg{odoo.Pos("views", []any{[]any{false, "kanban"}})}, &views); err != nil {
		t.Fatal(err)
	}
	arch := fmt.Sprint(views["views"].(map[string]any)["kanban"].(map[string]any)["arch"])
	if !strings.Contains(arch, `string="Gallery"`) || !strings.Contains(arch, "boolean_favorite") || !strings.Contains(arch, "approval_state") {
		t.Errorf("kanban arch is not the Gallery: %.300s", arch)
	}
	var notes []odoo.Record
	if err := odoo.SearchRead(ctx, c, "mail.message", []any{[]any{"model", "=", "influence_gen.ai_image_generation_request"}, []any{"res_id", "=", odooReq}},
		[]string{"body"}, 0, &notes); err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, n := range notes {
		bodies = append(bodies, n.String("body"))
	}
	joined := strings.Join(bodies, "\n")
	if !strings.Contains(joined, "Approved") || !strings.Contains(joined, "starred") || !strings.Contains(joined, currentUser()) {
		t.Errorf("request chatter = %s", joined)
	}
}
