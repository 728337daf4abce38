from odoo import api, fields, models
from odoo.exceptions import ValidationError

DEFAULT_RESOLUTION_PARAM = "influence_gen.default_resolution"


class AiModel(models.Model):
    """A generation model the hosts offer (their generation.models), so the
    Odoo form offers exactly what a host will accept."""
    _name = "influence_gen.ai_model"
    _description = "AI model offered by the influencegen hosts"
    _order = "sequence, name"

    name = fields.Char(required=True, readonly=True)
    sequence = fields.Integer(default=10)
    is_default = fields.Boolean(string="Default", readonly=True)
    active = fields.Boolean(default=True)

    _name_unique = models.Constraint("UNIQUE(name)", "model names are unique")

    @api.model
    def influencegen_publish(self, names, default_model="", default_resolution=""):
        """Make names the offered models (in order), the rest inactive.

        Called by each host that accepts Odoo requests, with its
        generation.models; a host publishing the same list again changes
        nothing. Returns the number of active models.
        """
        if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
            raise ValidationError(self.env._("influencegen_publish expects a list of model names"))
        self.browse().check_access("write")
        names = list(dict.fromkeys(n.strip() for n in names))
        existing = {m.name: m for m in self.with_context(active_test=False).search([])}
        for seq, name in enumerate(names):
            vals = {"sequence": seq, "active": True, "is_default": name == default_model}
            record = existing.pop(name, None)
            if record is None:
                self.create(dict(vals, name=name))
            elif any(record[k] != v for k, v in vals.items()):
                record.write(vals)
        for record in existing.values():
            if record.active:
                record.write({"active": False, "is_default": False})
        if default_resolution:
            self.env["ir.config_parameter"].sudo().set_param(DEFAULT_RESOLUTION_PARAM, default_resolution)
        return len(names)

    @api.model
    def _influencegen_default(self):
        return self.search([("is_default", "=", True)], limit=1) or self.search([], limit=1)
