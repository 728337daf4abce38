# Part of InfluenceGen Studio. License: LGPL-3 (see the manifest).
{
    "name": "InfluenceGen AI Integration",
    "version": "19.0.1.3.0",
    "summary": "Records of AI image generation requests and their images, synced by the influencegen app",
    "description": """
InfluenceGen AI Integration
===========================
Keeps the records the influencegen terminal app syncs to Odoo: one
AI image generation request per generation (prompt, parameters, state,
errors) and its generated images, stored byte-exact as attachments.

The app writes these records over Odoo's external API (JSON-2 on Odoo 19,
JSON-RPC on older servers) with an API key; nothing in this module calls
n8n. State changes are tracked in the chatter.

People can also ask for images here: a draft request with the composer's
fields, sent with Generate, is taken by one influencegen host that accepts
Odoo requests (influence_gen_claim); Cancel asks that host to stop it.

Curation: each generated image has a favourite star and an approval
(undecided, approved, rejected) with who and when, synced from the app
(influencegen_decide, newest decision wins) or set here; every decision is
noted in the request's chatter. The Gallery shows the pictures as cards
with filters Approved, Favourites and My requests.
""",
    "author": "InfluenceGen",
    "website": "https://github.com/influencegen/influencegen",
    "license": "LGPL-3",
    "category": "Marketing",
    "depends": ["base", "mail"],
    "data": [
        "security/influence_gen_security.xml",
        "security/ir.model.access.csv",
        "security/data/ir_config_parameter_data.xml",
        "views/ai_image_generation_request_views.xml",
        "views/generated_image_views.xml",
        "views/menus.xml",
    ],
    "installable": True,
    "application": False,
}
