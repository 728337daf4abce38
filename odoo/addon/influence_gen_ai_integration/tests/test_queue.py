"""Requests made in Odoo and the hosts' queue (issue 15 §1-2).

Run with: odoo-bin ... --test-tags /influence_gen_ai_integration
"""
import base64
import datetime

from odoo import api, fields
from odoo.exceptions import AccessError, UserError
from odoo.modules.registry import Registry
from odoo.tests import TransactionCase, common, new_test_user, tagged

from ..models import params

REQUEST = "influence_gen.ai_image_generation_request"


def publish(env, names=("sdxl", "flux"), default="sdxl", resolution="1024x1024"):
    env["influence_gen.ai_model"].influencegen_publish(list(names), default, resolution)


@tagged("post_install", "-at_install")
class TestGenerate(TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        publish(cls.env)
        cls.alice = new_test_user(cls.env, login="ig_alice", name="Alice Adams", groups="base.group_user")
        cls.bob = new_test_user(cls.env, login="ig_bob", name="Bob Brown", groups="base.group_user")
        cls.boss = new_test_user(cls.env, login="ig_boss", name="Boss",
                                 groups="influence_gen_ai_integration.group_influence_gen_manager")

    def draft(self, user=None, **vals):
        vals.setdefault("prompt", "a red cube on a table")
        return self.env[REQUEST].with_user(user or self.alice).create(vals)

    def test_a_draft_made_in_odoo_is_generated_with_an_app_id(self):
        req = self.draft(resolution="1152x896", seed="7", num_images=2)
        self.assertEqual((req.state, req.origin, req.external_id), ("draft", "odoo", False))
        self.assertEqual(req.name, "a red cube on a table")
        req.action_generate()
        self.assertEqual(req.state, "queued")
        self.assertEqual(len(req.external_id), 26)
        self.assertTrue(set(req.external_id) <= set(params.CROCKFORD) and req.external_id[0] <= "7")
        self.assertEqual((req.requested_by, req.ai_model, req.width, req.height, req.aspect_ratio, req.seed),
                         ("Alice Adams", "sdxl", 1152, 896, "5:4", "7"))  # the app names the closest common ratio
        self.assertEqual(req.num_images, 2)

    def test_sizes_follow_the_app_rules(self):
        cases = [({"aspect_ratio": "16:9"}, (1368, 768, "16:9")),  # app: SizeForAspect(16, 9, 1024*1024)
                 ({}, (1024, 1024, "1:1")),
                 ({"resolution": "832x1216"}, (832, 1216, "2:3"))]
        for vals, want in cases:
            with self.subTest(vals=vals):
                req = self.draft(**vals)
                req.action_generate()
                self.assertEqual((req.width, req.height, req.aspect_ratio), want)

    def test_a_random_seed_is_drawn_and_kept(self):
        for seed in ("", "-1", "random"):
            req = self.draft(seed=seed)
            req.action_generate()
            self.assertTrue(0 <= int(req.seed) <= params.MAX_SEED)

    def test_invalid_drafts_name_the_field_and_stay_drafts(self):
        bad = [({"prompt": "   "}, "prompt"), ({"prompt": "x" * 4001}, "prompt"),
               ({"negative_prompt": "y" * 4001}, "negative_prompt"),
               ({"resolution": "1020x1020"}, "resolution"), ({"resolution": "32x32"}, "resolution"),
               ({"resolution": "big"}, "resolution"), ({"aspect_ratio": "0:1"}, "aspect_ratio"),
               ({"resolution": "1024x1024", "aspect_ratio": "16:9"}, "aspect_ratio"),
               ({"seed": "4294967296"}, "seed"), ({"seed": "-5"}, "seed"), ({"seed": "abc"}, "seed"),
               ({"num_images": 0}, "num_images"), ({"num_images": 17}, "num_images")]
        for vals, field in bad:
            with self.subTest(vals=vals):
                req = self.draft(**vals)
                with self.assertRaises(UserError) as cm:
                    req.action_generate()
                self.assertTrue(str(cm.exception).startswith(field + ":"), str(cm.exception))
                self.assertEqual((req.state, req.external_id), ("draft", False))

    def test_the_limits_themselves_are_accepted(self):
        req = self.draft(prompt="p" * 4000, seed="4294967295", num_images=16, resolution="4096x64")
        req.action_generate()
        self.assertEqual((req.state, req.seed, req.num_images), ("queued", "4294967295", 16))

    def test_a_model_no_host_offers_is_refused(self):
        model = self.env["influence_gen.ai_model"].search([("name", "=", "flux")])
        req = self.draft(ai_model_id=model.id)
        publish(self.env, names=("sdxl",))
        with self.assertRaises(UserError) as cm:
            req.action_generate()
        self.assertTrue(str(cm.exception).startswith("model:"))

    def test_publishing_again_changes_nothing_and_keeps_order(self):
        Model = self.env["influence_gen.ai_model"]
        publish(self.env, names=("b", "a"), default="a")
        self.assertEqual(Model.search([]).mapped("name"), ["b", "a"])
        self.assertEqual(Model._influencegen_default().name, "a")
        self.assertFalse(Model.search([("name", "=", "sdxl")]))

    def test_only_a_draft_is_generated_or_edited(self):
        req = self.draft()
        req.action_generate()
        ext = req.external_id
        with self.assertRaises(UserError):
            req.action_generate()
        with self.assertRaises(UserError):
            req.write({"prompt": "changed"})
        self.assertEqual(req.external_id, ext)

    def test_a_user_cannot_set_state_or_claims_directly(self):
        req = self.draft(state="completed", origin="app", claimed_by="me")
        self.assertEqual((req.state, req.origin, req.claimed_by), ("draft", "odoo", False))
        with self.assertRaises(AccessError):
            req.write({"state": "queued"})
        with self.assertRaises(AccessError):
            req.write({"claimed_by": "me"})

    def test_an_internal_user_key_still_syncs_the_apps_requests(self):
        # Before 19.0.1.2.0 the app's key needed only Internal User; it still does.
        Alice = self.env[REQUEST].with_user(self.alice)
        at1, at2 = "2026-11-28T10:00:00.000000001Z", "2026-11-28T10:00:00.000000002Z"
        [made] = Alice.influencegen_upsert([{"name": "n", "external_id": "01JREQ0000000000000000000W", "prompt": "p",
                                             "state": "processing", "app_updated_at": at1, "origin": "odoo"}])
        [done] = Alice.influencegen_upsert([{"external_id": "01JREQ0000000000000000000W", "state": "completed",
                                             "app_updated_at": at2}])
        rec = self.env[REQUEST].browse(made["id"])
        self.assertTrue(done["written"])
        self.assertEqual((rec.state, rec.origin), ("completed", "app"))
        with self.assertRaises(AccessError):
            rec.with_user(self.alice).write({"claimed_by": "me"})
        png = base64.b64encode(b"\x89PNG\r\n\x1a\n-not-really").decode()
        [img] = self.env["influence_gen.generated_image"].with_user(self.alice).influencegen_attach([{
            "name": "w.png", "request_id": rec.id, "sha256": "b" * 64, "mimetype": "image/png", "datas": png}])
        self.assertTrue(img["created"])

    def test_cancel_ends_a_draft_or_an_unclaimed_request_and_flags_a_claimed_one(self):
        draft = self.draft()
        draft.action_cancel()
        self.assertEqual(draft.state, "cancelled")
        queued = self.draft()
        queued.action_generate()
        queued.action_cancel()
        self.assertEqual((queued.state, queued.cancel_requested), ("cancelled", False))
        taken = self.draft()
        taken.action_generate()
        [claim] = self.env[REQUEST].influence_gen_claim("host-a", 10)["requests"]
        self.assertEqual(claim["external_id"], taken.external_id)
        taken.action_cancel()
        self.assertEqual((taken.state, taken.cancel_requested), ("queued", True))
        # The host that runs it learns it on its next claim, others do not.
        self.assertEqual(self.env[REQUEST].influence_gen_claim("host-a", 10)["cancel"], [taken.external_id])
        self.assertEqual(self.env[REQUEST].influence_gen_claim("host-b", 10)["cancel"], [])
        with self.assertRaises(UserError):
            draft.action_cancel()

    def test_users_read_everyones_requests_but_change_only_their_own(self):
        mine, theirs = self.draft(self.alice), self.draft(self.bob)
        Alice = self.env[REQUEST].with_user(self.alice)
        self.assertEqual(set(Alice.search([("id", "in", (mine | theirs).ids)]).ids), {mine.id, theirs.id})
        self.assertEqual(theirs.with_user(self.alice).prompt, "a red cube on a table")
        for action in ("action_generate", "action_cancel"):
            with self.subTest(action=action), self.assertRaises(AccessError):
                getattr(theirs.with_user(self.alice), action)()
        with self.assertRaises(AccessError):
            theirs.with_user(self.alice).write({"prompt": "mine now"})
        self.assertEqual(theirs.state, "draft")
        # A manager acts on all.
        theirs.with_user(self.boss).action_generate()
        self.assertEqual(theirs.state, "queued")
        theirs.with_user(self.boss).action_cancel()
        self.assertEqual(theirs.state, "cancelled")

    def test_only_hosts_claim(self):
        with self.assertRaises(AccessError):
            self.env[REQUEST].with_user(self.alice).influence_gen_claim("laptop", 5)
        self.assertEqual(self.env[REQUEST].with_user(self.boss).influence_gen_claim("laptop", 5), {"requests": [], "cancel": []})

    def test_app_records_are_never_claimed(self):
        self.env[REQUEST].influencegen_upsert([{
            "name": "app", "external_id": "01JREQ0000000000000000000Q", "prompt": "p", "state": "queued",
            "app_updated_at": "2026-11-28T10:00:00.000000000Z"}])
        rec = self.env[REQUEST].search([("external_id", "=", "01JREQ0000000000000000000Q")])
        self.assertEqual(rec.origin, "app")
        self.assertEqual(self.env[REQUEST].influence_gen_claim("host-a", 10)["requests"], [])


@tagged("post_install", "-at_install")
class TestClaimExpiry(TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        publish(cls.env)
        cls.Request = cls.env[REQUEST]

    def queued(self, n):
        reqs = self.Request.create([{"prompt": f"cube {i}"} for i in range(n)])
        reqs.action_generate()
        return reqs

    def age_claims(self, reqs, seconds):
        reqs.flush_recordset()
        self.env.cr.execute("UPDATE influence_gen_ai_image_generation_request SET claimed_at = claimed_at - %s "
                            "WHERE id IN %s", (datetime.timedelta(seconds=seconds), tuple(reqs.ids)))
        reqs.invalidate_recordset()

    def test_a_claim_without_progress_is_released_after_the_timeout(self):
        reqs = self.queued(3)
        got = self.Request.influence_gen_claim("host-a", 10, 600)["requests"]
        self.assertEqual([g["external_id"] for g in got], reqs.mapped("external_id"))
        self.assertTrue(all(g["claimed_by"] == "host-a" and g["claimed_at"] for g in got))
        self.assertEqual(self.Request.influence_gen_claim("host-b", 10, 600)["requests"], [])
        # host-a sent the first (synced "sending"); the others stay queued.
        reqs[0].write({"state": "sending"})
        self.age_claims(reqs, 601)
        again = self.Request.influence_gen_claim("host-b", 10, 600)["requests"]
        self.assertEqual([g["external_id"] for g in again], reqs[1:].mapped("external_id"))
        self.assertEqual(reqs.mapped("claimed_by"), ["host-a", "host-b", "host-b"])

    def test_a_fresh_claim_is_kept(self):
        reqs = self.queued(1)
        self.Request.influence_gen_claim("host-a", 10, 600)["requests"]
        self.age_claims(reqs, 599)
        self.assertEqual(self.Request.influence_gen_claim("host-b", 10, 600)["requests"], [])

    def test_a_host_gets_its_own_claims_again_with_the_first_claim_time(self):
        reqs = self.queued(2)
        [first, _] = self.Request.influence_gen_claim("host-a", 10, 600)["requests"]
        self.age_claims(reqs, 30)
        again = self.Request.influence_gen_claim("host-a", 10, 600)["requests"]
        self.assertEqual([g["external_id"] for g in again], reqs.mapped("external_id"))
        self.assertLess(again[0]["claimed_at"], first["claimed_at"])

    def test_a_host_claims_only_models_it_offers(self):
        publish(self.env)
        flux = self.env["influence_gen.ai_model"].search([("name", "=", "flux")])
        sdxl_req = self.queued(1)
        flux_req = self.Request.create({"prompt": "a flux cube", "ai_model_id": flux.id})
        flux_req.action_generate()
        got = self.Request.influence_gen_claim("sdxl-only", 10, 600, ["sdxl"])["requests"]
        self.assertEqual([g["id"] for g in got], sdxl_req.ids)
        got = self.Request.influence_gen_claim("flux-host", 10, 600, ["flux", "other"])["requests"]
        self.assertEqual([g["id"] for g in got], flux_req.ids)

    def test_limit_is_honoured_oldest_first(self):
        reqs = self.queued(5)
        got = self.Request.influence_gen_claim("host-a", 2, 600)["requests"]
        self.assertEqual([g["id"] for g in got], reqs[:2].ids)


@tagged("post_install", "-at_install")
class TestClaimTwoCursors(common.BaseCase):
    """Two hosts claiming at the same moment, on two real transactions."""

    def test_concurrent_claims_never_share_a_request(self):
        registry = Registry(common.get_db_name())
        with registry.cursor() as cr:
            env = api.Environment(cr, common.ADMIN_USER_ID, {})
            publish(env)
            reqs = env[REQUEST].create([{"prompt": f"two cursors {i}"} for i in range(6)])
            reqs.action_generate()
            ids = reqs.ids
            cr.commit()
        try:
            cr_a, cr_b = registry.cursor(), registry.cursor()
            try:
                env_a = api.Environment(cr_a, common.ADMIN_USER_ID, {})
                env_b = api.Environment(cr_b, common.ADMIN_USER_ID, {})
                got_a = env_a[REQUEST].influence_gen_claim("host-a", 4, 600)["requests"]
                # host-a has not committed: its rows are locked, host-b skips
                # them instead of waiting, and takes the rest.
                got_b = env_b[REQUEST].influence_gen_claim("host-b", 4, 600)["requests"]
                cr_a.commit()
                cr_b.commit()
            finally:
                cr_a.close()
                cr_b.close()
            a = {g["id"] for g in got_a} & set(ids)
            b = {g["id"] for g in got_b} & set(ids)
            self.assertEqual(len(a), 4)
            self.assertEqual(len(b), 2)
            self.assertFalse(a & b)
            with registry.cursor() as cr:
                env = api.Environment(cr, common.ADMIN_USER_ID, {})
                owners = {r.id: r.claimed_by for r in env[REQUEST].browse(ids)}
            self.assertEqual(owners, {**{i: "host-a" for i in a}, **{i: "host-b" for i in b}})
        finally:
            with registry.cursor() as cr:
                cr.execute("DELETE FROM influence_gen_ai_image_generation_request WHERE id IN %s", (tuple(ids),))
                cr.commit()
