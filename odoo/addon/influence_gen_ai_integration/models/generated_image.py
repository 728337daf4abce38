from odoo import fields, models


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
