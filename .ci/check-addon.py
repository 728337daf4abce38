#!/usr/bin/env python3
"""Static checks of the Odoo addon, since CI cannot run Odoo.

Checks, for odoo/addon/influence_gen_ai_integration (or the path given):
  - every .py compiles (py_compile);
  - every .xml is well-formed;
  - __manifest__.py is a dict literal with the required keys, an Odoo 19
    version, both dependencies, and data files that exist;
  - security/ir.model.access.csv has Odoo's columns, names models the addon
    defines (model_<name with dots as underscores>), and covers every model;
  - views use only fields their model defines (sub-views of a one2many use
    the comodel's fields), and no Odoo 19 leftovers: <tree>, attrs=,
    states=, _sql_constraints;
  - ir.config_parameter data is noupdate;
  - the guarded sync methods the Go sync calls (odoo/sync_requests.go:
    UpsertMethod, AttachMethod) exist on their models as @api.model
    methods, the request model has app_updated_at, and the manifest version
    is the Go side's AddonVersion (so a bump is never half done);
  - raw SQL goes through odoo.tools.SQL (no string formatting), and a raw
    read in a method that also writes through the ORM is preceded by a
    flush (the bug a real Odoo found: the read saw the row, not the cache);
  - migrations/<version>/ folders name versions up to the manifest's and
    hold {pre,post,end}-migrate.py with migrate(cr, version);
  - the queue methods (ClaimMethod, PublishMethod) and the form's
    action_generate/action_cancel exist with the arguments the Go side sends;
  - security/*.xml (groups, record rules) may load before the access CSV;
  - curation (19.0.1.3.0): the image decision fields, batch_ref, the Go
    side's DecideMethod as a locked, flushed, time-guarded @api.model
    method, the Gallery kanban (picture, star, approval), its filters
    Approved / Favourites / My requests, its action and menu;
  - tests/__init__.py imports every tests/test_*.py (Odoo runs only what
    it imports), and test classes are tagged.

Prints one line per problem and "N passed, N failed" at the end; exits 1 on
any failure.
"""
import ast
import csv
import os
import py_compile
import re
import sys
import tempfile
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADDON = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "odoo", "addon", "influence_gen_ai_integration")

REQUIRED_KEYS = ["name", "version", "summary", "author", "license", "category", "depends", "data", "application"]
LICENSES = {"GPL-2", "GPL-2 or any later version", "GPL-3", "GPL-3 or any later version", "AGPL-3", "LGPL-3",
            "Other OSI approved licence", "OEEL-1", "OPL-1", "Other proprietary"}
ACCESS_COLUMNS = ["id", "name", "model_id:id", "group_id:id", "perm_read", "perm_write", "perm_create", "perm_unlink"]
# Fields every model has, plus those mail.thread adds.
MAGIC_FIELDS = {"id", "display_name", "create_uid", "create_date", "write_uid", "write_date"}
MAIL_THREAD_FIELDS = {"message_ids", "message_follower_ids", "message_partner_ids", "message_is_follower",
                      "has_message", "message_needaction", "message_has_error", "message_attachment_count"}

passed, failed = 0, 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)
    return ok


def files(ext):
    for dirpath, _, names in os.walk(ADDON):
        for n in sorted(names):
            if n.endswith(ext):
                yield os.path.join(dirpath, n)


def rel(path):
    return os.path.relpath(path, ADDON)


def model_definitions():
    """Parse models/*.py: {model name: {"fields": {name: (type, comodel)}, "inherit": [...]}}."""
    models, extensions = {}, []
    for path in files(".py"):
        with open(path, encoding="utf-8") as f:
            source = f.read()
        check("_sql_constraints" not in source, f"{rel(path)}: _sql_constraints is gone in Odoo 19, use models.Constraint")
        tree = ast.parse(source, path)
        for cls in [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]:
            name, inherit, fields = None, [], {}
            for stmt in cls.body:
                if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
                    continue
                target, value = stmt.targets[0].id, stmt.value
                if target == "_name" and isinstance(value, ast.Constant):
                    name = value.value
                elif target == "_inherit":
                    inherit = ast.literal_eval(value) if isinstance(value, (ast.List, ast.Constant)) else []
                    inherit = [inherit] if isinstance(inherit, str) else inherit
                elif isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
                        and isinstance(value.func.value, ast.Name) and value.func.value.id == "fields":
                    comodel = None
                    if value.args and isinstance(value.args[0], ast.Constant) and isinstance(value.args[0].value, str):
                        comodel = value.args[0].value
                    fields[target] = (value.func.attr, comodel)
            if name:
                spec = models.setdefault(name, {"fields": {}, "inherit": []})
                spec["fields"].update(fields)
                spec["inherit"] += inherit
            elif len(inherit) == 1:
                # An extension (_inherit without _name) adds fields to the
                # model; it may be ours (merged below) or Odoo's.
                extensions.append((inherit[0], fields))
    for model, fields in extensions:
        if model in models:
            models[model]["fields"].update(fields)
    return models


