"""Messages about config values: did-you-mean, dotted paths, positions, pydantic errors.

:func:`format_validation_error` turns a pydantic ``ValidationError`` into one line per problem::

    configs/xor.yaml:12:7: model.layers[1].activaton: unknown key — did you mean 'activation'?
    --set training.optimizer.learning_rate=-1: training.optimizer.learning_rate: must be > 0, got -1

It works for any pydantic model.  Positions come from a :class:`nncli.config.load.Source`; this
module imports nothing from the rest of nncli.config, so load.py and overrides.py can use it.
"""

from __future__ import annotations

import enum
import re
import typing
from typing import TYPE_CHECKING, Any, Iterable

import pydantic

from .suggest import _field_names, _is_model, _key_hint, _unwrap, did_you_mean, dotted

if TYPE_CHECKING:  # only for annotations: load.py imports this module
    from .load import Source

__all__ = [
    "MAX_LINE",
    "cap_line",
    "did_you_mean",
    "human_bytes",
    "dotted",
    "format_validation_error",
    "located",
    "position_prefix",
]


MAX_LINE = 1000  # characters in one message line: room for a long path, the problem and the fix
_HEAD, _TAIL = 300, 140
_LONG_WORD = re.compile(r"[^\s,]{120,}")


def cap_line(line: str, limit: int = MAX_LINE) -> str:
    """One message line cut to at most ~``limit`` characters: the start (the place and what is
    wrong) and the end (the fix) are kept, the middle -- a 5000-class list, a huge value -- is
    replaced by ``… (N characters left out) …``.  Shorter lines come back unchanged."""
    if len(line) <= limit:
        return line
    # First each huge word (a value, a key, a path) on its own, so what is wrong stays readable...
    line = _LONG_WORD.sub(lambda m: f"{m.group()[:60]}…({len(m.group()) - 80:,} characters left out)…{m.group()[-20:]}", line)
    if len(line) <= limit:
        return line
    # ...then the middle of the line (a long list), keeping the place and the fix.
    head, tail = line[:_HEAD], line[-_TAIL:]
    return f"{head} … ({len(line) - _HEAD - _TAIL:,} characters left out) … {tail}"


def human_bytes(n: int) -> str:
    """1 -> '1 byte', 80_000_000_000 -> '74.5 GiB' (binary units, one decimal); any size of int."""
    if n < 1024:
        return f"{n} byte{'s' if n != 1 else ''}"
    units = ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")
    k = 1
    while k < len(units) and n >= 1024 ** (k + 1):
        k += 1
    whole = n // 1024 ** k
    if whole >= 1024:  # beyond YiB: say how many digits rather than print them
        return "more than 1024 YiB" if len(str(whole)) > 15 else f"{whole:,} YiB"
    return f"{n / 1024 ** k:.1f} {units[k - 1]}"


def position_prefix(source: Source, path: Iterable[Any], *, key: bool = False) -> str:
    """'FILE:LINE:COL' (or the '--set ...' text) for a data path; nearest known place otherwise.

    With ``key=True`` the position of the mapping key is preferred (for 'unknown key' errors).
    """
    path = tuple(path)
    for n in range(len(path), -1, -1):
        if path[:n] in source.origins:
            return source.origins[path[:n]]
    if key and path in source.key_pos:
        line, col = source.key_pos[path]
        return f"{source.path}:{line}:{col}"
    for n in range(len(path), -1, -1):
        if path[:n] in source.value_pos:
            line, col = source.value_pos[path[:n]]
            return f"{source.path}:{line}:{col}"
    return source.path


def located(source: Source, path: Iterable[Any], message: str, *, key: bool = False) -> str:
    """One error line 'FILE:LINE:COL: dotted.path: message' for the config's own checks."""
    path = tuple(path)
    return f"{position_prefix(source, path, key=key)}: {dotted(path)}: {message}"


# --------------------------------------------------------------------------------------------
# pydantic errors

