"""Storage calls as spans: wraps the app's Storage only while telemetry is on (no wrapper, no cost, when off)."""

from __future__ import annotations

from typing import Any

from botbuilder.core import Storage

from bot.telemetry import record


class TracedStorage(Storage):
    """A span per read, write and delete (operation, key count, failure class; never keys: they hold user and
    conversation ids), and `linkbot.storage.failures`. Everything else (open, close, the Blob container) is the
    wrapped store's."""

    def __init__(self, inner: Storage, backend: str) -> None:
        super().__init__()
        self.inner = inner
        self.backend = backend

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def _traced(self, operation: str, count: int, call: Any) -> Any:
        attributes = {"db.system.name": self.backend, "db.operation.name": operation, "linkbot.storage.keys": count}
        with record.span(f"storage {operation}", attributes):
            try:
                return await call
            except Exception as exc:
                record.storage_failed(operation, exc)
                raise

    async def read(self, keys: list[str]) -> dict[str, Any]:
        result: dict[str, Any] = await self._traced("read", len(keys or ()), self.inner.read(keys))
        return result

    async def write(self, changes: dict[str, Any]) -> None:
        await self._traced("write", len(changes or {}), self.inner.write(changes))

    async def delete(self, keys: list[str]) -> None:
        await self._traced("delete", len(keys or ()), self.inner.delete(keys))