def check_manifest():
    path = os.path.join(ADDON, "__manifest__.py")
    if not check(os.path.exists(path), "__manifest__.py exists"):
        return {}
    with open(path, encoding="utf-8") as f:
        source = f.read()
    try:
        manifest = ast.literal_eval(ast.parse(source, path).body[-1].value)
    except (ValueError, SyntaxError, AttributeError, IndexError) as e:
        check(False, f"__manifest__.py is not a dict literal: {e}")
        return {}
    if not check(isinstance(manifest, dict), "__manifest__.py is a dict"):
        return {}
    for key in REQUIRED_KEYS:
        check(key in manifest, f"manifest has {key!r}")
    check(str(manifest.get("version", "")).startswith("19.0.") and len(str(manifest.get("version")).split(".")) == 5,
          f"manifest version {manifest.get('version')!r} is 19.0.x.y.z")
    check(manifest.get("license") in LICENSES, f"manifest license {manifest.get('license')!r} is one Odoo knows")
    check({"base", "mail"} <= set(manifest.get("depends", [])), "manifest depends on base and mail")
    check(manifest.get("application") is False, "manifest application is False")
    for data in manifest.get("data", []):
        check(os.path.exists(os.path.join(ADDON, data)), f"manifest data file {data} exists")
    data = manifest.get("data", [])
    if "security/ir.model.access.csv" in data:
        # Groups (security/*.xml) may come before the CSV that names them;
        # views, menus and other data after it.
        first_other = next((i for i, d in enumerate(data) if not d.startswith("security/")), len(data))
        check(data.index("security/ir.model.access.csv") < first_other, "access rights load before views and data")
    return manifest


def check_access(models):
    path = os.path.join(ADDON, "security", "ir.model.access.csv")
    if not check(os.path.exists(path), "security/ir.model.access.csv exists"):
        return
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    check(rows and rows[0] == ACCESS_COLUMNS, f"access CSV columns {rows[0] if rows else []} == {ACCESS_COLUMNS}")
    known = {"model_" + m.replace(".", "_"): m for m in models}
    covered, groups, ids = set(), {}, set()
    for i, row in enumerate(rows[1:], start=2):
        if not check(len(row) == len(ACCESS_COLUMNS), f"access CSV line {i} has {len(ACCESS_COLUMNS)} columns"):
            continue
        check(row[0] not in ids, f"access CSV line {i}: id {row[0]} is unique")
        ids.add(row[0])
        model_ref = row[2].split(".")[-1]
        check(model_ref in known, f"access CSV line {i}: {row[2]} names a model of the addon ({sorted(known)})")
        covered.add(model_ref)
        groups.setdefault(model_ref, set()).add(row[3])
        for perm in row[4:]:
            check(perm in ("0", "1"), f"access CSV line {i}: permission {perm!r} is 0 or 1")
    for ref, model in known.items():
        check(ref in covered, f"model {model} has access rights (without them even admin gets AccessError)")
        check({"base.group_user", "base.group_system"} <= groups.get(ref, set()),
              f"model {model} has rows for base.group_user and base.group_system")


def fields_of(models, model):
    spec = models.get(model)
    if spec is None:
        return None
    names = set(spec["fields"]) | MAGIC_FIELDS
    if "mail.thread" in spec["inherit"]:
        names |= MAIL_THREAD_FIELDS
    return names


def check_view_fields(models, model, node, where):
    """Every <field name> under node exists on model; a one2many's inner
    view is checked against its comodel."""
    known = fields_of(models, model)
    if known is None:
        return
    for child in node:
        if child.tag == "field" and "name" in child.attrib:
            fname = child.attrib["name"]
            check(fname in known, f"{where}: field {fname!r} exists on {model}")
            spec = models[model]["fields"].get(fname)
            if spec and spec[0] in ("One2many", "Many2many") and spec[1] in models:
                check_view_fields(models, spec[1], child, where)
            continue
        check_view_fields(models, model, child, where)


