#!/usr/bin/env python3
"""Generate avi-30.2.1.json, the compact object schema embedded in avi-sim.

Reads the official per-object swagger 2.0 files (alb-sdk `swagger/*.yaml`,
version 30.2.1) and keeps only what the emulator needs to validate and default
objects like a real controller: types, formats, defaults, `required`, and the
facts the spec only states in prose ("Enum options - ...", "Allowed values are
X-Y", "Maximum of N items allowed", "Field introduced in X", "It is a reference
to an object of type X"). Descriptions are dropped to keep the file small.

Usage (from the repo root):
    python3 crates/avi-sim/schema/gen.py ../shared/reference/avi/swagger

The output is deterministic (sorted keys, one definition per line) so that a
regeneration only shows real changes in review.
"""

import glob
import json
import os
import re
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SRC = os.path.join(HERE, "..", "..", "..", "..", "shared", "reference", "avi", "swagger")
OUT = os.path.join(HERE, "avi-30.2.1.json")

NUM = r"[-+]?\d+(?:\.\d+)?"
RE_ENUM = re.compile(r"Enum options - (.*?)\.(?:\s|$)")
RE_RANGE = re.compile(r"Allowed values are (" + NUM + r")-(" + NUM + r")\.")
RE_SPECIAL = re.compile(r"Special values are (.*?)\.(?:\s|$)")
RE_SPECIAL_ITEM = re.compile(r"(?:^|,)\s*(" + NUM + r")\s*-")
RE_MAX_ITEMS = re.compile(r"Maximum of (\d+) items allowed")
RE_MIN_ITEMS = re.compile(r"Minimum of (\d+) items required")
RE_INTRODUCED = re.compile(r"Field introduced in (\d+(?:\.\d+)+)")
RE_REF_TO = re.compile(r"It is a reference to an object of type (\w+)")
RE_DEF_REF = re.compile(r"^#/definitions/(\w+)$")

SCALAR_KINDS = {"string", "integer", "number", "boolean"}


def fail(msg):
    sys.exit("gen.py: " + msg)


def num(text, integral):
    value = float(text)
    if integral:
        if value != int(value):
            fail("non-integral bound %r for an integer field" % text)
        return int(value)
    return value


def def_name(ref):
    m = RE_DEF_REF.match(ref)
    if not m:
        fail("unsupported $ref %r" % ref)
    return m.group(1)


def convert_items(items, where):
    if "$ref" in items:
        return {"kind": "object", "ref": def_name(items["$ref"])}
    kind = items.get("type")
    if kind not in SCALAR_KINDS:
        fail("%s: unsupported items %r" % (where, items))
    out = {"kind": kind}
    if "format" in items:
        out["format"] = items["format"]
    return out


def convert_property(prop, where):
    desc = prop.get("description") or ""
    out = {}
    if "$ref" in prop:
        out["kind"] = "object"
        out["ref"] = def_name(prop["$ref"])
    else:
        kind = prop.get("type")
        if kind not in SCALAR_KINDS and kind != "array":
            fail("%s: unsupported type %r" % (where, kind))
        out["kind"] = kind
        if kind == "array":
            if "items" not in prop:
                fail("%s: array without items" % where)
            out["items"] = convert_items(prop["items"], where)
            # The spec puts the element format on the array itself for integer lists.
            if "format" in prop and "format" not in out["items"]:
                out["items"]["format"] = prop["format"]
        elif "format" in prop:
            out["format"] = prop["format"]
    elem_kind = out["items"]["kind"] if out["kind"] == "array" else out["kind"]
    integral = elem_kind == "integer"
    if "default" in prop:
        default = prop["default"]
        expected = {"string": str, "boolean": bool, "integer": int, "number": (int, float)}
        if out["kind"] not in expected or not isinstance(default, expected[out["kind"]]) or (
            out["kind"] == "integer" and isinstance(default, bool)
        ):
            fail("%s: default %r does not match kind %s" % (where, default, out["kind"]))
        out["default"] = default
    if prop.get("readOnly"):
        out["read_only"] = True
    m = RE_ENUM.search(desc)
    if m:
        out["enum"] = [v.strip() for v in m.group(1).split(",") if v.strip()]
    if elem_kind in ("integer", "number"):
        m = RE_RANGE.search(desc)
        if m:
            out["min"] = num(m.group(1), integral)
            out["max"] = num(m.group(2), integral)
        m = RE_SPECIAL.search(desc)
        if m:
            special = [num(v, integral) for v in RE_SPECIAL_ITEM.findall(m.group(1))]
            if special:
                out["special"] = special
    m = RE_MAX_ITEMS.search(desc)
    if m:
        out["max_items"] = int(m.group(1))
    m = RE_MIN_ITEMS.search(desc)
    if m:
        out["min_items"] = int(m.group(1))
    m = RE_INTRODUCED.search(desc)
    if m:
        # "Field introduced in 18.2.11, 20.1.3." lists backports; the first is the earliest.
        out["introduced"] = m.group(1)
    m = RE_REF_TO.search(desc)
    if m:
        out["ref_to"] = m.group(1)
    return out


