package odoo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/influencegen/influencegen/app"
	"github.com/influencegen/influencegen/odoo"
	"github.com/influencegen/influencegen/odoo/odootest"
	"github.com/influencegen/influencegen/store"
)

const imageModel = "influence_gen.generated_image"

// odooImage returns the fake's generated_image row with sha256.
func odooImage(t *testing.T, fake *odootest.Server, sha string) map[string]any {
	t.Helper()
	for _, r := range fake.Records(imageModel) {
		if r["sha256"] == sha {
			return r
		}
	}
	t.Fatalf("no generated_image %s in Odoo", sha)
	return nil
}

// decide records a decision at the clock's time, as Service does.
func decide(t *testing.T, st *store.DB, clock app.Clock, imageID int64, fav *bool, verdict app.Approval, by string) {
	t.Helper()
	d := app.ImageDecision{ImageID: imageID, Favorite: fav, By: by, At: clock.Now()}
	if verdict != "" {
		d.Approval = &verdict
	}
	if _, err := st.DecideImage(context.Background(), d); err != nil {
		t.Fatal(err)
	}
}

func imagesOf(t *testing.T, st *store.DB, reqs []app.Request) []app.Image {
	t.Helper()
	var out []app.Image
	for _, r := range reqs {
		ims, err := st.Images(context.Background(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ims...)
	}
	return out
}

func TestApprovalAndFavouriteReachOdooWithWhoAndWhenAndTheRequestsChatter(t *testing.T) {
	for _, protocol := range []string{odoo.ProtocolJSON2, odoo.ProtocolJSONRPC} {
		t.Run(protocol, func(t *testing.T) {
			clock := newFakeClock()
			st, files := openStore(t, clock)
			reqs := seed(t, st, files, clock, 2, true, 8)
			fake := odootest.New(t, odootest.Config{})
			s := newSyncer(t, st, fake, clock, protocol, nil)
			drain(t, s, 5)
			ims := imagesOf(t, st, reqs)
			on := true
			clock.Advance(time.Second)
			decide(t, st, clock, ims[0].ID, nil, app.ApprovalApproved, "alice")
			decide(t, st, clock, ims[1].ID, &on, "", "alice")
			// One upsert of the two requests and one influencegen_decide.
			if rep := drain(t, s, 5); rep.Done != 2 || rep.Parked != 0 || rep.RPCs != 2 {
				t.Fatalf("decision sync = %+v, want two decisions done in two RPCs", rep)
			}
			first, second := odooImage(t, fake, ims[0].SHA256), odooImage(t, fake, ims[1].SHA256)
			if first["approval_state"] != "approved" || first["approved_by"] != "alice" || first["approved_at"] != "2026-11-27 13:00:01" || first["favorite"] != false {
				t.Errorf("approved image in Odoo = %v", first)
			}
			if second["favorite"] != true || second["approval_state"] != "undecided" {
				t.Errorf("starred image in Odoo = %v", second)
			}
			notes := fake.Chatter()
			if len(notes) != 2 || !strings.Contains(notes[0].Body, "approved") {
				t.Errorf("chatter = %+v, want one note per decision", notes)
			}
		})
	}
}

func TestADecisionMadeWhileOdooIsDownSyncsLaterAndTheLatestWins(t *testing.T) {
	clock := newFakeClock()
	st, files := openStore(t, clock)
	reqs := seed(t, st, files, clock, 1, true, 8)
	fake := odootest.New(t, odootest.Config{})
	s := newSyncer(t, st, fake, clock, odoo.ProtocolJSON2, nil)
	drain(t, s, 5)
	im := imagesOf(t, st, reqs)[0]
	fake.SetDown(true)
	decide(t, st, clock, im.ID, nil, app.ApprovalApproved, "alice")
	if rep, err := s.RunOnce(context.Background()); err != nil || rep.Retry == 0 || rep.Done != 0 {
		t.Fatalf("while Odoo is down: %+v, %v", rep, err)
	}
	clock.Advance(time.Minute)
	decide(t, st, clock, im.ID, nil, app.ApprovalRejected, "bob")
	fake.SetDown(false)
	clock.Advance(5 * time.Minute)
	if rep := drain(t, s, 5); rep.Parked != 0 {
		t.Fatalf("after the outage: %+v", rep)
	}
	if got := odooImage(t, fake, im.SHA256); got["approval_state"] != "rejected" || got["approved_by"] != "bob" {
		t.Errorf("Odoo after the outage = %v, want bob's later rejection", got)
	}
}

func TestAnOlderLocalDecisionDoesNotOverwriteANewerOneInOdoo(t *testing.T) {
	clock := newFakeClock()
	st, files := openStore(t, clock)
	reqs := seed(t, st, files, clock, 1, true, 8)
	fake := odootest.New(t, odootest.Config{})
	s := newSyncer(t, st, fake, clock, odoo.ProtocolJSON2, nil)
	drain(t, s, 5)
	im := imagesOf(t, st, reqs)[0]
	// Another machine approved it an hour from now (its clock), and its
	// sync got there first.
	c := newClient(t, fake, odoo.ProtocolJSON2)
	var res []map[string]any
	if err := c.Call(context.Background(), imageModel, odoo.DecideMethod, nil, []odoo.Arg{odoo.Pos("vals_list", []map[string]any{{
		"request_id": odooImage(t, fake, im.SHA256)["request_id"], "sha256": im.SHA256, "favorite": false,
		"approval_state": "approved", "approved_by": "carol", "approved_at": "2026-11-27 14:00:00",
		"app_decided_at": "2026-11-27T14:00:00.000000000Z"}})}, &res); err != nil {
		t.Fatal(err)
	}
	decide(t, st, clock, im.ID, nil, app.ApprovalRejected, "alice") // 13:00, older
	if rep := drain(t, s, 5); rep.Parked != 0 || rep.Retry != 0 {
		t.Fatalf("sync = %+v", rep)
	}
	if got := odooImage(t, fake, im.SHA256); got["approval_state"] != "approved" || got["approved_by"] != "carol" {
		t.Errorf("Odoo = %v, want carol's newer approval kept", got)
	}
}

func TestADecisionAgainstAnAddonWithoutCurationParksUntilTheAddonIsUpgraded(t *testing.T) {
	clock := newFakeClock()
	st, files := openStore(t, clock)
	reqs := seed(t, st, files, clock, 1, true, 8)
	fake := odootest.New(t, odootest.Config{NoCuration: true})
	s := newSyncer(t, st, fake, clock, odoo.ProtocolJSON2, nil)
	drain(t, s, 5)
	im := imagesOf(t, st, reqs)[0]
	decide(t, st, clock, im.ID, nil, app.ApprovalApproved, "alice")
	rep := drain(t, s, 5)
	if rep.Parked != 1 || !strings.Contains(rep.LastError, "upgrade it") || !strings.Contains(rep.LastError, odoo.AddonVersion) {
		t.Fatalf("sync = %+v, want the decision parked with the upgrade hint", rep)
	}
	// odoo-bin -u, then `influencegen sync retry`: the parked decision lands.
	fake.UpgradeCuration()
	if got := odooImage(t, fake, im.SHA256); got["approval_state"] != "undecided" {
		t.Fatalf("an image stored before the upgrade = %v, want undecided", got)
	}
	if _, err := st.OutboxRequeue(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if rep := drain(t, s, 5); rep.Done != 1 || rep.Parked != 0 {
		t.Fatalf("after the upgrade: %+v", rep)
	}
	if got := odooImage(t, fake, im.SHA256); got["approval_state"] != "approved" {
		t.Errorf("after the upgrade Odoo holds %v", got)
	}
}

func TestABatchsRequestsCarryTheirBatchRef(t *testing.T) {
	clock := newFakeClock()
	st, _ := openStore(t, clock)
	batch := app.NewID(clock.Now())
	reqs := []app.Request{
		{ID: app.NewID(clock.Now()), Params: app.GenerationParams{Prompt: "one", Model: "sdxl", Width: 8, Height: 8, Seed: 1, NumImages: 1}, BatchID: batch},
		{ID: app.NewID(clock.Now()), Params: app.GenerationParams{Prompt: "two", Model: "sdxl", Width: 8, Height: 8, Seed: 2, NumImages: 1}},
	}
	if err := st.CreateRequests(context.Background(), reqs); err != nil {
		t.Fatal(err)
	}
	fake := odootest.New(t, odootest.Config{})
	drain(t, newSyncer(t, st, fake, clock, odoo.ProtocolJSON2, nil), 5)
	got := map[string]any{}
	for _, r := range fake.Records("influence_gen.ai_image_generation_request") {
		got[r["external_id"].(string)] = r["batch_ref"]
	}
	if got[reqs[0].ID] != batch || (got[reqs[1].ID] != nil && got[reqs[1].ID] != false) {
		t.Errorf("batch_ref = %v, want %s on the first and none on the second", got, batch)
	}
}
