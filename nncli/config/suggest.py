"""Suggestions for a wrong name: the closest choice (did-you-mean), and for an unknown key the
place in the whole schema where a key of that name lives (``training.learning_rate`` ->
``training.optimizer.learning_rate``).  Walks pydantic model classes; imports nothing from nncli.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from typing import Any, Iterable

import pydantic

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


def _initials(name: str) -> str | None:
    """'learning_rate' -> 'lr': how a key of two or more words is abbreviated."""
    parts = [p for p in name.split("_") if p]
    return "".join(p[0] for p in parts).lower() if len(parts) > 1 else None


def _key_hint(model, key: str, allowed: list[str], section: tuple) -> str | None:
    """The suggestion for an unknown ``key`` met in the mapping at ``section`` (a data path).

    In order: the same name in another section of the schema (a key in the wrong place:
    ``training.learning_rate`` -> ``training.optimizer.learning_rate``), a close name in this
    section (``dropot`` -> ``'dropout'``, ``lr`` -> ``'learning_rate'``), a close name elsewhere.
    Quoted when it is a key of this mapping, a full dotted path when it is somewhere else.
    """
    elsewhere = _schema_keys(model) if model is not None else []
    here = dotted(section) if section else ""
    here_parts = re.split(r"[.\[]", here) if here else []

    def nearest(paths: list[str]) -> str | None:
        paths = [p for p in dict.fromkeys(paths) if p.rsplit(".", 1)[0] != here or not here]
        paths = [p for p in paths if not (not here and "." not in p)]  # not a key of this mapping
        if not paths:
            return None

        def shared(p: str) -> int:
            n = 0
            for a, b in zip(re.split(r"[.\[]", p), here_parts):
                if a != b:
                    break
                n += 1
            return n

        best = max(shared(p) for p in paths)
        ranked = sorted((p for p in paths if shared(p) == best), key=lambda p: (p.count("."), p))
        return " or ".join(ranked[:3])

    low = key.lower()
    exact = nearest([p for p, name in elsewhere if name.lower() == low])
    if exact is not None:
        return exact
    guess = did_you_mean(key, allowed) if allowed else None
    if guess is None:
        guess = next((a for a in allowed if _initials(a) == low), None)
    if guess is not None and guess != key:
        return repr(guess)
    names = sorted({name for _, name in elsewhere})
    close = difflib.get_close_matches(low, [n.lower() for n in names], n=1, cutoff=0.8)
    if close:
        return nearest([p for p, name in elsewhere if name.lower() == close[0]])
    return nearest([p for p, name in elsewhere if _initials(name) == low])


def _schema_keys(model) -> list[tuple[str, str]]:
    """(dotted path, key) for every key the schema accepts at any depth; list items as ``[i]``."""
    out: list[tuple[str, str]] = []

    def visit(tp, prefix: str, seen: tuple) -> None:
        for cand in _unwrap(tp):
            origin = typing.get_origin(cand)
            if origin in (list, tuple, set, frozenset):
                for item in typing.get_args(cand)[:1]:
                    visit(item, prefix + "[i]", seen)
            elif _is_model(cand) and cand not in seen:
                for name, annotation in _field_names(cand).items():
                    path = f"{prefix}.{name}" if prefix else name
                    out.append((path, name))
                    visit(annotation, path, seen + (cand,))

    visit(model, "", ())
    return list(dict.fromkeys(out))


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
