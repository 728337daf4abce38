"""The server-side guard the influencegen sync relies on (issue 11 §2).

Run with: odoo-bin ... --test-tags /influence_gen_ai_integration
"""
import base64
from unittest.mock import patch

from odoo.exceptions import ConcurrencyError, ValidationError
from odoo.tests import TransactionCase, tagged

PNG_1x1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def request_vals(ext, state, at, **extra):
    vals = {"name": "a red cube", "external_id": ext, "prompt": "a red cube", "state": state,
            "app_updated_at": at}
    vals.update(extra)
    return vals


@tagged("post_install", "-at_install")
class TestUpsertOrdering(TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Request = cls.env["influence_gen.ai_image_generation_request"]

    def test_creates_then_the_newer_state_wins_and_an_older_one_is_ignored(self):
        t1, t2, t3 = ("2026-11-28T10:00:00.000000001Z", "2026-11-28T10:00:00.000000002Z",
                      "2026-11-28T10:00:00.000000003Z")
        [made] = self.Request.influencegen_upsert([request_vals("01JREQ0000000000000000000A", "processing", t1)])
        self.assertTrue(made["created"])
        [done] = self.Request.influencegen_upsert([request_vals("01JREQ0000000000000000000A", "completed", t3)])
        self.assertEqual((done["id"], done["written"], done["created"]), (made["id"], True, False))
        # The slow syncer's write of what it read earlier lands last.
        [stale] = self.Request.influencegen_upsert([request_vals("01JREQ0000000000000000000A", "processing", t2)])
        self.assertFalse(stale["written"])
        record = self.Request.browse(made["id"])
        self.assertEqual((record.state, record.app_updated_at), ("completed", t3))
        # Nanoseconds count: one apart is newer.
        self.assertEqual(len(self.Request.search([("external_id", "=", "01JREQ0000000000000000000A")])), 1)

    def test_a_replay_of_the_same_change_writes_nothing(self):
        at = "2026-11-28T10:00:00.500000000Z"
        [made] = self.Request.influencegen_upsert([request_vals("01JREQ0000000000000000000B", "failed", at)])
        [again] = self.Request.influencegen_upsert([request_vals("01JREQ0000000000000000000B", "queued", at)])
        self.assertFalse(again["written"])
        self.assertEqual(self.Request.browse(made["id"]).state, "failed")

    def test_a_record_from_before_the_upgrade_takes_the_first_upsert(self):
        legacy = self.Request.create({"name": "old", "external_id": "01JREQ0000000000000000000C",
                                      "prompt": "old", "state": "processing"})
        self.assertFalse(legacy.app_updated_at)
        [res] = self.Request.influencegen_upsert(
            [request_vals("01JREQ0000000000000000000C", "completed", "2026-11-28T10:00:00.000000000Z")])
        self.assertEqual((res["id"], res["written"]), (legacy.id, True))
        self.assertEqual(legacy.state, "completed")

    def test_many_requests_in_one_call_keep_their_order(self):
        at = "2026-11-28T10:00:00.000000000Z"
        exts = ["01JREQ00000000000000000%03d" % i for i in range(5)]
        res = self.Request.influencegen_upsert([request_vals(e, "queued", at) for e in exts])
        self.assertEqual([r["external_id"] for r in res], exts)
        self.assertEqual(len(set(r["id"] for r in res)), 5)

    def test_without_a_well_formed_app_updated_at_nothing_is_written(self):
        for bad in (None, "2026-11-28 10:00:00", "2026-11-28T10:00:00Z", 12):
            with self.subTest(bad=bad), self.assertRaises(ValidationError):
                self.Request.influencegen_upsert([request_vals("01JREQ0000000000000000000D", "queued", bad)])
        self.assertFalse(self.Request.search([("external_id", "=", "01JREQ0000000000000000000D")]))

    def test_a_create_that_loses_a_race_is_retried_not_duplicated(self):
        at = "2026-11-28T10:00:00.000000000Z"
        self.Request.influencegen_upsert([request_vals("01JREQ0000000000000000000E", "queued", at)])
        # Make the locked SELECT miss the row, as a snapshot taken before
        # another transaction's insert does: the unique index still holds.
        real_execute = type(self.env.cr).execute

        def blind_execute(cr, query, params=None, log_exceptions=True):
            if "FOR UPDATE" in str(getattr(query, "code", query)):
                return real_execute(cr, "SELECT 1 WHERE false")
            return real_execute(cr, query, params, log_exceptions)

        with patch.object(type(self.env.cr), "execute", blind_execute), self.assertRaises(ConcurrencyError):
            self.Request.influencegen_upsert([request_vals("01JREQ0000000000000000000E", "failed",
                                                           "2026-11-28T11:00:00.000000000Z")])
        self.assertEqual(len(self.Request.search([("external_id", "=", "01JREQ0000000000000000000E")])), 1)


@tagged("post_install", "-at_install")
class TestAttachDedupe(TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Request = cls.env["influence_gen.ai_image_generation_request"]
        cls.Image = cls.env["influence_gen.generated_image"]
        [res] = cls.Request.influencegen_upsert(
            [request_vals("01JREQ0000000000000000000F", "completed", "2026-11-28T10:00:00.000000000Z")])
        cls.request = cls.Request.browse(res["id"])

    def image_vals(self, sha="a" * 64):
        return {"name": "01JREQ0000000000000000000F-1.png", "request_id": self.request.id, "sha256": sha,
                "mimetype": "image/png", "width": 1, "height": 1, "file_size": len(PNG_1x1), "seed": "7",
                "sequence": 1, "datas": base64.b64encode(PNG_1x1).decode()}

    def attachments(self):
        return self.env["ir.attachment"].search([("res_model", "=", self.Request._name),
                                                 ("res_id", "=", self.request.id)])

    def test_an_image_is_attached_once_however_often_it_is_sent(self):
        [first] = self.Image.influencegen_attach([self.image_vals()])
        [again] = self.Image.influencegen_attach([self.image_vals()])
        self.assertTrue(first["created"])
        self.assertEqual((again["id"], again["attachment_id"], again["created"]),
                         (first["id"], first["attachment_id"], False))
        self.assertEqual(len(self.attachments()), 1)
        self.assertEqual(len(self.request.generated_image_ids), 1)
        self.assertEqual(self.attachments().raw, PNG_1x1)  # byte-exact

    def test_when_the_image_row_hits_the_constraint_its_attachment_is_undone(self):
        self.Image.influencegen_attach([self.image_vals()])
        before = len(self.attachments())
        # The search misses the row (another transaction's, committed after
        # our snapshot): the create of the row hits the unique constraint.
        with patch.object(type(self.Image), "_influencegen_find", lambda self, r, s: self.browse()), \
                self.assertRaises(ConcurrencyError):
            self.Image.influencegen_attach([self.image_vals()])
        self.assertEqual(len(self.attachments()), before)
        self.assertEqual(len(self.request.generated_image_ids), 1)

    def test_distinct_images_each_get_their_attachment(self):
        res = self.Image.influencegen_attach([self.image_vals("b" * 64), self.image_vals("c" * 64)])
        self.assertEqual([r["created"] for r in res], [True, True])
        self.assertEqual(len(self.attachments()), 2)
