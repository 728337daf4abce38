import re

from psycopg2 import errors as pg_errors

from odoo import api, fields, models
from odoo.exceptions import ConcurrencyError, ValidationError
from odoo.tools import SQL

# The request states of the influencegen app (DESIGN §3). The app owns the
# state machine; Odoo only records where each request is. "draft" is
# Odoo's own: a request made in Odoo before its Generate button.
STATES = [
    ("draft", "Draft"),
    ("queued", "Queued"),
    ("sending", "Sending"),
    ("processing", "Processing"),
    ("completed", "Completed"),
    ("failed", "Failed"),
    ("initiation_failed", "Initiation failed"),
    ("timed_out", "Timed out"),
    ("cancelled", "Cancelled"),
]

# The app's updated_at as it stores it: fixed-width UTC with nanoseconds,
# so string order is time order and no precision is lost (an Odoo
# Datetime keeps whole seconds; two changes in one second would tie).
APP_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$")


class AiImageGenerationRequest(models.Model):
    _name = "influence_gen.ai_image_generation_request"
    _description = "AI image generation request"
    _inherit = ["mail.thread"]
    _order = "requested_at desc, id desc"

    # Filled from the prompt when empty (a request made in Odoo).
    name = fields.Char()
    # The app's request id (a ULID). The sync searches by it before it
    # creates, so it must be unique. Empty only on an Odoo draft: Generate
    # assigns it.
    external_id = fields.Char(
        string="External ID", index=True, copy=False, readonly=True,
        help="Request id in the influencegen app; also the n8n idempotency key.",
    )
    prompt = fields.Text()
    negative_prompt = fields.Text()
    ai_model = fields.Char(string="AI model")
    resolution = fields.Char(help="Width x height in pixels, e.g. 1024x1024.")
    width = fields.Integer()
    height = fields.Integer()
    aspect_ratio = fields.Char()
    # Seeds go up to 4294967295; an Odoo Integer is a signed 32-bit column.
    seed = fields.Char(help="Generation seed, 0 to 4294967295 (kept as text).")
    num_images = fields.Integer(string="Images requested", default=1)
    state = fields.Selection(STATES, required=True, default="queued", index=True, tracking=True)
    error_code = fields.Char()
    error_message = fields.Text()
    requested_by = fields.Char()
    requested_at = fields.Datetime()
    completed_at = fields.Datetime()
    n8n_execution_id = fields.Char(string="n8n execution")
    # When the app last changed the request (its own clock, its own
    # format, see APP_TIME). influencegen_upsert writes only values newer
    # than this, so a syncer that read the request earlier cannot put an
    # older state back, whichever machine it runs on.
    app_updated_at = fields.Char(
        string="Updated in the app", readonly=True, copy=False,
        help="When the influencegen app last changed this request (UTC, nanoseconds). "
             "Writes carrying an older time are ignored.",
    )
    # The batch this request belongs to (19.0.1.3.0): the requests of one
    # submit of several images share it; empty for a single request.
    batch_ref = fields.Char(string="Batch", index=True, copy=False, readonly=True,
                            help="Batch id in the influencegen app: the requests of one submit of several images.")
    generated_image_ids = fields.One2many(
        "influence_gen.generated_image", "request_id", string="Images",
    )
    image_count = fields.Integer(compute="_compute_image_count", string="Image count")

    _external_id_unique = models.Constraint(
        "UNIQUE(external_id)",
        "external_id must be unique",
    )

    @api.depends("generated_image_ids")
    def _compute_image_count(self):
        for request in self:
            request.image_count = len(request.generated_image_ids)

    @api.model
    def influencegen_upsert(self, vals_list):
        """Create or update requests by external_id, newest app change wins.

        Each vals is the whole record as the app holds it and must carry
        external_id and app_updated_at. The row is locked (SELECT ... FOR
        UPDATE) before the comparison, so two syncers cannot both pass it:
        a write lands only when its app_updated_at is newer than the
        stored one (or none is stored, as on records made before 19.0.1.1.0).
        An older or equal one changes nothing and is not an error: it
        reports written=False.

        Returns one {"id", "external_id", "created", "written"} per vals,
        in order. Callable over JSON-2 (vals_list=[...]) and JSON-RPC
        (execute_kw positional [vals_list]).
        """
        if not isinstance(vals_list, list):
            raise ValidationError(self.env._("influencegen_upsert expects a list of values"))
        self.browse().check_access("write")
        results = []
        for vals in vals_list:
            external_id = vals.get("external_id") if isinstance(vals, dict) else None
            incoming = vals.get("app_updated_at") if isinstance(vals, dict) else None
            if not external_id or not isinstance(external_id, str):
                raise ValidationError(self.env._("influencegen_upsert: every value needs an external_id"))
            if not isinstance(incoming, str) or not APP_TIME.match(incoming):
                raise ValidationError(self.env._(
                    "influencegen_upsert: %(ext)s: app_updated_at %(got)r is not YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ",
                    ext=external_id, got=incoming))
            # Raw SQL reads the table, not the ORM cache: flush what this
            # transaction wrote so far (an earlier vals of the same call).
            self.flush_model(["external_id", "app_updated_at"])
            self.env.cr.execute(SQL(
                "SELECT id, app_updated_at FROM %s WHERE external_id = %s FOR UPDATE",
                SQL.identifier(self._table), external_id))
            row = self.env.cr.fetchone()
            if row is None:
                try:
                    with self.env.cr.savepoint():
                        record = self.create(vals)
                except pg_errors.UniqueViolation as exc:
                    # Another transaction created it after our snapshot
                    # began: we cannot see it, so run the call again
                    # (Odoo's retrying() does) and take the update path.
                    raise ConcurrencyError(f"{self._name} {external_id} was created concurrently") from exc
                results.append({"id": record.id, "external_id": external_id, "created": True, "written": True})
                continue
            record_id, stored = row
            written = not stored or incoming > stored
            if written:
                self.browse(record_id).write(vals)
            results.append({"id": record_id, "external_id": external_id, "created": False, "written": written})
        return results
