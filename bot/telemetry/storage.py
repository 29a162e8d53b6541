"""Storage calls in the turn's trace: wraps the app's Storage only while telemetry is on (no wrapper, no cost, off)."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import Any, TypeVar

from botbuilder.core import Storage

from bot.telemetry import record

T = TypeVar("T")


class TracedStorage(Storage):
    """Each read, write and delete becomes an event on the span it happens in (the turn's, a reminder check's):
    operation, key count, duration and failure class, never keys (they hold user and conversation ids); a failure
    also counts in `linkbot.storage.failures`. Events rather than spans of their own: a turn makes two to four of
    these microsecond calls, and a span each cost more to record and export than the rest of the turn's telemetry.
    Everything else (open, close, the Blob container) is the wrapped store's."""

    def __init__(self, inner: Storage, backend: str) -> None:
        super().__init__()
        self.inner = inner
        self.backend = backend

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def _traced(self, operation: str, count: int, call: Awaitable[T]) -> T:
        started = time.perf_counter()
        try:
            result = await call
        except Exception as exc:
            record.storage_failed(operation, exc)
            record.storage_call(self.backend, operation, count, started, exc)
            raise
        record.storage_call(self.backend, operation, count, started, None)
        return result

    async def read(self, keys: list[str]) -> dict[str, Any]:
        return await self._traced("read", len(keys or ()), self.inner.read(keys))

    async def write(self, changes: dict[str, Any]) -> None:
        await self._traced("write", len(changes or {}), self.inner.write(changes))

    async def delete(self, keys: list[str]) -> None:
        await self._traced("delete", len(keys or ()), self.inner.delete(keys))