_TYPE_EXPECT = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "int_parsing_size": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "decimal_type": "a number",
    "decimal_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "text",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "frozen_set_type": "a list",
    "iterable_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "dataclass_type": "a mapping",
    "none_required": "null",
}
_CHOICE_TYPES = {"literal_error", "enum"}
_BOUNDS = {
    "greater_than": ("gt", ">"),
    "greater_than_equal": ("ge", ">="),
    "less_than": ("lt", "<"),
    "less_than_equal": ("le", "<="),
}


def format_validation_error(
    exc: pydantic.ValidationError, source: Source, model: type | None = None
) -> list[str]:
    """One line per pydantic error, sorted by position, de-duplicated.

    ``model`` (the validated pydantic class) lets unknown-key errors suggest the allowed keys.
    """
    errors = exc.errors(include_url=False)
    resolved = []
    for err in errors:
        loc = tuple(err.get("loc", ()))
        path, skipped = _data_path(source.data, loc)
        resolved.append((err, loc, path, skipped))

    # An unknown key that did-you-means to a missing required key of the same mapping
    # ('activaton' for 'activation') already says what to fix: drop the "missing" line.
    suggested = set()
    for err, loc, path, skipped in resolved:
        if err["type"] == "extra_forbidden" and model is not None and loc:
            allowed = _allowed_keys(model, loc[:-1]) or []
            guess = did_you_mean(loc[-1], allowed)
            if guess is not None and guess != loc[-1]:
                suggested.add((loc[:-1], guess))
    resolved = [item for item in resolved
                if not (item[0]["type"] == "missing" and item[1] and (item[1][:-1], item[1][-1]) in suggested)]

    # A value that is a mapping or list and has errors inside it took the container branch of a
    # Union (class_weight: 'balanced' | {label: weight}): the other branch's "unknown value"
    # complaint about the whole container says nothing useful.
    inner = {item[2][:k] for item in resolved for k in range(len(item[2]))}
    resolved = [item for item in resolved
                if not (item[0]["type"] in _CHOICE_TYPES and item[2] in inner
                        and isinstance(_get(source.data, item[2]), (dict, list)))]

    # Errors from the branches of a plain Union (int | Literal['full']) at the same place
    # become one message.
    groups: dict[tuple, list] = {}
    singles = []
    for item in resolved:
        err, loc, path, skipped = item
        if skipped and err["type"] not in ("missing", "extra_forbidden"):
            groups.setdefault(path, []).append(item)
        else:
            singles.append(item)
    for path, items in groups.items():
        if len(items) == 1:
            singles.append(items[0])
            continue
        typed = [it for it in items if it[0]["type"] not in _TYPE_EXPECT and it[0]["type"] not in _CHOICE_TYPES]
        if typed:  # the value had the right type for some branch but broke its constraint
            singles.extend(typed)
            continue
        singles.append(("union", items, path))

    lines: list[tuple[tuple, str]] = []
    for item in singles:
        if item[0] == "union":
            _, items, path = item
            text = _union_message(items)
            lines.append(_line(source, path, text, key=False))
        else:
            err, loc, path, skipped = item
            lines.append(_error_line(err, loc, path, source, model))
    lines.sort(key=lambda t: t[0])
    out: list[str] = []
    seen = set()
    for _, text in lines:
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


def _data_path(data: Any, loc: tuple) -> tuple[tuple, bool]:
    """Map a pydantic loc onto the data, skipping elements (union tags, branch names) not in it."""
    path: list = []
    cur = data
    skipped = False
    for el in loc:
        if isinstance(cur, dict):
            key = el if el in cur else next((k for k in cur if str(k) == str(el)), _MISSING)
            if key is not _MISSING:
                path.append(key)
                cur = cur[key]
                continue
        elif isinstance(cur, list) and isinstance(el, int) and not isinstance(el, bool):
            if 0 <= el < len(cur):
                path.append(el)
                cur = cur[el]
                continue
        skipped = True
    return tuple(path), skipped


