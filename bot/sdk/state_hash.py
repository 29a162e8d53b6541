"""SDK cost: BotState hashes the whole state with jsonpickle to see whether a turn changed it."""

from __future__ import annotations

import pickle
from typing import Any

from botbuilder.core.bot_state import CachedBotState


def install_fast_state_hash() -> None:
    """SDK cost: `BotState` decides whether a turn changed the state by comparing `CachedBotState.compute_hash` of it
    at load and at save (three times a turn), and the SDK's hash is a jsonpickle flatten of the whole state: ~0.9 ms
    for a get-link dialog stack. `pickle.dumps` of the same objects (~0.05 ms) is as exact for that comparison: a
    changed state never gives the same bytes (an unchanged one may, rarely, differ: one write too many). The bytes
    are only compared, never stored or loaded; what pickle cannot write falls back to the SDK's hash. Idempotent."""
    stock = CachedBotState.compute_hash
    if getattr(stock, "fast_state_hash", False):
        return

    def compute_hash(self: CachedBotState, obj: object) -> Any:
        try:
            return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # not plain data (never ours); the SDK's way still works
            return stock(self, obj)

    compute_hash.fast_state_hash = True  # type: ignore[attr-defined]
    compute_hash.stock = stock  # type: ignore[attr-defined]  # for tests.fixcheck, which puts it back
    CachedBotState.compute_hash = compute_hash
