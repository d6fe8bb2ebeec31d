"""YAML config loading that remembers where every value came from.

A :class:`Source` holds the plain data of a config file together with the 1-based (line, column)
of every value and every mapping key, and -- for values given on the command line -- the
``--set ...`` text that set them (see :mod:`nncli.config.overrides`).  Problems are one-line
ConfigErrors ``FILE:LINE:COL: what is wrong — the fix``.

This module knows nothing about nncli's config models.  Only ``yaml.SafeLoader`` machinery is used:
no arbitrary Python objects are ever constructed.
"""

from __future__ import annotations

import copy
import errno
import os
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from nncli.errors import ConfigError

from .messages import dotted

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "Source",
    "load_yaml",
    "parse_yaml_text",
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
    if os.path.islink(display) and not os.path.exists(display):
        try:
            os.stat(display)
        except OSError as exc:
            what = ("too many levels of symbolic links (a link loop?)" if exc.errno == errno.ELOOP
                    else f"a dangling symbolic link (to {os.readlink(display)})")
            raise ConfigError(f"{display}: {what}; fix the link or give the real path") from None
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
