"""YAML config loading that remembers where every value came from.

A :class:`Source` holds the plain data of a config file together with the 1-based (line, column)
of every value and every mapping key, and -- for values given on the command line -- the
``--set ...`` text that set them.  :func:`format_validation_error` turns a pydantic
``ValidationError`` into one line per problem of the form::

    configs/xor.yaml:12:7: model.layers[1].activaton: unknown key — did you mean 'activation'?
    --set training.optimizer.learning_rate=-1: training.optimizer.learning_rate: must be > 0, got -1

This module knows nothing about nncli's config models; it works for any pydantic model.
Only ``yaml.SafeLoader`` machinery is used: no arbitrary Python objects are ever constructed.
"""

from __future__ import annotations

import copy
import difflib
import enum
import os
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Iterable

import pydantic
import yaml

from nncli.errors import ConfigError

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "Source",
    "apply_overrides",
    "did_you_mean",
    "dotted",
    "format_validation_error",
    "load_yaml",
    "located",
    "parse_yaml_text",
    "position_prefix",
    "source_from_data",
]

MAX_BYTES = 1024 * 1024  # config files larger than this are refused
MAX_NODES = 100_000  # values after alias expansion (billion-laughs guard)
MAX_DEPTH = 100  # nesting depth of collections (RecursionError guard)


@dataclass
class Source:
    """A parsed config: plain data plus where each value came from."""

    path: str  # display path, as given by the user
    data: Any  # plain dicts / lists / scalars
    value_pos: dict[tuple, tuple[int, int]] = field(default_factory=dict)
    key_pos: dict[tuple, tuple[int, int]] = field(default_factory=dict)
    origins: dict[tuple, str] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Loading


