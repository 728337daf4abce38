"""Requests made in Odoo, and the queue the influencegen hosts take them
from (issue 15). The app's own requests are untouched by this: they arrive
through influencegen_upsert with origin "app"."""
import datetime
import secrets

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from . import params
from .ai_model import DEFAULT_RESOLUTION_PARAM

MANAGER_GROUP = "influence_gen_ai_integration.group_influence_gen_manager"
FINISHED = ("completed", "failed", "initiation_failed", "timed_out", "cancelled")
# What a person may set on their own draft; everything else (state, ids,
# claims) only Generate, Cancel, the hosts and managers write.
COMPOSER_FIELDS = {"name", "prompt", "negative_prompt", "ai_model_id", "resolution", "aspect_ratio", "seed",
                   "num_images"}
# The queue's own fields: only Generate, Cancel, the hosts and managers set them.
QUEUE_FIELDS = {"origin", "claimed_by", "claimed_at", "cancel_requested"}
# What influence_gen_claim returns per request: what a host needs to send it.
CLAIM_FIELDS = ("id", "external_id", "name", "prompt", "negative_prompt", "ai_model", "width", "height",
                "resolution", "aspect_ratio", "seed", "num_images", "requested_by", "requested_at",
                "claimed_by", "claimed_at")
MAX_CLAIM = 100
DEFAULT_CLAIM_TIMEOUT = 600


