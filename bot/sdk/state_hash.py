"""SDK cost: BotState hashes the whole state with jsonpickle to see whether a turn changed it."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

from botbuilder.core.bot_state import CachedBotState

from bot.sdk.patch import Patch

Hash = Callable[[CachedBotState, object], Any]


def pickle_hash(stock: Hash) -> Hash:
    """SDK cost: `BotState` decides whether a turn changed the state by comparing `CachedBotState.compute_hash` of it
    at load and at save (three times a turn), and the SDK's hash is a jsonpickle flatten of the whole state.
    `pickle.dumps` of the same objects is as exact for that comparison and much cheaper (README, SDK-defect table):
    a changed state never gives the same bytes (an unchanged one may, rarely, differ: one write too many). The bytes
    are only compared, never stored or loaded; what pickle cannot write falls back to the SDK's hash."""

    def compute_hash(self: CachedBotState, obj: object) -> Any:
        try:
            return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # not plain data (never ours); the SDK's way still works
            return stock(self, obj)

    return compute_hash


PATCHES = (Patch(CachedBotState, "compute_hash", pickle_hash),)
