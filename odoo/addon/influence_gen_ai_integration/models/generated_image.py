import base64

from psycopg2 import errors as pg_errors

from odoo import api, fields, models
from odoo.exceptions import ConcurrencyError, ValidationError
from odoo.tools import SQL

from .ai_image_generation_request import APP_TIME

# The fields of a generated_image the app sends besides the bytes.
IMAGE_FIELDS = ("name", "request_id", "sha256", "mimetype", "width", "height", "file_size", "seed", "sequence")

# The marketer's verdict on one image (19.0.1.3.0, issue 14).
APPROVAL_STATES = [
    ("undecided", "Undecided"),
    ("approved", "Approved"),
    ("rejected", "Rejected"),
]
# What influencegen_decide copies onto the image.
DECISION_FIELDS = ("favorite", "approval_state", "approved_by", "approved_at", "app_decided_at")


class GeneratedImage(models.Model):
    _name = "influence_gen.generated_image"
    _description = "Generated image"
    _order = "request_id, sequence, id"

    name = fields.Char()
    request_id = fields.Many2one(
        "influence_gen.ai_image_generation_request", string="Request",
        required=True, index=True, ondelete="cascade",
    )
    # The original bytes, uploaded with image_no_postprocess so Odoo keeps
    # them byte-exact (sha256 below is of those bytes).
    attachment_id = fields.Many2one("ir.attachment", string="Attachment", ondelete="set null")
    image_preview = fields.Binary(related="attachment_id.datas", string="Preview")
    sha256 = fields.Char(string="SHA-256", required=True, index=True)
    mimetype = fields.Char(string="MIME type")
    width = fields.Integer()
    height = fields.Integer()
    file_size = fields.Integer(string="Size (bytes)")
    seed = fields.Char(help="Seed of this image, 0 to 4294967295 (kept as text).")
    sequence = fields.Integer(default=0)
    # The pick (19.0.1.3.0): written by the app through influencegen_decide,
    # or by a person here; every change is noted in the request's chatter.
    favorite = fields.Boolean(string="Favourite", default=False, index=True)
    approval_state = fields.Selection(APPROVAL_STATES, string="Approval", required=True, default="undecided",
                                      index=True)
    approved_by = fields.Char(help="Who approved or rejected the image (the app's user name, or the Odoo user).")
    approved_at = fields.Datetime()
    # When the latest decision was made, in the app's format (APP_TIME):
    # influencegen_decide writes only a newer one, so the last decision
    # by time wins whichever syncer arrives last.
    app_decided_at = fields.Char(string="Decided at (app time)", readonly=True, copy=False)
    requested_by = fields.Char(related="request_id.requested_by", string="Requested by")
    is_mine = fields.Boolean(compute="_compute_is_mine", search="_search_is_mine", string="My request")

    _request_sha256_unique = models.Constraint(
        "UNIQUE(request_id, sha256)",
        "sha256 must be unique per request",
    )

    def _mine_domain(self):
        user = self.env.user
        return ["|", ("request_id.create_uid", "=", user.id),
                ("request_id.requested_by", "in", [user.login, user.name])]

    def _compute_is_mine(self):
        mine = self.filtered_domain(self._mine_domain())
        for image in self:
            image.is_mine = image in mine

    def _search_is_mine(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise ValidationError(self.env._("My request can only be searched for being true or false"))
        domain = self._mine_domain()
        return domain if (operator == "=") == value else ["!"] + domain

    def write(self, vals):
        """Stamp and note decisions.

        A person deciding here is stamped with their name and the current
        time (also as app_decided_at, so an older decision still on its way
        from the app does not undo theirs). Every change of the favourite
        or the approval is posted in the request's chatter.
        """
        decided = {"favorite", "approval_state"} & set(vals)
        if decided and not self.env.context.get("influencegen_decision"):
            now = fields.Datetime.now()
            vals = dict(vals, app_decided_at=now.strftime("%Y-%m-%dT%H:%M:%S.") + "%09dZ" % (now.microsecond * 1000))
            if "approval_state" in vals:
                undecided = vals["approval_state"] == "undecided"
                vals.update(approved_by=False if undecided else self.env.user.name,
                            approved_at=False if undecided else now)
        before = {image.id: (image.favorite, image.approval_state) for image in self} if decided else {}
        result = super().write(vals)
        if decided:
            self._influencegen_note_decisions(before)
        return result

    def _influencegen_note_decisions(self, before):
        labels = dict(APPROVAL_STATES)
        for image in self:
            old_favorite, old_state = before.get(image.id, (image.favorite, image.approval_state))
            changes = []
            if image.approval_state != old_state:
                changes.append(self.env._("%(old)s → %(new)s", old=labels.get(old_state, old_state),
                                          new=labels[image.approval_state]))
            if image.favorite != old_favorite:
                changes.append(self.env._("starred") if image.favorite else self.env._("unstarred"))
            if not changes:
                continue
            who = self.env.context.get("influencegen_who") or self.env.user.name
            image.request_id.sudo().message_post(body=self.env._(
                "Image %(name)s: %(changes)s (by %(who)s)",
                name=image.name or image.sha256[:12], changes=", ".join(changes), who=who))

    @api.model
    def influencegen_decide(self, vals_list):
        """Write images' favourite and approval, newest decision wins.

        Each vals names the image by request_id (the Odoo request id) and
        sha256 and carries DECISION_FIELDS; app_decided_at is when the app
        made the decision (APP_TIME). The image row is locked, and the
        values land only when app_decided_at is newer than the stored one:
        a decision made offline and synced late never undoes a later one.

        Returns one {"id", "found", "written"} per vals, in order; an image
        not attached yet is found=False (the app retries after its upload).
        """
        if not isinstance(vals_list, list):
            raise ValidationError(self.env._("influencegen_decide expects a list of values"))
        self.browse().check_access("write")
        states = dict(APPROVAL_STATES)
        results = []
        for vals in vals_list:
            if not isinstance(vals, dict) or not vals.get("request_id") or not vals.get("sha256"):
                raise ValidationError(self.env._("influencegen_decide: every value needs request_id and sha256"))
            incoming = vals.get("app_decided_at")
            if not isinstance(incoming, str) or not APP_TIME.match(incoming):
                raise ValidationError(self.env._(
                    "influencegen_decide: app_decided_at %(got)r is not YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ", got=incoming))
            if vals.get("approval_state") not in states:
                raise ValidationError(self.env._(
                    "influencegen_decide: approval_state %(got)r is not undecided, approved or rejected",
                    got=vals.get("approval_state")))
            # Raw SQL reads the table, not the ORM cache: flush what this
            # transaction wrote so far (an earlier vals of the same call).
            self.flush_model(["request_id", "sha256", "app_decided_at"])
            self.env.cr.execute(SQL(
                "SELECT id, app_decided_at FROM %s WHERE request_id = %s AND sha256 = %s FOR UPDATE",
                SQL.identifier(self._table), int(vals["request_id"]), vals["sha256"]))
            row = self.env.cr.fetchone()
            if row is None:
                results.append({"id": False, "found": False, "written": False})
                continue
            image_id, stored = row
            written = not stored or incoming > stored
            if written:
                # decided_by is who made this decision in the app (the
                # chatter names them, not the API key's user).
                who = vals.get("decided_by") or vals.get("approved_by") or None
                self.browse(image_id).with_context(influencegen_decision=True, influencegen_who=who).write(
                    {k: vals[k] for k in DECISION_FIELDS if k in vals})
            results.append({"id": image_id, "found": True, "written": written})
        return results

    def _influencegen_find(self, request_id, sha256):
        """The image row of (request, sha256), if any (a hook for tests)."""
        return self.search([("request_id", "=", request_id), ("sha256", "=", sha256)], limit=1)

    @api.model
    def influencegen_attach(self, vals_list):
        """Store images once per (request, sha256), attachment included.

        Each vals has the image fields (IMAGE_FIELDS) plus datas (base64 of
        the original bytes). The request row is locked first, so two
        syncers attaching to one request take turns. An image whose row
        exists already gets no new attachment. If the row's create hits the
        unique constraint anyway (a row committed after this transaction's
        snapshot), the savepoint undoes the attachment made for it and the
        call is retried by Odoo (ConcurrencyError), finding the row then:
        no attachment is ever left without its image row.

        Returns one {"id", "attachment_id", "created"} per vals, in order.
        """
        if not isinstance(vals_list, list):
            raise ValidationError(self.env._("influencegen_attach expects a list of values"))
        self.browse().check_access("create")
        Request = self.env["influence_gen.ai_image_generation_request"]
        Attachment = self.env["ir.attachment"].with_context(image_no_postprocess=True)
        results = []
        for vals in vals_list:
            if not isinstance(vals, dict) or not vals.get("request_id") or not vals.get("sha256") or not vals.get("datas"):
                raise ValidationError(self.env._("influencegen_attach: every value needs request_id, sha256 and datas"))
            request_id = int(vals["request_id"])
            self.env.cr.execute(SQL("SELECT id FROM %s WHERE id = %s FOR UPDATE",
                                    SQL.identifier(Request._table), request_id))
            if self.env.cr.fetchone() is None:
                raise ValidationError(self.env._("influencegen_attach: request record %(id)s does not exist", id=request_id))
            existing = self._influencegen_find(request_id, vals["sha256"])
            if existing:
                results.append({"id": existing.id, "attachment_id": existing.attachment_id.id, "created": False})
                continue
            try:
                base64.b64decode(vals["datas"], validate=True)
            except ValueError as exc:
                raise ValidationError(self.env._("influencegen_attach: datas is not base64")) from exc
            try:
                with self.env.cr.savepoint():
                    attachment = Attachment.create({
                        "name": vals.get("name") or vals["sha256"],
                        "datas": vals["datas"],
                        "mimetype": vals.get("mimetype"),
                        "res_model": Request._name,
                        "res_id": request_id,
                    })
                    image = self.create(dict({k: vals[k] for k in IMAGE_FIELDS if k in vals},
                                             attachment_id=attachment.id))
            except pg_errors.UniqueViolation as exc:
                raise ConcurrencyError(f"image {vals['sha256']} of request {request_id} was attached concurrently") from exc
            results.append({"id": image.id, "attachment_id": attachment.id, "created": True})
        return results
