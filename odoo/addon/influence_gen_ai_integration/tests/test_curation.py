"""Curation (19.0.1.3.0, issue 14): decisions synced by the app, made here,
and the Gallery's filters.

Run with: odoo-bin ... --test-tags /influence_gen_ai_integration
"""
import base64

from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged

PNG_1x1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
T1, T2, T3 = ("2026-11-28T10:00:00.000000001Z", "2026-11-28T10:00:00.000000002Z", "2026-11-28T10:00:00.000000003Z")


@tagged("post_install", "-at_install")
class TestDecisions(TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Request = cls.env["influence_gen.ai_image_generation_request"]
        cls.Image = cls.env["influence_gen.generated_image"]
        [res] = cls.Request.influencegen_upsert([{
            "name": "a red cube", "external_id": "01JCUR0000000000000000000A", "prompt": "a red cube",
            "state": "completed", "requested_by": "alice", "batch_ref": "01JBATCH00000000000000000A",
            "app_updated_at": T1}])
        cls.request = cls.Request.browse(res["id"])
        images = cls.Image.influencegen_attach([{
            "name": "01JCUR0000000000000000000A-%d.png" % i, "request_id": cls.request.id, "sha256": sha,
            "mimetype": "image/png", "width": 1, "height": 1, "file_size": len(PNG_1x1), "sequence": i,
            "datas": base64.b64encode(PNG_1x1).decode()} for i, sha in ((1, "a" * 64), (2, "b" * 64))])
        cls.first, cls.second = cls.Image.browse([r["id"] for r in images])

    def decide(self, sha, state="undecided", favorite=False, at=T2, by="alice"):
        return self.Image.influencegen_decide([{
            "request_id": self.request.id, "sha256": sha, "favorite": favorite, "approval_state": state,
            "approved_by": by if state != "undecided" else False,
            "approved_at": "2026-11-28 10:00:00" if state != "undecided" else False,
            "app_decided_at": at, "decided_by": by}])

    def test_new_images_are_undecided_and_the_batch_is_on_the_request(self):
        self.assertEqual((self.first.approval_state, self.first.favorite), ("undecided", False))
        self.assertEqual(self.request.batch_ref, "01JBATCH00000000000000000A")

    def test_the_app_approves_one_and_stars_the_other_and_the_chatter_says_so(self):
        before = len(self.request.message_ids)
        [a] = self.decide("a" * 64, state="approved")
        [b] = self.decide("b" * 64, favorite=True)
        self.assertEqual((a["id"], a["found"], a["written"]), (self.first.id, True, True))
        self.assertTrue(b["written"])
        self.assertEqual((self.first.approval_state, self.first.approved_by), ("approved", "alice"))
        self.assertTrue(self.second.favorite)
        notes = self.request.message_ids[:len(self.request.message_ids) - before]
        self.assertEqual(len(notes), 2)
        self.assertTrue(any("Approved" in n.body and "alice" in n.body for n in notes), notes.mapped("body"))

    def test_an_older_decision_arriving_late_changes_nothing(self):
        self.decide("a" * 64, state="rejected", at=T3, by="bob")
        [late] = self.decide("a" * 64, state="approved", at=T2)
        self.assertFalse(late["written"])
        self.assertEqual((self.first.approval_state, self.first.approved_by), ("rejected", "bob"))

    def test_an_image_not_attached_yet_is_reported_not_found(self):
        [res] = self.decide("c" * 64, state="approved")
        self.assertEqual((res["found"], res["written"]), (False, False))

    def test_malformed_decisions_are_refused(self):
        for vals in ({"request_id": self.request.id, "sha256": "a" * 64, "approval_state": "maybe", "app_decided_at": T2},
                     {"request_id": self.request.id, "sha256": "a" * 64, "approval_state": "approved",
                      "app_decided_at": "2026-11-28 10:00:00"},
                     {"sha256": "a" * 64, "approval_state": "approved", "app_decided_at": T2}):
            with self.subTest(vals=vals), self.assertRaises(ValidationError):
                self.Image.influencegen_decide([vals])

    def test_a_decision_made_in_odoo_is_stamped_and_wins_over_an_older_app_one(self):
        self.second.write({"approval_state": "approved"})
        self.assertEqual(self.second.approved_by, self.env.user.name)
        self.assertTrue(self.second.approved_at)
        self.assertGreater(self.second.app_decided_at, T3)
        [late] = self.decide("b" * 64, state="rejected", at=T3)
        self.assertFalse(late["written"])
        self.second.write({"approval_state": "undecided"})
        self.assertFalse(self.second.approved_by)

    def test_the_gallery_filters_find_approved_favourite_and_my_images(self):
        self.decide("a" * 64, state="approved")
        self.decide("b" * 64, favorite=True)
        self.assertEqual(self.Image.search([("approval_state", "=", "approved"), ("request_id", "=", self.request.id)]),
                         self.first)
        self.assertEqual(self.Image.search([("favorite", "=", True), ("request_id", "=", self.request.id)]), self.second)
        mine = self.Image.search([("is_mine", "=", True), ("request_id", "=", self.request.id)])
        self.assertEqual(mine, self.first | self.second)  # this user's key made the request record
        gallery = self.env.ref("influence_gen_ai_integration.action_generated_image_gallery")
        self.assertTrue(gallery.view_mode.startswith("kanban"))
        arch = self.Image.get_views([(False, "kanban")])["views"]["kanban"]["arch"]
        self.assertIn("approval_state", arch)
        self.assertIn("boolean_favorite", arch)
