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
  - ir.config_parameter data is noupdate.

Prints one line per problem and "N passed, N failed" at the end; exits 1 on
any failure.
"""
import ast
import csv
import os
import py_compile
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
    models = {}
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
                models[name] = {"fields": fields, "inherit": inherit}
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
        check(data[0] == "security/ir.model.access.csv", "access rights load first")
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
    check_manifest()
    check_access(models)
    check_xml(models)
    print(f"addon: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
