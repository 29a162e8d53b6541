"""The one place that assigns to an attribute of a botbuilder, botframework or msrest class or module.

A fix that has to change the SDK's own code (rather than use a class of ours in its place) declares `Patch`es; the
registry (bot/sdk/registry.py) applies them once per process and can put the stock value back for one test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

_ABSENT = object()


class Patcher(Protocol):
    """What switching a fix off for one test needs: pytest's `MonkeyPatch` (undone when the test ends)."""

    def setattr(self, target: Any, name: str, value: Any) -> None: ...

    def delattr(self, target: Any, name: str) -> None: ...

    def setitem(self, dic: Any, name: Any, value: Any) -> None: ...


@dataclass(frozen=True)
class Patch:
    """`target.name` replaced by `replacement(stock)`, built from the SDK's own value (None when it has none)."""

    target: Any
    name: str
    replacement: Callable[[Any], Any]


# (id(target), name) -> (stock value or _ABSENT, ours): what was there before, to apply once and put back exactly.
_applied: dict[tuple[int, str], tuple[Any, Any]] = {}


def apply(patch: Patch) -> None:
    """Install `patch` (idempotent: the replacement is built once per process and re-set if something undid it)."""
    key = (id(patch.target), patch.name)
    current = patch.target.__dict__.get(patch.name, _ABSENT)
    if key not in _applied:
        _applied[key] = (current, patch.replacement(None if current is _ABSENT else current))
    ours = _applied[key][1]
    if current is not ours:
        setattr(patch.target, patch.name, ours)


def restore(patch: Patch, patcher: Patcher) -> None:
    """Put the SDK's value back through `patcher` (for one test); nothing to do if it was never applied."""
    entry = _applied.get((id(patch.target), patch.name))
    if entry is None:
        return
    stock = entry[0]
    if stock is not _ABSENT:
        patcher.setattr(patch.target, patch.name, stock)
    elif patch.name in patch.target.__dict__:
        patcher.delattr(patch.target, patch.name)
