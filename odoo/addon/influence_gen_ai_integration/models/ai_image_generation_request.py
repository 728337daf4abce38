from odoo import api, fields, models

# The request states of the influencegen app (DESIGN §3). The app owns the
# state machine; Odoo only records where each request is.
STATES = [
    ("queued", "Queued"),
    ("sending", "Sending"),
    ("processing", "Processing"),
    ("completed", "Completed"),
    ("failed", "Failed"),
    ("initiation_failed", "Initiation failed"),
    ("timed_out", "Timed out"),
    ("cancelled", "Cancelled"),
]


class AiImageGenerationRequest(models.Model):
    _name = "influence_gen.ai_image_generation_request"
    _description = "AI image generation request"
    _inherit = ["mail.thread"]
    _order = "requested_at desc, id desc"

    name = fields.Char(required=True)
    # The app's request id (a ULID). The sync searches by it before it
    # creates, so it must be unique.
    external_id = fields.Char(
        string="External ID", required=True, index=True, copy=False, readonly=True,
        help="Request id in the influencegen app; also the n8n idempotency key.",
    )
    prompt = fields.Text(required=True)
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