def check_xml(models):
    for path in files(".xml"):
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as e:
            check(False, f"{rel(path)} is well-formed XML: {e}")
            continue
        check(True, f"{rel(path)} is well-formed")
        check(root.tag == "odoo", f"{rel(path)}: root element is <odoo>")
        for el in root.iter():
            check(el.tag != "tree", f"{rel(path)}: <tree> is <list> since Odoo 17/18")
            for attr in ("attrs", "states"):
                check(attr not in el.attrib, f"{rel(path)}: {attr}= was removed in Odoo 17, use invisible=/readonly= expressions")
        for record in root.iter("record"):
            model_field = record.find("field[@name='model']")
            arch = record.find("field[@name='arch']")
            if record.get("model") == "ir.ui.view" and model_field is not None and arch is not None and len(arch):
                check(model_field.text in models, f"{rel(path)}: view {record.get('id')} is on a model of the addon")
                check_view_fields(models, model_field.text, arch[0], f"{rel(path)} view {record.get('id')}")
            if record.get("model") == "ir.actions.act_window":
                res_model = record.find("field[@name='res_model']")
                check(res_model is not None and res_model.text in models, f"{rel(path)}: action {record.get('id')} opens a model of the addon")
                mode = record.find("field[@name='view_mode']")
                check(mode is None or "tree" not in (mode.text or ""), f"{rel(path)}: action {record.get('id')} view_mode uses list, not tree")
            if record.get("model") == "ir.config_parameter":
                parents = [d for d in root.iter("data") if record in list(d)]
                check(root.get("noupdate") == "1" or any(d.get("noupdate") == "1" for d in parents),
                      f"{rel(path)}: config parameter {record.get('id')} is noupdate")


GO_SYNC = os.path.join(ROOT, "odoo", "sync_requests.go")
# The curation sync (issue 14) keeps its method name beside its code.
GO_SYNC_MORE = [os.path.join(ROOT, "odoo", "sync_decisions.go")]
GUARDED = {"influence_gen.ai_image_generation_request": "UpsertMethod", "influence_gen.generated_image": "AttachMethod"}


def go_constants():
    """String constants of odoo/sync_requests.go (and the curation sync's file): {name: value}."""
    if not os.path.exists(GO_SYNC):
        return {}
    out = {}
    for path in [GO_SYNC] + [p for p in GO_SYNC_MORE if os.path.exists(p)]:
        with open(path, encoding="utf-8") as f:
            out.update(re.findall(r'^\s*(?:const\s+)?(\w+)\s*=\s*"([^"]*)"', f.read(), re.M))
    return out


def model_methods():
    """{model name: {method name: ast.FunctionDef}} from models/*.py."""
    out = {}
    for path in files(".py"):
        if os.sep + "models" + os.sep not in path:
            continue
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        for cls in [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]:
            name = None
            for stmt in cls.body:
                if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) \
                        and stmt.targets[0].id == "_name" and isinstance(stmt.value, ast.Constant):
                    name = stmt.value.value
            inherit = [stmt.value.value for stmt in cls.body if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                       and isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id == "_inherit"
                       and isinstance(stmt.value, ast.Constant)]
            name = name or (inherit[0] if inherit else None)
            if name:
                out.setdefault(name, {}).update({f.name: f for f in cls.body if isinstance(f, ast.FunctionDef)})
    return out


def is_api_model(fn):
    return any(isinstance(d, ast.Attribute) and d.attr == "model" and isinstance(d.value, ast.Name) and d.value.id == "api"
               for d in fn.decorator_list)


