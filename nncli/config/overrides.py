"""The one command-line value parser: ``--set dotted.path=value`` and the values of ``--grid``.

A value is read as YAML with nncli's loader (so ``1e-3`` is the float it looks like, and the same
size, depth and alias limits hold as for a config file).  An :class:`Override` is a parsed
``dotted.path=value``: the command line gives text (:func:`parse_override`), a sweep gives the
value itself (``Override("training.epochs", 50)``), and :func:`apply_overrides` puts either into a
:class:`~nncli.config.load.Source`, remembering the ``--set ...`` text as the place of every value
it set, so later messages point at it.  :func:`format_value` writes a value back as YAML text
that reads as the same value (for display: ids, tables, recorded overrides).
"""

from __future__ import annotations

import copy
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Iterable

from nncli.errors import ConfigError

from .load import MAX_BYTES, Source, _compose, _Converter, _Problem

__all__ = [
    "Override",
    "apply_overrides",
    "format_value",
    "jsonable",
    "parse_override",
    "parse_value",
    "split_top_level",
]

_INDEX = re.compile(r"^[0-9]+$")


@dataclass(frozen=True)
class Override:
    """``key`` (a dotted path: ``model.layers.0.units``) set to ``value`` (plain data).

    ``text`` is what the command line said (``key=value``); for an override built from a value it
    is ``key=<format_value(value)>``.  ``str()`` gives it: that is what metrics.json records.
    """

    key: str
    value: Any
    text: str = ""

    def __post_init__(self) -> None:
        if not self.text:
            object.__setattr__(self, "text", f"{self.key}={format_value(self.value)}")

    @property
    def origin(self) -> str:
        """Where values it sets came from, in messages: ``--set key=value``."""
        return f"--set {self.text}"

    def __str__(self) -> str:
        return self.text


def _fail(origin: str, message: str):
    raise ConfigError(f"{origin}: {message}")


def _segments(path_text: str, origin: str) -> list[str]:
    path_text = path_text.strip()
    if not path_text:
        _fail(origin, "nothing before '='; write dotted.path=value (for example training.epochs=50)")
    segments = path_text.split(".")
    if any(not s.strip() for s in segments):
        _fail(origin, f"empty part in the path {path_text!r}; parts are separated by single dots")
    return [s.strip() for s in segments]


def parse_override(item: str) -> Override:
    """``training.epochs=50`` -> Override("training.epochs", 50); a bad item is a ConfigError line
    starting ``--set ITEM:``."""
    origin = f"--set {item}"
    if not isinstance(item, str) or "=" not in item:
        _fail(origin, "expected dotted.path=value (for example training.epochs=50); there is no '='")
    path_text, value_text = item.split("=", 1)
    segments = _segments(path_text, origin)
    if not value_text.strip():
        _fail(origin, f"no value after '='; write {path_text.strip()}=null to clear it")
    value = parse_value(value_text, origin, tuple(segments))
    return Override(".".join(segments), value, item)


def parse_value(text: str, origin: str, base: tuple = ()) -> Any:
    """One command-line value as YAML (``1e-3`` is a float, empty text is None).  ``origin`` starts
    each error line; ``base`` is the dotted path the value goes to (for duplicate-key messages)."""
    if len(text) > MAX_BYTES:
        raise ConfigError(f"{origin}: the value is larger than 1 MiB")
    try:
        node = _compose(text)
    except _Problem as exc:
        if not exc.syntax:
            raise ConfigError(f"{origin}: the value is {exc.problem}") from None
        raise ConfigError(
            f"{origin}: the value is not valid YAML ({exc.problem}); "
            "quote text containing ': ', '#', '[' or '{'"
        ) from None
    if node is None:
        return None
    conv = _Converter(origin, positions=False)
    value = conv.convert(node, base)
    if conv.errors:
        raise ConfigError(conv.errors)
    return value


