"""A tiny name -> class registry shared by activations, losses, initializers, optimizers, schedules.

The pydantic config takes its allowed names from these registries (``names()``), so a typo fails in
validation, before any NumPy runs.

Each registry names the facts every entry must state in its own class body (``facts``): its formula
text, and for activations their default initializer and whether they have a kink. Registering a
class that leaves one out fails at import, so a new entry cannot be half-described: explain,
gradcheck, the initializer default, docs/config.md and the JSON Schema all read these attributes.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Setting:
    """One config setting of a registry entry (an optimizer's momentum, a schedule's gamma): its
    text for docs/config.md and the JSON Schema, and its bounds. Its default is the entry's
    ``__init__`` default, written once there; config/schema.py builds the pydantic model from both,
    so adding an entry with settings touches one file."""

    description: str
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None

    def bounds(self) -> dict[str, float]:
        return {k: v for k in ("gt", "ge", "lt", "le") if (v := getattr(self, k)) is not None}


class Registry(Generic[T]):
    def __init__(self, kind: str, facts: tuple[str, ...] = ("formula",)):
        self.kind = kind
        self.facts = facts
        self._entries: dict[str, type[T]] = {}

    def register(self, name: str):
        def decorator(cls: type[T]) -> type[T]:
            missing = [f for f in self.facts if f not in vars(cls)]
            if missing:
                raise TypeError(f"{self.kind} {name!r} ({cls.__name__}) must state {', '.join(missing)} "
                                f"in its class body (see nncli/nn/_registry.py)")
            cls.name = name  # type: ignore[attr-defined]
            self._entries[name] = cls
            return cls

        return decorator

    def get(self, name: str) -> type[T]:
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(f"unknown {self.kind} {name!r}; known: {', '.join(self.names())}") from None

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def items(self):
        return self._entries.items()


def defaults(cls: type, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The keyword defaults of ``cls.__init__`` (an entry's settings, written once there): the
    config's pydantic models take their defaults from here."""
    out: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):  # a subclass that passes **kwargs on keeps its base's defaults
        if "__init__" not in vars(klass) or klass is object:
            continue
        for p in inspect.signature(vars(klass)["__init__"]).parameters.values():
            if p.name != "self" and p.name not in skip and p.default is not inspect.Parameter.empty:
                out[p.name] = p.default
    return out