def check_guarded_methods(models, manifest):
    consts = go_constants()
    if not check(bool(consts), f"{GO_SYNC} defines the guarded method names"):
        return
    methods = model_methods()
    for model, const in GUARDED.items():
        method = consts.get(const)
        fn = methods.get(model, {}).get(method)
        if check(fn is not None, f"{model} defines {method} (odoo.{const}, called by the Go sync)"):
            check(is_api_model(fn), f"{model}.{method} is @api.model (JSON-2 calls it without ids)")
            check([a.arg for a in fn.args.args] == ["self", "vals_list"],
                  f"{model}.{method} takes (self, vals_list), the argument the Go sync sends")
    queue = {("influence_gen.ai_image_generation_request", "ClaimMethod"): ["self", "host", "limit", "timeout", "models"],
             (consts.get("ModelModel"), "PublishMethod"): ["self", "names", "default_model", "default_resolution"]}
    for (model, const), args in queue.items():
        fn = methods.get(model, {}).get(consts.get(const))
        if check(fn is not None, f"{model} defines {consts.get(const)} (odoo.{const}, called by the Go queue poller)"):
            check(is_api_model(fn), f"{model}.{fn.name} is @api.model")
            check([a.arg for a in fn.args.args] == args, f"{model}.{fn.name} takes ({', '.join(args)})")
    for action in ("action_generate", "action_cancel"):
        check(action in methods.get("influence_gen.ai_image_generation_request", {}),
              f"the request model defines {action} (the form's buttons)")
    req = models.get("influence_gen.ai_image_generation_request", {"fields": {}})
    check(req["fields"].get("app_updated_at", (None,))[0] == "Char",
          "the request model has app_updated_at (Char: nanoseconds, which a Datetime would drop)")
    check(manifest.get("version") == consts.get("AddonVersion"),
          f"manifest version {manifest.get('version')!r} == odoo.AddonVersion {consts.get('AddonVersion')!r}")
    for model, fns in methods.items():
        for fn in fns.values():
            calls = [n for n in ast.walk(fn) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)]
            executes = [c for c in calls if c.func.attr == "execute"]
            for c in executes:
                arg = c.args[0] if c.args else None
                check(isinstance(arg, ast.Call) and getattr(arg.func, "id", "") == "SQL",
                      f"{model}.{fn.name}: cr.execute takes an odoo.tools.SQL(...), not a formatted string (line {c.lineno})")
            writes = any(c.func.attr in ("write", "create") for c in calls)
            if executes and writes:
                first_exec = min(c.lineno for c in executes)
                flushes = [c.lineno for c in calls if c.func.attr.startswith("flush")]
                reads_locked = any("FOR UPDATE" in ast.unparse(c) for c in executes)
                if reads_locked and "SELECT id, app_updated_at" in ast.unparse(fn):
                    check(any(line < first_exec for line in flushes),
                          f"{model}.{fn.name}: flushes the ORM before its raw read (line {first_exec})")


def version_tuple(v):
    return tuple(int(x) for x in v.split(".")) if re.fullmatch(r"\d+(\.\d+)*", v or "") else None


def check_migrations(manifest):
    root = os.path.join(ADDON, "migrations")
    if not os.path.isdir(root):
        return
    top = version_tuple(manifest.get("version", ""))
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if not os.path.isdir(path):
            continue
        v = version_tuple(name)
        check(v is not None and top is not None and v <= top, f"migrations/{name} names a version up to the manifest's")
        for script in sorted(os.listdir(path)):
            if not script.endswith(".py"):
                continue
            check(script in ("pre-migrate.py", "post-migrate.py", "end-migrate.py"),
                  f"migrations/{name}/{script} is pre-, post- or end-migrate.py")
            with open(os.path.join(path, script), encoding="utf-8") as f:
                tree = ast.parse(f.read())
            check(any(isinstance(n, ast.FunctionDef) and n.name == "migrate" and [a.arg for a in n.args.args] == ["cr", "version"]
                      for n in tree.body), f"migrations/{name}/{script} defines migrate(cr, version)")


def check_tests():
    root = os.path.join(ADDON, "tests")
    if not os.path.isdir(root):
        return
    init = os.path.join(root, "__init__.py")
    if not check(os.path.exists(init), "tests/__init__.py exists"):
        return
    with open(init, encoding="utf-8") as f:
        imported = set(re.findall(r"^from \. import (\w+)", f.read(), re.M))
    for name in sorted(os.listdir(root)):
        if name.startswith("test_") and name.endswith(".py"):
            check(name[:-3] in imported, f"tests/__init__.py imports {name[:-3]} (Odoo runs only imported tests)")
            with open(os.path.join(root, name), encoding="utf-8") as f:
                tree = ast.parse(f.read())
            for cls in [n for n in tree.body if isinstance(n, ast.ClassDef)]:
                if any(getattr(b, "id", "").endswith("Case") for b in cls.bases):
                    check(any(isinstance(d, ast.Call) and getattr(d.func, "id", "") == "tagged" for d in cls.decorator_list),
                          f"tests/{name}: {cls.name} is @tagged (post_install, -at_install)")


