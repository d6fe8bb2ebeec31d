"""The configuration reference and the JSON Schema, both generated from the pydantic models.

    python -m nncli.config.docs > docs/config.md            # the reference (a test keeps it current)
    python -m nncli.config.docs --schema > docs/nncli.schema.json   # same as `nncli schema`

The reference lists every key as a dotted path with its type, default, allowed values and
description; keys of a choice (optimizer, schedule, loss, generator) are listed per `name`.
"""

from __future__ import annotations

import json
import sys
import types
import typing

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from .schema import Config

SCHEMA_ID = "https://nncli.invalid/config.schema.json"
# Keys whose value may also be written as just the name (`optimizer: adam`), and the name used
# when a mapping leaves it out.
_SHORTHAND = {"optimizer": "AdamConfig", "schedule": "ConstantSchedule", "loss": None}


# ---------------------------------------------------------------- JSON Schema
def json_schema() -> dict:
    """Config's JSON Schema (draft 2020-12), accepting the name shorthands nncli accepts."""
    schema = Config.model_json_schema()
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
    schema["title"] = "nncli config"
    defs = schema["$defs"]
    props = defs["TrainingConfig"]["properties"]
    for key, default_def in _SHORTHAND.items():
        prop = props[key]
        tags = sorted(prop.get("discriminator", {}).get("mapping", {}))
        union = {k: prop.pop(k) for k in ("oneOf", "discriminator") if k in prop}
        prop["anyOf"] = [{"type": "string", "enum": tags}, {"oneOf": union["oneOf"]}]
        if default_def is not None:  # a mapping without name means the default
            req = defs[default_def].get("required", [])
            if "name" in req:
                req.remove("name")
            if not req:
                defs[default_def].pop("required", None)
    defs["ModelConfig"]["properties"]["init_from"]["anyOf"].insert(0, {"type": "string"})  # init_from: RUN_DIR
    return schema


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- the reference
def _unwrap(tp) -> tuple[list, list]:
    """(concrete candidate types, constraint metadata) of an annotation."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        inner, *extra = typing.get_args(tp)
        types_, meta = _unwrap(inner)
        for e in extra:
            if isinstance(e, FieldInfo):
                meta += list(e.metadata)
            else:
                meta.append(e)
        return types_, meta
    if origin is typing.Union or origin is types.UnionType:
        out, meta = [], []
        for a in typing.get_args(tp):
            t, m = _unwrap(a)
            out += t
            meta += m
        return out, meta
    return [tp], []


def _is_model(tp) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _type_text(tp) -> str:
    cands, _ = _unwrap(tp)
    parts = []
    for t in cands:
        origin = typing.get_origin(t)
        if t is type(None):
            continue
        if origin is typing.Literal:
            parts.append("string" if all(isinstance(a, str) for a in typing.get_args(t)) else "value")
        elif origin in (list, tuple):
            parts.append(f"list of {_type_text(typing.get_args(t)[0])}")
        elif origin is dict:
            k, v = typing.get_args(t)
            parts.append(f"mapping {_type_text(k)} → {_type_text(v)}")
        elif _is_model(t):
            parts.append("mapping")
        else:
            parts.append({int: "integer", float: "number", bool: "boolean", str: "string"}.get(t, getattr(t, "__name__", str(t))))
    parts = list(dict.fromkeys(parts))
    text = " or ".join(parts) or "null"
    if type(None) in cands:
        text += " or null"
    return text


_OPS = [(annotated_types.Gt, "gt", ">"), (annotated_types.Ge, "ge", "≥"), (annotated_types.Lt, "lt", "<"),
        (annotated_types.Le, "le", "≤")]


def _allowed_text(info: FieldInfo) -> str:
    cands, meta = _unwrap(info.annotation)
    meta = list(info.metadata) + meta
    out = []
    for t in cands:
        if typing.get_origin(t) is typing.Literal:
            out += [str(a) for a in typing.get_args(t)]
        elif typing.get_origin(t) in (list, tuple):
            inner, _ = _unwrap(typing.get_args(t)[0])
            for i in inner:
                if typing.get_origin(i) is typing.Literal:
                    out += [str(a) for a in typing.get_args(i)]
    bounds = []
    for m in meta:
        for cls, attr, op in _OPS:
            if isinstance(m, cls):
                bounds.append(f"{op} {getattr(m, attr)}")
        if isinstance(m, annotated_types.MinLen):
            bounds.append(f"at least {m.min_length} item{'s' if m.min_length != 1 else ''}")
        if getattr(m, "pattern", None):
            bounds.append(f"matches `{m.pattern}`")
    text = ", ".join(out)
    if bounds:
        text = (text + "; " if text else "") + ", ".join(bounds)
    return text


def _default_text(info: FieldInfo) -> str:
    if info.default_factory is not None:
        value = info.default_factory()
        if isinstance(value, BaseModel):
            dumped = value.model_dump(mode="json")
            return dumped["name"] if "name" in dumped else "(see keys below)"
        return json.dumps(value)
    if info.default is PydanticUndefined:
        return "**required**"
    value = info.default
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
        return f"{value:g}"
    return str(value)


def _tag(model: type[BaseModel]) -> str | None:
    info = model.model_fields.get("name")
    if info is None:
        return None
    cands, _ = _unwrap(info.annotation)
    tags = [str(a) for t in cands if typing.get_origin(t) is typing.Literal for a in typing.get_args(t)]
    return ", ".join(tags) if tags else None


def _rows(model: type[BaseModel], prefix: str, out: list[tuple], section: str) -> None:
    nested: list[tuple] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        type_ = _type_text(info.annotation)
        if model.__name__ == "TrainingConfig" and name in _SHORTHAND:
            type_ = "string (a name) or mapping"
        desc = info.description or ""
        if name == "name" and not desc and prefix:
            desc = f"Chooses the {prefix.rsplit('.', 1)[-1]}."
        out.append((section, path, type_, _default_text(info), _allowed_text(info), desc, _doc(model)))
        cands, _ = _unwrap(info.annotation)
        models = [t for t in cands if _is_model(t)]
        for t in cands:  # list of models: model.layers[i]
            if typing.get_origin(t) in (list, tuple):
                models_in = [m for m in _unwrap(typing.get_args(t)[0])[0] if _is_model(m)]
                for m in models_in:
                    nested.append((m, f"{path}[i]", f"{path}[i]"))
        if len(models) == 1 and _tag(models[0]) is None:
            nested.append((models[0], path, path))
        elif models:
            for m in models:
                nested.append((m, path, f"{path} with name: {_tag(m)}"))
    for m, p, s in nested:
        _rows(m, p, out, s)


def _doc(model: type[BaseModel]) -> str:
    doc = model.__dict__.get("__doc__") or ""
    return " ".join(doc.strip().split("\n\n")[0].split())


def reference_rows() -> list[tuple]:
    """(section, dotted key, type, default, allowed, description, section text) for every key."""
    rows: list[tuple] = []
    _rows(Config, "", rows, "top level")
    return rows


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown() -> str:
    lines = [
        "# Configuration reference",
        "",
        "<!-- Generated by `python -m nncli.config.docs > docs/config.md` from the pydantic models in",
        "     nncli/config.py and nncli/generators.py; do not edit by hand (a test checks it is current). -->",
        "",
        "Every key an nncli config accepts, as a dotted path (`model.layers[i]` is each item of the",
        "list). Unknown keys are errors. `optimizer`, `schedule` and `loss` may be written as just a name",
        "(`optimizer: adam`); a choice's keys depend on its `name` and are listed per name below.",
        "Print any config with every default filled in with `nncli config CONFIG`; check it with",
        "`nncli validate CONFIG`; editors get completion from `nncli schema` (see the README).",
        "",
    ]
    current = None
    for section, path, type_, default, allowed, desc, doc in reference_rows():
        if section != current:
            current = section
            lines += [f"## {'`' + section + '`' if section != 'top level' else 'Top level'}", ""]
            if doc and section != "top level":
                lines += [doc.replace("``", "`"), ""]
            lines += ["| key | type | default | allowed | description |", "|---|---|---|---|---|"]
        lines.append("| " + " | ".join(_cell(x) for x in (f"`{path}`", type_, default, allowed, desc)) + " |")
    text = "\n".join(lines)
    # a blank line before every heading after a table
    text = text.replace("|\n## ", "|\n\n## ")
    return text + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    sys.stdout.write(schema_text() if "--schema" in argv else markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
