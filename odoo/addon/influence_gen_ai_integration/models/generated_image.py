import base64

from psycopg2 import errors as pg_errors

from odoo import api, fields, models
from odoo.exceptions import ConcurrencyError, ValidationError
from odoo.tools import SQL

# The fields of a generated_image the app sends besides the bytes.
IMAGE_FIELDS = ("name", "request_id", "sha256", "mimetype", "width", "height", "file_size", "seed", "sequence")


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

    _request_sha256_unique = models.Constraint(
        "UNIQUE(request_id, sha256)",
        "sha256 must be unique per request",
    )

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