def check_curation(models):
    """Issue 14: the fields, method and views the curation sync and the Gallery need."""
    consts = go_constants()
    image = models.get("influence_gen.generated_image", {"fields": {}})["fields"]
    want = {"favorite": "Boolean", "approval_state": "Selection", "approved_by": "Char", "approved_at": "Datetime",
            "app_decided_at": "Char"}
    for name, kind in want.items():
        check(image.get(name, (None,))[0] == kind, f"generated_image.{name} is a {kind} (the decision the app syncs)")
    req = models.get("influence_gen.ai_image_generation_request", {"fields": {}})["fields"]
    check(req.get("batch_ref", (None,))[0] == "Char", "the request model has batch_ref (Char: the app's batch id)")
    method = consts.get("DecideMethod")
    fn = model_methods().get("influence_gen.generated_image", {}).get(method)
    if check(method and fn is not None, f"generated_image defines {method} (odoo.DecideMethod, called by the Go sync)"):
        check(is_api_model(fn), f"generated_image.{method} is @api.model")
        check([a.arg for a in fn.args.args] == ["self", "vals_list"], f"generated_image.{method} takes (self, vals_list)")
        src = ast.unparse(fn)
        check("app_decided_at" in src and "FOR UPDATE" in src and "flush_model" in src,
              f"generated_image.{method} locks the row, flushes first and compares app_decided_at")
    views = os.path.join(ADDON, "views", "generated_image_views.xml")
    root = ET.parse(views).getroot() if os.path.exists(views) else ET.Element("odoo")
    kanban = [r for r in root.iter("record") if r.get("model") == "ir.ui.view" and r.find(".//kanban") is not None]
    if check(len(kanban) == 1, "generated_image_views.xml has one kanban view (the Gallery)"):
        names = {f.get("name") for f in kanban[0].iter("field")}
        check({"image_preview", "favorite", "approval_state"} <= names, "the Gallery card shows the picture, star and approval")
        check(any(f.get("widget") == "boolean_favorite" for f in kanban[0].iter("field") if f.get("name") == "favorite"),
              "the Gallery's star is a boolean_favorite (clickable on the card)")
    filters = {f.get("string"): f.get("domain", "") for f in root.iter("filter")}
    for label, needle in (("Approved", "approval_state"), ("Favourites", "favorite"), ("My requests", "is_mine")):
        check(needle in filters.get(label, ""), f"the image search has the filter {label!r} on {needle}")
    actions = [r for r in root.iter("record") if r.get("model") == "ir.actions.act_window"
               and any(f.get("name") == "name" and f.text == "Gallery" for f in r.iter("field"))]
    if check(len(actions) == 1, "an action named Gallery opens the images"):
        mode = next((f.text for f in actions[0].iter("field") if f.get("name") == "view_mode"), "")
        check(mode.startswith("kanban"), f"the Gallery action opens the kanban first (view_mode {mode!r})")
        menus = os.path.join(ADDON, "views", "menus.xml")
        with open(menus, encoding="utf-8") as f:
            check(f'action="{actions[0].get("id")}"' in f.read(), "a menu opens the Gallery")


def main():
    if not os.path.isdir(ADDON):
        print(f"FAIL: addon folder {ADDON} not found")
        print("0 passed, 1 failed")
        return 1
    tmp = tempfile.mkdtemp(prefix="check-addon-")  # keep __pycache__ out of the repo
    for path in files(".py"):
        try:
            py_compile.compile(path, doraise=True, cfile=os.path.join(tmp, rel(path).replace(os.sep, "_") + "c"))
            check(True, f"{rel(path)} compiles")
        except py_compile.PyCompileError as e:
            check(False, f"{rel(path)} compiles: {e.msg}")
    models = model_definitions()
    check(len(models) >= 2, f"the addon defines its models (found {sorted(models)})")
    manifest = check_manifest()
    check_access(models)
    check_xml(models)
    check_guarded_methods(models, manifest)
    check_migrations(manifest)
    check_curation(models)
    check_tests()
    print(f"addon: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
