"""Bot state and the storage behind it, chosen by `BotStorage`: memory (one instance) or Azure Blob (scale-out).

Dialog state lives in *private* conversation state (per user and conversation): in a group chat each member has
their own flow, and nobody can answer someone else's question or see their link.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web
from botbuilder.core import MemoryStorage, PrivateConversationState, Storage

from bot.dedupe import ExchangeDedupe, MemoryExchangeDedupe
from config import ConfigError, Settings


class CopyingMemoryStorage(MemoryStorage):
    """MemoryStorage whose reads are copies, as Blob storage's (and the C# SDK's) are. botbuilder-python's hands out
    the stored dicts themselves, so a turn that fails half-way (the connector down) has already changed the "saved"
    dialog state, and the user's next message no longer repeats the step they were at."""

    async def read(self, keys: list[str]) -> dict[str, Any]:
        return copy.deepcopy(await super().read(keys))


def create_storage(settings: Settings) -> Storage:
    """The storage for conversation, user and dialog state. A blob store must be opened and closed with the app:
    add `storage_context(storage)` to `app.cleanup_ctx`."""
    if settings.bot_storage == "memory":
        return CopyingMemoryStorage()
    # The Azure SDK (~6 MiB resident) is loaded only by the instances that use it.
    from bot.blob_storage import BlobStorage, is_valid_container_name

    if not is_valid_container_name(settings.blob_container):
        raise ConfigError("BlobContainer must be 3-63 lower-case letters, digits and single hyphens")
    try:
        return BlobStorage(settings.blob_connection_string, settings.blob_container)
    except ValueError:
        raise ConfigError("BlobConnectionString is not a valid Azure Storage connection string") from None


def create_dedupe(settings: Settings, storage: Storage) -> ExchangeDedupe:
    """SSO exchange de-duplication in the same place as state: across instances when state is shared."""
    if settings.bot_storage == "blob":
        from bot.blob_storage import BlobExchangeDedupe

        return BlobExchangeDedupe(storage.container)
    return MemoryExchangeDedupe()


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
    """The bot's only state: per user and conversation (dialog state, the last link), saved at the end of each turn.
    Nothing is kept per conversation or per user alone, so no ConversationState/UserState is loaded or hashed."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.private = PrivateConversationState(storage)
        self.dialog_state = self.private.create_property("DialogState")
        self.last_link = self.private.create_property("LastLink")

    async def save(self, context: object) -> None:
        await self.private.save_changes(context)