_MISSING = object()


def _line(source: Source, path: tuple, text: str, *, key: bool) -> tuple[tuple, str]:
    prefix = position_prefix(source, path, key=key)
    return _sort_key(source, prefix), f"{prefix}: {text}"


def _sort_key(source: Source, prefix: str) -> tuple:
    m = re.match(r"^.*:([0-9]+):([0-9]+)$", prefix)
    if prefix.startswith("--set "):
        order = list(dict.fromkeys(source.origins.values()))
        return (1, order.index(prefix) if prefix in order else 0, 0)
    if m:
        return (0, int(m.group(1)), int(m.group(2)))
    return (0, 0, 0)


def _show(value: Any) -> str:
    if value is None:
        return "nothing (the value is empty/null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return repr(value)


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value) if not isinstance(value, str) else value


def _parse_choices(expected: str) -> list[str]:
    quoted = re.findall(r"'((?:[^'\\]|\\.)*)'", expected)
    if quoted:
        return quoted
    return [p for p in re.split(r", | or ", expected) if p]


def _choices_text(choices: list[str]) -> str:
    return ", ".join(choices)


def _choice_message(value: Any, choices: list[str]) -> str:
    suggestion = did_you_mean(value, choices) if isinstance(value, str) else None
    text = f"unknown value {_show(value)}"
    if suggestion is not None:
        text += f" — did you mean {suggestion!r}?"
    return text + f" (allowed: {_choices_text(choices)})"