def split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside [] or {} (so ``[8,8],[16]`` gives two values)."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def format_value(v: Any) -> str:
    """A value as YAML that reads back as the same value (1e-05 becomes 1.0e-05 for YAML 1.1)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, float):
        if math.isnan(v):
            return ".nan"
        if math.isinf(v):
            return ".inf" if v > 0 else "-.inf"
        s = repr(v)
        if "e" in s:
            mant, exp = s.split("e")
            if "." not in mant:
                mant += ".0"
            if exp[0] not in "+-":
                exp = "+" + exp
            s = f"{mant}e{exp}"
        return s
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        # Bare when this module's parser reads it back as the same text (not '1e-3', a float here).
        try:
            if "," not in v and v.strip() and parse_value(v, "") == v:
                return v
        except ConfigError:
            pass
        return json.dumps(v)
    return json.dumps(jsonable(v), separators=(",", ":"))


def jsonable(v: Any) -> Any:
    """Tuples as lists and keys as text, recursively (for JSON)."""
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    return v


def apply_overrides(source: Source, overrides: Iterable[str | Override]) -> Source:
    """Return a new Source with the overrides applied in order (input untouched); text items are
    parsed with :func:`parse_override`."""
    new = Source(
        source.path,
        copy.deepcopy(source.data),
        dict(source.value_pos),
        dict(source.key_pos),
        dict(source.origins),
    )
    for item in overrides:
        _apply_one(new, item if isinstance(item, Override) else parse_override(item))
    return new


def _apply_one(src: Source, override: Override) -> None:
    origin = override.origin

    def fail(message: str):
        _fail(origin, message)

    segments = _segments(override.key, origin)
    value = copy.deepcopy(override.value)  # the Source owns its data; the override may be reused

    if not isinstance(src.data, dict):  # pragma: no cover - sources are always mappings
        fail("the config is not a mapping")
    container: Any = src.data
    path: tuple = ()
    created = []
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        shown = ".".join(segments[:i]) or "the config"
        if isinstance(container, list):
            if not _INDEX.match(seg):
                fail(f"{shown} is a list; use an index {_index_range(container)} instead of {seg!r}")
            idx = int(seg)
            if idx >= len(container):
                if container:
                    fail(f"{shown} has {len(container)} item{'s' if len(container) != 1 else ''} "
                         f"(indices {_index_range(container)})")
                fail(f"{shown} is an empty list, so it has no item {idx}")
            key: Any = idx
        elif isinstance(container, dict):
            key = _find_key(container, seg)
            if key is None:
                if _INDEX.match(seg):
                    fail(f"{shown} is a mapping, not a list, and has no key {seg!r}")
                key = seg
        else:
            fail(f"{shown} is {_describe(container)}, not a mapping or list, so it has no "
                 f"{'item' if _INDEX.match(seg) else 'key'} {seg!r}")
        path = path + (key,)
        if last:
            container[key] = value
            break
        nxt = container.get(key) if isinstance(container, dict) else container[key]
        if nxt is None:
            if _INDEX.match(segments[i + 1]):
                fail(f"{'.'.join(segments[: i + 1])} does not exist, so it cannot be indexed; "
                     "set the whole list instead")
            nxt = {}
            container[key] = nxt
            created.append(path)
        container = nxt

    # Forget file positions of what was replaced; remember where the new values came from.
    for mapping in (src.value_pos, src.key_pos, src.origins):
        for p in [p for p in mapping if p[: len(path)] == path]:
            del mapping[p]
    for p in created:
        src.origins[p] = origin
    src.origins[path] = origin
    for sub in _subpaths(value, path):
        src.origins[sub] = origin


def _find_key(mapping: dict, seg: str):
    if seg in mapping:
        return seg
    if _INDEX.match(seg) and int(seg) in mapping:
        return int(seg)
    return None


def _index_range(lst: list) -> str:
    return f"0-{len(lst) - 1}" if len(lst) > 1 else "0"


def _subpaths(value, path):
    if isinstance(value, dict):
        for k, v in value.items():
            yield path + (k,)
            yield from _subpaths(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield path + (i,)
            yield from _subpaths(v, path + (i,))


def _describe(value) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    if isinstance(value, (int, float)):
        return f"{value!r} (a number)"
    if isinstance(value, str):
        return f"{value!r} (text)"
    return repr(value)