class AiImageGenerationRequestQueue(models.Model):
    _inherit = "influence_gen.ai_image_generation_request"

    origin = fields.Selection([("app", "App"), ("odoo", "Odoo")], required=True, default="app", readonly=True,
                              help="Where the request was made: in the influencegen app, or here in Odoo.")
    ai_model_id = fields.Many2one("influence_gen.ai_model", string="Model", ondelete="set null",
                                  help="One of the models the influencegen hosts offer.")
    claimed_by = fields.Char(readonly=True, copy=False, help="The influencegen host that took this request.")
    claimed_at = fields.Datetime(readonly=True, copy=False)
    cancel_requested = fields.Boolean(readonly=True, copy=False, tracking=True,
                                      help="Someone pressed Cancel; the host running it cancels it.")

    def _influencegen_privileged(self):
        return self.env.su or self.env.user.has_group(MANAGER_GROUP) or self.env.user.has_group("base.group_system")

    @api.model_create_multi
    def create(self, vals_list):
        privileged = self._influencegen_privileged()
        for vals in vals_list:
            # The app always sends its request id; a record without one is a
            # request made here, which starts as a draft.
            if privileged and "origin" in vals:
                made_here = vals["origin"] == "odoo"
            else:
                made_here = not vals.get("external_id")
            if made_here:
                if not privileged:
                    # A person's request starts as a draft of theirs, whatever they send.
                    for key in list(vals):
                        if key not in COMPOSER_FIELDS and not key.startswith("message_"):
                            vals.pop(key)
                    vals["state"] = "draft"
                vals.setdefault("state", "draft")
                vals["origin"] = "odoo"
            else:
                # The sync (any user the app's key belongs to, as before
                # 19.0.1.2.0) records the app's own requests.
                if not privileged:
                    for key in QUEUE_FIELDS:
                        vals.pop(key, None)
                vals["origin"] = "app"
            if not vals.get("name"):
                vals["name"] = ((vals.get("prompt") or "").strip().splitlines() or [self.env._("New request")])[0][:80]
        return super().create(vals_list)

    def write(self, vals):
        if not self._influencegen_privileged():
            queue = set(vals) & QUEUE_FIELDS
            if queue:
                raise AccessError(self.env._("Only InfluenceGen managers may change %(fields)s; use Generate or Cancel.",
                                             fields=", ".join(sorted(queue))))
            made_here = self.filtered(lambda r: r.origin == "odoo")
            extra = {k for k in vals if k not in COMPOSER_FIELDS and not k.startswith("message_")}
            if made_here and extra:
                raise AccessError(self.env._("Only InfluenceGen managers may change %(fields)s of a request made in "
                                             "Odoo; use Generate or Cancel.", fields=", ".join(sorted(extra))))
            if made_here and any(r.state != "draft" for r in made_here):
                raise UserError(self.env._("Only a draft request can be edited; this one was sent already."))
        return super().write(vals)

    def _influencegen_validate(self):
        """The app's rules (app/params.go) on this draft: the values to write,
        or a UserError naming the first bad field."""
        self.ensure_one()
        try:
            prompt, negative = params.check_prompts(self.prompt, self.negative_prompt)
            model = self.ai_model_id or self.env["influence_gen.ai_model"]._influencegen_default()
            if not model or not model.active:
                raise params.ParamError("model", "model: none of the influencegen hosts offers it; pick one of the "
                                                 "offered models (a host with odoo.accept_requests publishes them)")
            default_res = self.env["ir.config_parameter"].sudo().get_param(DEFAULT_RESOLUTION_PARAM) \
                or params.DEFAULT_RESOLUTION
            w, h, aspect = params.resolve_size(self.resolution, self.aspect_ratio, default_res)
            seed = params.parse_seed(self.seed)
            count = params.check_images(self.num_images)
        except params.ParamError as exc:
            raise UserError(self.env._("%(field)s: %(message)s", field=exc.field, message=exc.message)) from None
        if seed is None:
            seed = secrets.randbelow(params.MAX_SEED + 1)
        return {
            "prompt": prompt, "negative_prompt": negative or False, "ai_model_id": model.id, "ai_model": model.name,
            "width": w, "height": h, "resolution": f"{w}x{h}", "aspect_ratio": aspect, "seed": str(seed),
            "num_images": count,
        }

    def action_generate(self):
        """Generate: validate a draft like the app's composer does, give it
        the id the app will use, and queue it for a host."""
        self.check_access("write")
        for request in self:
            if request.state != "draft":
                raise UserError(self.env._("%(name)s was sent already (it is %(state)s).",
                                           name=request.name, state=request.state))
            vals = request._influencegen_validate()
            vals.update(external_id=params.new_ulid(), requested_by=self.env.user.name,
                        requested_at=fields.Datetime.now(), state="queued", origin="odoo")
            request.sudo().write(vals)
        return True

    def action_cancel(self):
        """Cancel: a draft or a queued request no host took yet ends here; one a
        host runs gets cancel_requested, and that host cancels it and syncs
        "cancelled" back."""
        self.check_access("write")
        for request in self:
            if request.state in FINISHED:
                raise UserError(self.env._("%(name)s is %(state)s already; nothing to cancel.",
                                           name=request.name, state=request.state))
            # Wait for a claim in progress on this row; Odoo retries the call
            # if one committed meanwhile, so claimed_by below is current.
            self.flush_model()
            self.env.cr.execute(SQL("SELECT claimed_by FROM %s WHERE id = %s FOR UPDATE",
                                    SQL.identifier(self._table), request.id))
            claimed_by = self.env.cr.fetchone()[0]
            if request.state == "draft" or (request.origin == "odoo" and request.state == "queued" and not claimed_by):
                request.sudo().write({"state": "cancelled", "completed_at": fields.Datetime.now()})
            else:
                request.sudo().write({"cancel_requested": True})
        return True

    @api.model
    def influence_gen_claim(self, host, limit=10, timeout=DEFAULT_CLAIM_TIMEOUT, models=None):
        """Claim up to limit queued Odoo requests for host, each for one host.

        Rows are taken with SELECT ... FOR UPDATE SKIP LOCKED, so hosts
        claiming at once never wait for each other nor get the same row. A
        claim still queued after timeout seconds (the host died before
        sending) is released first, so another host can take it. A host's
        own earlier claims are returned again (it may have restarted before
        storing them) with their original claimed_at. With models (the
        host's generation models), only requests for one of them are
        claimed, so hosts offering different models never take work they
        cannot run.

        Returns {"requests": one dict of CLAIM_FIELDS per claimed request,
        oldest first; "cancel": external ids someone asked to cancel that
        this host may run (its claims, and app requests, whose host is not
        recorded here: a host ignores ids it does not hold)}, so an idle
        host costs one call per poll.
        """
        if not self._influencegen_privileged():
            raise AccessError(self.env._("influence_gen_claim is for InfluenceGen hosts (InfluenceGen / Manager)"))
        if not isinstance(host, str) or not host.strip() or len(host) > 128:
            raise ValidationError(self.env._("influence_gen_claim: host must be a name of 1 to 128 characters"))
        if not isinstance(limit, int) or not 1 <= limit <= MAX_CLAIM:
            raise ValidationError(self.env._("influence_gen_claim: limit must be 1 to %(max)s", max=MAX_CLAIM))
        if not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ValidationError(self.env._("influence_gen_claim: timeout must be a positive number of seconds"))
        if models is not None and (not isinstance(models, list) or not all(isinstance(m, str) for m in models)):
            raise ValidationError(self.env._("influence_gen_claim: models must be a list of model names"))
        model_filter = SQL("AND ai_model IN %s", tuple(models)) if models else SQL("")
        now = fields.Datetime.now()
        cutoff = now - datetime.timedelta(seconds=timeout)
        self.flush_model()
        table = SQL.identifier(self._table)
        # Release expired claims; SKIP LOCKED here too, so two releasing
        # hosts never wait on (or deadlock over) each other's rows.
        self.env.cr.execute(SQL(
            """UPDATE %(t)s SET claimed_by = NULL, claimed_at = NULL WHERE id IN (
                   SELECT id FROM %(t)s WHERE origin = 'odoo' AND state = 'queued'
                      AND claimed_by IS NOT NULL AND claimed_at < %(cutoff)s
                   FOR UPDATE SKIP LOCKED)""", t=table, cutoff=cutoff))
        # Its own claims first, read without a lock or a write: the host's
        # sync may be writing those rows right now, and touching them
        # would make one of the two transactions fail and retry.
        self.env.cr.execute(SQL(
            """SELECT id FROM %(t)s
                WHERE origin = 'odoo' AND state = 'queued' AND cancel_requested IS NOT TRUE
                  AND claimed_by = %(host)s %(models)s
                ORDER BY requested_at, id LIMIT %(limit)s""", t=table, host=host, limit=limit, models=model_filter))
        ids = [row[0] for row in self.env.cr.fetchall()]
        if len(ids) < limit:
            self.env.cr.execute(SQL(
                """WITH picked AS (
                       SELECT id FROM %(t)s
                        WHERE origin = 'odoo' AND state = 'queued' AND cancel_requested IS NOT TRUE
                          AND claimed_by IS NULL %(models)s
                        ORDER BY requested_at, id
                        LIMIT %(limit)s
                        FOR UPDATE SKIP LOCKED)
                   UPDATE %(t)s r SET claimed_by = %(host)s, claimed_at = %(now)s
                     FROM picked WHERE r.id = picked.id
                   RETURNING r.id""", t=table, host=host, limit=limit - len(ids), now=now, models=model_filter))
            ids += [row[0] for row in self.env.cr.fetchall()]
        self.invalidate_model(["claimed_by", "claimed_at"])
        claimed = self.browse(ids).sorted(lambda r: (r.requested_at or now, r.id))
        out = []
        for r in claimed:
            item = {f: r[f] for f in CLAIM_FIELDS}
            for f in ("requested_at", "claimed_at"):
                item[f] = fields.Datetime.to_string(item[f]) if item[f] else False
            out.append(item)
        cancel = self.search([("cancel_requested", "=", True), ("state", "not in", FINISHED),
                              "|", ("claimed_by", "=", host), ("origin", "=", "app")], limit=MAX_CLAIM)
        return {"requests": out, "cancel": [e for e in cancel.mapped("external_id") if e]}