def _error_line(err: dict, loc: tuple, path: tuple, source: Source, model) -> tuple[tuple, str]:
    etype = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    name = dotted(path)

    if etype == "extra_forbidden":
        key = path[-1] if path else (loc[-1] if loc else "?")
        allowed = _allowed_keys(model, loc[:-1]) if model is not None else None
        text = f"{name}: unknown key"
        elsewhere = _branches_with_key(model, loc, str(key)) if model is not None else None
        if elsewhere:
            disc, tag, tags = elsewhere
            parent = _get(source.data, path[:-1])
            given = isinstance(parent, dict) and disc in parent
            kind = f"{path[-2]} " if len(path) >= 2 and isinstance(path[-2], str) else ""
            text += (f" for {kind}{tag!r}{'' if given else ' (the default)'}"
                     f" — {key} is a key of {', '.join(tags)} only: set {dotted(path[:-1] + (disc,))}"
                     f" to {' or '.join(tags)} too")
        else:
            hint = _key_hint(model, str(key), allowed or [], path[:-1])
            if hint is not None:
                text += f" — did you mean {hint}?"
            elif allowed:
                text += f" (allowed: {', '.join(allowed)})"
        return _line(source, path, text, key=True)

    if etype == "missing":
        missing = loc[-1] if loc else "?"
        text = f"{name}: missing required key {missing!r}"
        return _line(source, path, text, key=True)

    if etype == "union_tag_invalid":
        disc = ctx.get("discriminator", "").strip("'")
        tag_path = path + (disc,) if isinstance(_get(source.data, path), dict) and disc in _get(source.data, path) else path
        choices = _parse_choices(str(ctx.get("expected_tags", "")))
        text = f"{dotted(tag_path)}: {_choice_message(ctx.get('tag', value), choices)}"
        return _line(source, tag_path, text, key=False)

    if etype == "union_tag_not_found":
        disc = ctx.get("discriminator", "").strip("'")
        tags = _union_tags(model, loc, disc) if model is not None else None
        text = f"{name}: missing required key {disc!r}"
        if tags:
            text += f" (one of: {', '.join(tags)})"
        if not isinstance(value, dict):
            text = f"{name}: expected a mapping with a {disc!r} key, got {_show(value)}"
            if isinstance(value, str) and tags and value in tags:
                text += f" — write {{{disc}: {value}}}"
        return _line(source, path, text, key=True)

    if etype in _CHOICE_TYPES:
        choices = None
        if model is not None:
            choices = _literal_choices(model, loc)
        if not choices:
            choices = _parse_choices(str(ctx.get("expected", "")))
        return _line(source, path, f"{name}: {_choice_message(value, choices)}", key=False)

    if etype in _BOUNDS:
        k, op = _BOUNDS[etype]
        return _line(source, path, f"{name}: must be {op} {_num(ctx.get(k))}, got {_show(value)}", key=False)

    if etype == "multiple_of":
        return _line(source, path, f"{name}: must be a multiple of {_num(ctx.get('multiple_of'))}, got {_show(value)}", key=False)

    if etype in ("too_short", "too_long"):
        kind = "at least" if etype == "too_short" else "at most"
        limit = ctx.get("min_length" if etype == "too_short" else "max_length")
        actual = ctx.get("actual_length")
        text = f"{name}: must have {kind} {limit} item{'s' if limit != 1 else ''}"
        if actual is not None:
            text += f", got {actual}"
        return _line(source, path, text, key=False)

    if etype in ("string_too_short", "string_too_long"):
        kind = "at least" if etype == "string_too_short" else "at most"
        limit = ctx.get("min_length" if etype == "string_too_short" else "max_length")
        text = f"{name}: must have {kind} {limit} character{'s' if limit != 1 else ''}, got {_show(value)}"
        return _line(source, path, text, key=False)

    if etype == "finite_number":
        return _line(source, path, f"{name}: must be a finite number, got {_show(value)}", key=False)

    if etype in _TYPE_EXPECT:
        expect = _TYPE_EXPECT[etype]
        text = f"{name}: expected {expect}, got {_show(value)}"
        if etype == "string_type" and isinstance(value, (int, float, bool)):
            text += f" — put it in quotes: '{_show(value)}'"
        elif expect == "a mapping" and isinstance(value, str) and model is not None:
            hint = _tag_hint(model, loc, value)
            if hint:
                text += f" — write {hint}"
        return _line(source, path, text, key=False)

    if etype in ("value_error", "assertion_error"):
        msg = str(err.get("msg", ""))
        for prefix in ("Value error, ", "Assertion failed, "):
            if msg.startswith(prefix):
                msg = msg[len(prefix):]
        return _line(source, path, f"{name}: {msg}", key=False)

    msg = str(err.get("msg", etype))
    if msg.startswith("Input should be "):
        msg = "must be " + msg[len("Input should be "):]
    elif msg:
        msg = msg[0].lower() + msg[1:]
    if "[key]" in loc:
        msg = f"invalid key: {msg}"
    return _line(source, path, f"{name}: {msg}", key="[key]" in loc)


def _union_message(items: list) -> str:
    expects: list[str] = []
    choices: list[str] = []
    value = items[0][0].get("input")
    path = items[0][2]
    for err, loc, _path, _ in items:
        if err["type"] in _CHOICE_TYPES:
            cs = _parse_choices(str((err.get("ctx") or {}).get("expected", "")))
            choices.extend(cs)
            expects.append(" or ".join(repr(c) for c in cs))
        else:
            expects.append(_TYPE_EXPECT.get(err["type"], err["type"]))
    expects = list(dict.fromkeys(expects))
    text = f"{dotted(path)}: expected {' or '.join(expects)}, got {_show(value)}"
    if isinstance(value, str) and choices:
        suggestion = did_you_mean(value, choices)
        if suggestion is not None:
            text += f" — did you mean {suggestion!r}?"
    return text


def _get(data, path):
    cur = data
    for p in path:
        try:
            cur = cur[p]
        except (KeyError, IndexError, TypeError):
            return None
    return cur


# --- walking pydantic model classes along a loc ------------------------------------------