def convert_definition(name, body):
    if body.get("type", "object") != "object":
        fail("definition %s is not an object" % name)
    props = {}
    for pname, prop in (body.get("properties") or {}).items():
        props[pname] = convert_property(prop, "%s.%s" % (name, pname))
    required = sorted(body.get("required") or [])
    for r in required:
        if r not in props:
            fail("definition %s requires unknown property %s" % (name, r))
    out = {"properties": props}
    if required:
        out["required"] = required
    return out


def body_model(op):
    for param in (op or {}).get("parameters") or []:
        if param.get("in") == "body" and "$ref" in (param.get("schema") or {}):
            return def_name(param["schema"]["$ref"])
    return None


def object_types(spec):
    """URL type -> model, from the paths that create (POST) or replace (PUT) whole objects."""
    found = {}
    for path, ops in (spec.get("paths") or {}).items():
        parts = [p for p in path.split("/") if p]
        if not parts or not (len(parts) == 1 or (len(parts) == 2 and parts[1] == "{uuid}")):
            continue
        model = body_model(ops.get("post")) or body_model(ops.get("put"))
        if model is None:
            continue
        url_type = parts[0]
        if found.get(url_type, model) != model:
            fail("type %s maps to both %s and %s" % (url_type, found[url_type], model))
        found[url_type] = model
    return found


def reachable(defs, roots):
    seen = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        if name not in defs:
            fail("missing definition %s" % name)
        seen.add(name)
        for prop in defs[name]["properties"].values():
            ref = prop.get("ref") or prop.get("items", {}).get("ref")
            if ref:
                todo.append(ref)
    return seen


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_SRC
    files = sorted(glob.glob(os.path.join(src, "*.yaml")))
    if not files:
        fail("no swagger files in %s" % src)
    defs = {}
    types = {}
    version = None
    for path in files:
        with open(path, encoding="utf-8") as f:
            spec = yaml.safe_load(f)
        v = str(spec.get("info", {}).get("version"))
        if version not in (None, v):
            fail("mixed spec versions %s and %s" % (version, v))
        version = v
        for name, body in (spec.get("definitions") or {}).items():
            conv = convert_definition(name, body)
            # Shared definitions (IpAddr, RoleFilterMatchLabel, ...) repeat in every file.
            if name in defs and defs[name] != conv:
                fail("definition %s differs between files" % name)
            defs[name] = conv
        for url_type, model in object_types(spec).items():
            if types.get(url_type, model) != model:
                fail("type %s maps to both %s and %s" % (url_type, types[url_type], model))
            types[url_type] = model
    # Drop list-response wrappers and action parameter bodies: only object trees are checked.
    keep = reachable(defs, types.values())
    defs = {k: v for k, v in defs.items() if k in keep}

    doc = {"version": version, "types": types, "definitions": defs}
    compact = dict(sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    lines = ["{"]
    lines.append('"version":%s,' % json.dumps(version, **compact))
    lines.append('"types":%s,' % json.dumps(types, **compact))
    lines.append('"definitions":{')
    names = sorted(defs)
    for i, name in enumerate(names):
        sep = "," if i + 1 < len(names) else ""
        lines.append("%s:%s%s" % (json.dumps(name), json.dumps(defs[name], **compact), sep))
    lines.append("}")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    # Round-trip as a self-check that the hand-assembled layout is valid JSON.
    if json.loads(text) != doc:
        fail("output does not round-trip")
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    print("wrote %s: %d types, %d definitions, %d bytes" % (OUT, len(types), len(defs), len(text)))


if __name__ == "__main__":
    main()