class _Loader(yaml.SafeLoader):
    """SafeLoader that bounds nesting depth while composing and reads ``1e-3`` as a float."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooDeep(self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _TooDeep(Exception):
    def __init__(self, mark):
        super().__init__()
        self.mark = mark


# YAML 1.1 (PyYAML) only accepts floats with a dot and a signed exponent; users write 1e-3.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)

_NO_FILE_HINT = "check the path (relative paths are resolved from the current directory {cwd})"


def load_yaml(path: str | os.PathLike) -> Source:
    """Read and parse a YAML config file; every problem is a one-line ConfigError."""
    display = os.fspath(path)
    if not os.path.exists(display):
        raise ConfigError(
            f"{display}: config file not found — " + _NO_FILE_HINT.format(cwd=os.getcwd())
        )
    if os.path.isdir(display):
        raise ConfigError(
            f"{display}: is a directory, not a config file — give the path of a .yaml file"
            + _yaml_files_hint(display)
        )
    try:
        size = os.path.getsize(display)
        if size > MAX_BYTES:
            raise ConfigError(_too_big(display, size))
        with open(display, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)  # bounded even for special files like /dev/zero
    except PermissionError:
        raise ConfigError(
            f"{display}: cannot read the config file (permission denied) — check its permissions"
        ) from None
    except IsADirectoryError:  # pragma: no cover - raced with the check above
        raise ConfigError(f"{display}: is a directory, not a config file") from None
    except OSError as exc:
        raise ConfigError(
            f"{display}: cannot read the config file ({exc.strerror or exc}) — check the path"
        ) from None
    if len(raw) > MAX_BYTES:
        raise ConfigError(_too_big(display, None))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            f"{display}:{line}:{col}: not UTF-8 text (byte 0x{raw[exc.start]:02x}) — "
            "save the config file as UTF-8"
        ) from None
    return parse_yaml_text(text, display)


def _too_big(display: str, size: int | None) -> str:
    what = f"is {size / (1024 * 1024):.1f} MiB" if size is not None else "is larger than 1 MiB"
    return (
        f"{display}: {what}; config files over 1 MiB are refused — "
        "is this really the config file? (put data in a separate file and refer to it)"
    )


def _yaml_files_hint(directory: str) -> str:
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith((".yaml", ".yml")))
    except OSError:
        return ""
    if not names:
        return ""
    return f" (e.g. {os.path.join(directory, names[0])})"


def parse_yaml_text(text: str, display_path: str = "<config>") -> Source:
    """Parse YAML text into a Source; the top level must be a mapping."""
    if len(text) > MAX_BYTES:
        raise ConfigError(_too_big(display_path, None))
    try:
        node = _compose(text)
    except _Problem as exc:
        raise ConfigError(_file_problem_line(exc, display_path)) from None
    if node is None:
        raise ConfigError(
            f"{display_path}: the config file is empty — write the config as 'key: value' "
            "lines (a YAML mapping)"
        )
    if not isinstance(node, yaml.MappingNode):
        line, col = _pos(node.start_mark)
        got = "a list" if isinstance(node, yaml.SequenceNode) else f"the single value {_scalar_text(node)}"
        raise ConfigError(
            f"{display_path}:{line}:{col}: the top level of a config must be a mapping of "
            f"'key: value' lines, got {got}"
        )
    conv = _Converter(display_path)
    data = conv.convert(node, ())
    if conv.errors:
        raise ConfigError(conv.errors)
    return Source(display_path, data, conv.value_pos, conv.key_pos, {})


def source_from_data(data: Any, display_path: str = "<config>") -> Source:
    """A Source for in-memory data (no positions); errors will name only ``display_path``."""
    return Source(display_path, copy.deepcopy(data), {}, {}, {})


def _pos(mark) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1)


def _scalar_text(node) -> str:
    value = str(getattr(node, "value", ""))
    if len(value) > 40:
        value = value[:37] + "..."
    return repr(value)


class _Problem(Exception):
    """A YAML problem before formatting: position (or None), problem text, parser context."""

    def __init__(self, pos, problem: str, context: str = "", syntax: bool = True):
        super().__init__(problem)
        self.pos, self.problem, self.context, self.syntax = pos, problem, context, syntax


def _compose(text: str):
    """yaml.compose with our SafeLoader; every failure becomes a _Problem."""
    loader = None
    try:
        loader = _Loader(text)
        return loader.get_single_node()
    except _TooDeep as exc:
        raise _Problem(
            _pos(exc.mark), f"nested more than {MAX_DEPTH} levels deep; refusing to load it", syntax=False
        ) from None
    except yaml.MarkedYAMLError as exc:
        raise _yaml_problem(exc) from None
    except yaml.reader.ReaderError as exc:
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise _Problem(
            _offset_pos(text, exc.position),
            f"unacceptable character #x{char:04x} (control characters are not allowed in YAML)",
        ) from None
    except yaml.YAMLError as exc:  # pragma: no cover - every PyYAML error we know is marked
        raise _Problem(None, str(exc)) from None
    except RecursionError:  # pragma: no cover - bounded by MAX_DEPTH, kept as a last guard
        raise _Problem(None, "nested too deeply; refusing to load it", syntax=False) from None
    finally:
        if loader is not None:
            loader.dispose()


def _file_problem_line(exc: _Problem, display: str) -> str:
    where = f"{display}:{exc.pos[0]}:{exc.pos[1]}" if exc.pos else display
    kind = "YAML syntax error: " if exc.syntax else ""
    return f"{where}: {kind}{exc.problem}{exc.context}"


def _offset_pos(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col


def _yaml_problem(exc: yaml.MarkedYAMLError) -> _Problem:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    context = ""
    if (exc.context or "").startswith("expected a single document"):
        problem = "more than one YAML document ('---') in the file; a config is one document"
    elif "'\\t'" in problem:
        problem += " (YAML does not allow tabs for indentation; use spaces)"
    elif exc.context and exc.context_mark and exc.problem:
        cl, cc = _pos(exc.context_mark)
        if mark is None or (cl, cc) != _pos(mark):
            context = f" ({exc.context} at line {cl}, column {cc})"
        if problem.startswith("expected <block end>"):
            context += " — check the indentation of this line"
    return _Problem(_pos(mark) if mark is not None else None, problem, context)


class _Converter:
    """Turns a composed node graph into plain data, recording positions.

    Aliases are expanded into copies; the number of produced values and the nesting depth are
    bounded so hostile input gives a message instead of exhausting memory or the stack.
    """

    def __init__(self, display: str, *, positions: bool = True):
        self.display = display
        self.record = positions  # record positions, and put them in messages
        self.value_pos: dict[tuple, tuple[int, int]] = {}
        self.key_pos: dict[tuple, tuple[int, int]] = {}
        self.errors: list[str] = []
        self.count = 0
        self.aliased = False
        self._seen: set[int] = set()
        self._stack: set[int] = set()
        self._constructor = yaml.constructor.SafeConstructor()

    def _where(self, node) -> str:
        if not self.record:
            return self.display
        line, col = _pos(node.start_mark)
        return f"{self.display}:{line}:{col}"

    def _fail(self, node, message: str):
        raise ConfigError(f"{self._where(node)}: {message}")

    def convert(self, node, path: tuple, depth: int = 0):
        self.count += 1
        if id(node) in self._seen:
            self.aliased = True
        self._seen.add(id(node))
        if self.count > MAX_NODES:
            if self.aliased:
                raise ConfigError(
                    f"{self.display}: uses YAML aliases that expand to more than {MAX_NODES} "
                    "nodes; refusing to load it"
                )
            raise ConfigError(
                f"{self.display}: has more than {MAX_NODES} values; refusing to load it "
                "(put data in a separate file)"
            )
        if depth > MAX_DEPTH:
            self._fail(node, f"nested more than {MAX_DEPTH} levels deep (through aliases); refusing to load it")
        if self.record:
            self.value_pos[path] = _pos(node.start_mark)
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        if id(node) in self._stack:
            self._fail(node, "a YAML alias refers to the collection that contains it (recursive alias)")
        self._stack.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                if node.tag not in ("tag:yaml.org,2002:seq",):
                    self._bad_tag(node)
                return [self.convert(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
            if node.tag not in ("tag:yaml.org,2002:map",):
                self._bad_tag(node)
            return self._mapping(node, path, depth)
        finally:
            self._stack.discard(id(node))

    def _bad_tag(self, node):
        self._fail(node, f"unsupported YAML tag {node.tag!r} (only plain YAML values are allowed)")

    def _scalar(self, node):
        try:
            return self._constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            problem = exc.problem or "cannot read this value"
            if "could not determine a constructor" in problem:
                problem = f"unsupported YAML tag {node.tag!r} (only plain YAML values are allowed)"
            self._fail(node, problem)
        except Exception as exc:  # noqa: BLE001 - PyYAML's constructors raise all sorts on odd input
            detail = str(exc) or type(exc).__name__
            tag = node.tag.rsplit(":", 1)[-1]
            if isinstance(exc, (IndexError, KeyError, AttributeError)):
                detail = f"not a valid {tag}"
            self._fail(node, f"invalid value {_scalar_text(node)}: {detail}")

    def _mapping(self, node, path: tuple, depth: int) -> dict:
        out: dict = {}
        explicit: dict = {}  # key -> (line, col) of its first explicit occurrence
        merged: list = []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merged.append((key_node, value_node))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self._fail(key_node, "mapping keys must be plain values, not lists or mappings")
            key = self._scalar(key_node)
            try:
                hash(key)
            except TypeError:  # pragma: no cover - scalars are hashable except binary edge cases
                self._fail(key_node, "mapping keys must be plain values")
            kpos = _pos(key_node.start_mark)
            if key in explicit:
                first = f" (first given on line {explicit[key][0]})" if self.record else ""
                self.errors.append(
                    f"{self._where(key_node)}: {dotted(path + (key,))}: duplicate key "
                    f"{key!r}{first} — remove one of them"
                )
                continue
            explicit[key] = kpos
            if self.record:
                self.key_pos[path + (key,)] = kpos
            out[key] = self.convert(value_node, path + (key,), depth + 1)
        # YAML merge keys ('<<: *base'): explicit keys win, earlier merged mappings win.
        for key_node, value_node in merged:
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for src in sources:
                if not isinstance(src, yaml.MappingNode):
                    self._fail(src, "'<<' (merge) needs a mapping or a list of mappings")
                if id(src) in self._stack:
                    self._fail(src, "a YAML alias refers to the collection that contains it (recursive alias)")
                self._stack.add(id(src))
                try:
                    sub = _Converter(self.display, positions=self.record)
                    sub.count, sub._seen, sub._stack = self.count, self._seen, self._stack
                    sub.aliased = True
                    value = sub._mapping(src, path, depth + 1)
                    self.count = sub.count
                    self.errors.extend(sub.errors)
                finally:
                    self._stack.discard(id(src))
                for k, v in value.items():
                    if k in out:
                        continue
                    out[k] = v
                    if self.record:
                        for p, pos in sub.value_pos.items():
                            if p[: len(path) + 1] == path + (k,):
                                self.value_pos[p] = pos
                        for p, pos in sub.key_pos.items():
                            if p[: len(path) + 1] == path + (k,):
                                self.key_pos[p] = pos
        return out


# --------------------------------------------------------------------------------------------
# Overrides

_INDEX = re.compile(r"^[0-9]+$")


def apply_overrides(source: Source, overrides: Iterable[str]) -> Source:
    """Return a new Source with ``dotted.path=value`` overrides applied (input untouched)."""
    new = Source(
        source.path,
        copy.deepcopy(source.data),
        dict(source.value_pos),
        dict(source.key_pos),
        dict(source.origins),
    )
    for item in overrides:
        _apply_one(new, item)
    return new


def _apply_one(src: Source, item: str) -> None:
    origin = f"--set {item}"

    def fail(message: str):
        raise ConfigError(f"{origin}: {message}")

    if not isinstance(item, str) or "=" not in item:
        fail("expected dotted.path=value (for example training.epochs=50); there is no '='")
    path_text, value_text = item.split("=", 1)
    path_text = path_text.strip()
    if not path_text:
        fail("nothing before '='; write dotted.path=value (for example training.epochs=50)")
    segments = path_text.split(".")
    if any(not s.strip() for s in segments):
        fail(f"empty part in the path {path_text!r}; parts are separated by single dots")
    segments = [s.strip() for s in segments]
    if not value_text.strip():
        fail(f"no value after '='; write {path_text}=null to clear it")
    value = _parse_override_value(value_text, origin, tuple(segments))

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


def _parse_override_value(text: str, origin: str, base: tuple = ()):
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


def _describe(value) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    if isinstance(value, (int, float)):
        return f"{value!r} (a number)"
    if isinstance(value, str):
        return f"{value!r} (text)"
    return repr(value)


# --------------------------------------------------------------------------------------------
# Suggestions and positions


def did_you_mean(word: Any, choices: Iterable[Any]) -> str | None:
    """The closest choice to ``word`` (case-insensitive), or None if nothing is close."""
    choices = [str(c) for c in choices]
    if not choices:
        return None
    w = str(word).lower()
    lowered: dict[str, str] = {}
    for c in choices:
        lowered.setdefault(c.lower(), c)
    if w in lowered:
        return lowered[w]
    match = difflib.get_close_matches(w, list(lowered), n=1, cutoff=0.6)
    if match:
        return lowered[match[0]]
    # A choice that is a prefix/extension of the word ('relu6' -> 'relu', 'lr' is too short).
    for c in sorted(lowered, key=len, reverse=True):
        if len(c) >= 3 and (w.startswith(c) or c.startswith(w) and len(w) >= 3):
            return lowered[c]
    return None


def dotted(path: Iterable[Any]) -> str:
    """('model', 'layers', 1, 'units') -> 'model.layers[1].units'."""
    out = ""
    for p in path:
        if isinstance(p, int) and not isinstance(p, bool):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out or "(top level)"


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
        elif allowed:
            suggestion = did_you_mean(key, allowed)
            if suggestion is not None and suggestion != key:
                text += f" — did you mean {suggestion!r}?"
            else:
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


def _unwrap(tp) -> list:
    """Flatten Annotated / Optional / Union into the list of concrete candidate types."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin is typing.Union or (hasattr(types, "UnionType") and origin is types.UnionType):
        out = []
        for a in typing.get_args(tp):
            out.extend(_unwrap(a))
        return out
    return [tp]


def _is_model(tp) -> bool:
    return isinstance(tp, type) and issubclass(tp, pydantic.BaseModel)


def _field_names(cls) -> dict[str, Any]:
    out = {}
    for name, info in cls.model_fields.items():
        out[info.alias or name] = info.annotation
    return out


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
