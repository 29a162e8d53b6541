"""Bot state and the storage behind it, chosen by `BotStorage` (memory now; Azure Blob in the scale-out work)."""

from __future__ import annotations

from botbuilder.core import ConversationState, MemoryStorage, Storage, UserState

from config import ConfigError, Settings


def create_storage(settings: Settings) -> Storage:
    """The storage for conversation, user and dialog state."""
    if settings.bot_storage == "memory":
        return MemoryStorage()
    raise ConfigError(f"BotStorage={settings.bot_storage} is not supported by this version; use memory")


class BotStates:
    """Conversation and user state over one storage, saved together at the end of each turn."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.conversation = ConversationState(storage)
        self.user = UserState(storage)
