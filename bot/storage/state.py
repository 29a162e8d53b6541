"""Bot state and the storage behind it, chosen by `BotStorage`: memory (one instance) or Azure Blob (scale-out).

Dialog state lives in *private* conversation state (per user and conversation). That keeps one user's flow from
another's, but it does not make anything private to see: whatever is posted in a group chat, every member reads.
So no flow runs in a shared chat at all: `get link` there moves to the user's one-to-one chat (bot/private_chat.py),
whose private conversation state holds the flow, so the user's replies there continue it. Besides that, the only
document is each user's one-to-one chat reference (plain JSON, bot/private_chat.py).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import ClientSession, web
from botbuilder.core import PrivateConversationState, Storage, TurnContext

from bot.storage.codec import decode_state, encode_state, item_etag
from bot.storage.dedupe import ExchangeDedupe, MemoryExchangeDedupe
from bot.storage.errors import EtagConflictError
from config import ConfigError, Settings
from dialogs.services import SendOnce

READY_TTL_S = 5.0  # App Service probes about once a minute; a load balancer may every few seconds


class JsonMemoryStorage(Storage):
    """One process's store, keeping the same JSON documents as blob storage (bot/storage/codec.py), so a test on
    memory proves the blob path's shapes and a type the codec cannot store fails here first. Every read builds fresh
    objects, as Blob storage's (and the C# SDK's) do: botbuilder-python's MemoryStorage hands out the stored dicts
    themselves, so a turn that fails half-way (the connector down) would already have changed the "saved" dialog
    state. ETags follow BlobStorage's rules: None or "*" overwrites, "" is an error, any other must match a stored
    item's, and the caller's item carries the new one after a write."""

    def __init__(self) -> None:
        super().__init__()
        self.memory: dict[str, tuple[bytes, str]] = {}  # key -> (document, ETag)
        self._etags = itertools.count(1)

    async def read(self, keys: list[str]) -> dict[str, Any]:
        items: dict[str, Any] = {}
        for key in dict.fromkeys(keys or ()):
            if key in self.memory:
                body, etag = self.memory[key]
                items[key] = {**decode_state(key, body), "e_tag": etag}
        return items

    async def write(self, changes: dict[str, Any]) -> None:
        if changes is None:
            raise ValueError("JsonMemoryStorage.write: changes are required")
        bodies = {key: encode_state(item) for key, item in changes.items()}  # refuse before writing anything
        for key, item in changes.items():
            etag = item_etag(item)
            if etag == "":
                raise ValueError(f"JsonMemoryStorage.write: empty e_tag for key {key!r}")
            stored = self.memory.get(key)
            if etag not in (None, "*") and stored is not None and stored[1] != etag:
                raise EtagConflictError(f"Etag conflict for key {key!r}: the stored item has changed")
            new_etag = str(next(self._etags))
            self.memory[key] = (bodies[key], new_etag)
            item["e_tag"] = new_etag

    async def delete(self, keys: list[str]) -> None:
        for key in keys or ():
            self.memory.pop(key, None)


def create_storage(settings: Settings, session: Callable[[], ClientSession] | None = None) -> Storage:
    """The storage for conversation, user and dialog state. A blob store must be opened and closed with the app:
    add `storage_context(storage)` to `app.cleanup_ctx`, after the context that makes `session` (the app's one
    aiohttp session, which the Blob client sends on)."""
    if settings.bot_storage == "memory":
        return JsonMemoryStorage()
    # The Azure SDK (~6 MiB resident) is loaded only by the instances that use it.
    from bot.storage.blob import BlobStorage, is_valid_container_name

    if not is_valid_container_name(settings.blob_container):
        raise ConfigError("BlobContainer must be 3-63 lower-case letters, digits and single hyphens")
    try:
        return BlobStorage(settings.blob_connection_string, settings.blob_container, session=session)
    except ValueError:
        raise ConfigError("BlobConnectionString is not a valid Azure Storage connection string") from None


def create_dedupe(settings: Settings, storage: Storage) -> ExchangeDedupe:
    """SSO exchange de-duplication in the same place as state: across instances when state is shared."""
    if settings.bot_storage == "blob":
        from bot.storage.blob import BlobExchangeDedupe

        return BlobExchangeDedupe(storage)
    return MemoryExchangeDedupe()


def create_send_once(settings: Settings, storage: Storage) -> SendOnce:
    """Email claims (one per card and recipient) in the same place as state: across instances when it is shared."""
    if settings.bot_storage == "blob":
        from bot.storage.blob import BlobSendOnce

        return BlobSendOnce(storage)
    from bot.storage.sent_once import MemorySendOnce

    return MemorySendOnce()


class Readiness:
    """Whether storage answers (`/readyz`): memory always does; Blob is probed with one cheap request, at most once
    per `ttl_s` whatever the polling rate, and callers arriving during a probe share it."""

    def __init__(self, storage: Storage, ttl_s: float = READY_TTL_S) -> None:
        self._probe: Callable[[], Awaitable[bool]] | None = getattr(storage, "reachable", None)
        self.ttl_s = ttl_s
        self._answer: tuple[float, bool] | None = None  # (when, reachable)
        self._running: asyncio.Future[bool] | None = None

    async def ready(self) -> bool:
        if self._probe is None:
            return True
        now = time.monotonic()
        if self._answer is not None and now - self._answer[0] < self.ttl_s:
            return self._answer[1]
        if self._running is None:
            self._running = asyncio.ensure_future(self._probe())
            self._running.add_done_callback(self._probed)
        return await asyncio.shield(self._running)

    def _probed(self, probe: asyncio.Future[bool]) -> None:
        self._running = None
        self._answer = (time.monotonic(), bool(not probe.cancelled() and probe.exception() is None and probe.result()))


def storage_context(storage: Storage) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp cleanup context: opens a blob store at start (creating its container, so a bad account fails
    start-up) and closes its client after the last in-flight turn. Nothing to do for memory."""

    async def context(_app: web.Application) -> AsyncIterator[None]:
        opener, closer = getattr(storage, "open", None), getattr(storage, "close", None)
        if opener is None or closer is None:  # memory: nothing to open or close
            yield
            return
        try:
            await opener()
            yield
        finally:
            await closer()

    return context


class BotStates:
    """The bot's turn state: per user and conversation (the dialog state), saved at the end of each turn. Buttons
    carry what they act on, so no "last link" is kept; nothing is kept per conversation alone, so no
    ConversationState/UserState is loaded or hashed."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.private = PrivateConversationState(storage)
        self.dialog_state = self.private.create_property("DialogState")

    async def save(self, context: object) -> None:
        await self.private.save_changes(context)

    async def reset(self, context: TurnContext) -> None:
        """Forget this user's state in this conversation, in the turn and in storage. Unlike the SDK's
        `BotState.delete` (which raises KeyError when the state never loaded, e.g. because it was unreadable), this
        works at any point of a turn."""
        key = self.private.get_storage_key(context)
        await self.private.clear_state(context)
        await self.storage.delete([key])
