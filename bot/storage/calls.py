"""The one way this process calls Azure Blob Storage: `StorageCalls` wraps every request (state, SSO claims,
reminders, readiness), so a deadline, a bound on calls at once and the mapping of failures live in one place.

- A deadline per call from the turn's storage budget (bot/storage/deadline.py), so a storage account that stops
  answering costs a turn one call's deadline, never the SDK's retries and timeouts (minutes).
- At most `MAX_CONCURRENT_CALLS` calls at once per process: a burst of turns, or the reminder poller's listing,
  queues here rather than in the account; a call waiting for a slot waits within its deadline, so an overloaded
  process fails fast, not late.
- Every failure that is not an answer about the item (404, 409, 412, which callers handle) is raised as
  `StorageUnavailableError`, with a short reason and never the SDK's text.
- With telemetry on, each request is recorded (bot/telemetry/record.py `storage_call`); off, one check.

`read_bounded` is the one read of a small document: a ranged request for at most one byte more than the caller's
limit, so a blob we did not write is never downloaded whole.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import TypeVar

from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.storage.blob.aio import BlobClient

from bot.storage import deadline
from bot.storage.errors import StorageUnavailableError
from bot.telemetry import record

MAX_CONCURRENT_CALLS = 32
_ITEM_STATUSES = frozenset({404, 409, 412})
T = TypeVar("T")


class StorageCalls:
    """Run one storage request within its deadline and the process's bound on calls at once."""

    def __init__(self, concurrency: int = MAX_CONCURRENT_CALLS) -> None:
        self._slots = asyncio.Semaphore(concurrency)

    async def __call__(self, call: Awaitable[T]) -> T:
        if not record.active():
            return await self._call(call)
        # Telemetry: each request an event on the span it serves (the turn's, a reminder check's), named by the SDK
        # method (`BlobClient.upload_blob`), with its duration and failure class; never the blob's name (user ids).
        operation = getattr(call, "__qualname__", "call")
        started = time.perf_counter()
        try:
            result = await self._call(call)
        except BaseException as exc:
            record.storage_call("blob", operation, started, exc)
            if isinstance(exc, StorageUnavailableError):
                record.storage_failed(operation, exc)
            raise
        record.storage_call("blob", operation, started, None)
        return result

    async def _call(self, call: Awaitable[T]) -> T:
        budget = deadline.current()
        seconds = budget.next_call_s()
        began = time.monotonic()
        try:
            if seconds <= 0:
                raise TimeoutError
            async with asyncio.timeout(seconds), self._slots:
                return await call
        except TimeoutError:
            raise StorageUnavailableError(f"no answer within {seconds:.1f} s") from None
        except (ResourceNotFoundError, ResourceExistsError, ResourceModifiedError):
            raise
        except HttpResponseError as exc:
            if exc.status_code in _ITEM_STATUSES:
                raise
            raise StorageUnavailableError(f"HTTP {exc.status_code}") from None
        except AzureError as exc:
            raise StorageUnavailableError(type(exc).__name__) from None
        finally:
            if asyncio.iscoroutine(call):
                call.close()  # never started (no time left): no "never awaited" warning
            budget.spend(time.monotonic() - began)


async def read_bounded(calls: StorageCalls, blob: BlobClient, limit: int) -> tuple[bytes | None, str] | None:
    """A small blob's body and ETag (None if it is absent; body None if it has more than `limit` bytes). One ranged
    request fetches at most `limit + 1` bytes."""
    try:
        download = await calls(blob.download_blob(offset=0, length=limit + 1))
        etag = str(download.properties.etag)
        if (download.size or 0) > limit:
            return None, etag
        return await calls(download.readall()), etag
    except ResourceNotFoundError:
        return None