def _walk(model, loc: tuple) -> list:
    """The candidate types at ``loc`` (union tags and branch names narrow or are skipped)."""
    cands = _unwrap(model)
    for el in loc:
        nxt = []
        for tp in cands:
            if _is_model(tp):
                fields = _field_names(tp)
                if isinstance(el, str) and el in fields:
                    nxt.extend(_unwrap(fields[el]))
                continue
            origin = typing.get_origin(tp)
            args = typing.get_args(tp)
            if origin in (list, tuple, set, frozenset) and isinstance(el, int) and args:
                item = args[0] if origin is not tuple or len(args) == 2 and args[1] is Ellipsis else (
                    args[el] if el < len(args) else args[-1])
                nxt.extend(_unwrap(item))
            elif origin is dict and args and el != "[key]":
                nxt.extend(_unwrap(args[1]))
        if nxt:
            cands = nxt
            continue
        # Not a field: a discriminator tag or branch name -- narrow the union if it names one.
        narrowed = [tp for tp in cands if _is_model(tp) and (tp.__name__ == el or el in _tags_of(tp))]
        if narrowed:
            cands = narrowed
    return cands


def _tags_of(cls, field_name: str | None = None) -> set:
    tags = set()
    for name, info in cls.model_fields.items():
        if field_name is not None and field_name not in (name, info.alias):
            continue
        for t in _unwrap(info.annotation):
            if typing.get_origin(t) is typing.Literal:
                tags.update(str(a) for a in typing.get_args(t))
    return tags


def _allowed_keys(model, loc: tuple) -> list[str] | None:
    try:
        cands = _walk(model, loc)
    except Exception:  # pragma: no cover - never let a helper hide the real error
        return None
    keys: list[str] = []
    for tp in cands:
        if _is_model(tp):
            keys.extend(_field_names(tp))
    return list(dict.fromkeys(keys)) or None


def _branches_with_key(model, loc: tuple, key: str) -> tuple[str, str, list[str]] | None:
    """For an unknown key inside one branch of a discriminated union (loc ends in its tag, then
    the key): (the discriminator field, the tag used, the tags of the branches that have the key)."""
    if len(loc) < 2 or not isinstance(loc[-2], str):
        return None
    try:
        branches = [tp for tp in _walk(model, loc[:-2]) if _is_model(tp)]
    except Exception:  # pragma: no cover
        return None
    tag = loc[-2]
    used = [tp for tp in branches if tag in _tags_of(tp)]
    if len(branches) < 2 or len(used) != 1:
        return None
    disc = next((f for f in _field_names(used[0]) if tag in _tags_of(used[0], f)), None)
    if disc is None:
        return None
    tags = [t for tp in branches if tp is not used[0] and key in _field_names(tp)
            for t in sorted(_tags_of(tp, disc))]
    return (disc, tag, list(dict.fromkeys(tags))) if tags else None


def _literal_choices(model, loc: tuple) -> list[str] | None:
    try:
        cands = _walk(model, loc)
    except Exception:  # pragma: no cover
        return None
    out: list[str] = []
    for tp in cands:
        if typing.get_origin(tp) is typing.Literal:
            out.extend(str(a) for a in typing.get_args(tp))
        elif isinstance(tp, type) and issubclass(tp, enum.Enum):
            out.extend(str(m.value) for m in tp)
    return list(dict.fromkeys(out)) or None


def _tag_hint(model, loc: tuple, value: str) -> str | None:
    """'{name: adam}' when a mapping was expected and the text names one of its tag values."""
    try:
        cands = _walk(model, loc)
    except Exception:  # pragma: no cover
        return None
    for tp in cands:
        if not _is_model(tp):
            continue
        for name, info in tp.model_fields.items():
            for t in _unwrap(info.annotation):
                if typing.get_origin(t) is typing.Literal and value in typing.get_args(t):
                    return f"{{{info.alias or name}: {value}}}"
    return None


def _union_tags(model, loc: tuple, disc: str) -> list[str] | None:
    try:
        cands = _walk(model, loc)
    except Exception:  # pragma: no cover
        return None
    tags: list[str] = []
    for tp in cands:
        if _is_model(tp):
            tags.extend(sorted(_tags_of(tp, disc)))
    return list(dict.fromkeys(tags)) or None
