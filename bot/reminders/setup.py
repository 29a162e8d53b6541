"""Reminders assembled for `create_app`: the store beside the bot's state (memory, or the Blob container), the
control the dialogs use, and the poller service that an aiohttp cleanup context starts and stops."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from aiohttp import web
from botbuilder.core import CloudAdapterBase, Storage

from bot.reminders.announce import CardAnnouncer, GraphMeetingSource, TokenProvider
from bot.reminders.clock import Clock, SystemClock
from bot.reminders.control import StoreReminderControl
from bot.reminders.proactive import LocalUserTokens, ProactiveSender, ServiceUserTokens, UserTokens
from bot.reminders.scheduler import ReminderScheduler, ReminderService, reminders_context
from bot.reminders.store import MemoryReminderStore, ReminderStore
from config import Settings
from graph.bookings import BookingsDirectory
from graph.client import GraphClient

BOOKINGS_MEMBERSHIP_TTL_S = 3600.0


def create_reminder_store(settings: Settings, storage: Storage) -> ReminderStore:
    """In the same place as state: one process's memory, or the shared Blob container."""
    if settings.bot_storage == "blob":
        from bot.reminders.blob_store import BlobReminderStore

        return BlobReminderStore(storage)
    return MemoryReminderStore()


@dataclass
class Reminders:
    store: ReminderStore
    control: StoreReminderControl
    service: ReminderService
    clock: Clock

    def context(self) -> Callable[[web.Application], AsyncIterator[None]]:
        """The cleanup context: poll (for the lease) while the app runs; hand the lease back at shutdown."""
        return reminders_context(self.service)


def create_reminders(
    settings: Settings,
    storage: Storage,
    adapter: CloudAdapterBase,
    *,
    graph_factory: Callable[[TokenProvider], GraphClient],
    local_token: Callable[[str], str] | None = None,
    clock: Clock | None = None,
) -> Reminders:
    """Everything reminders need; `local_token` issues simulator tokens in local mode (no token service)."""
    time = clock or SystemClock()
    store = create_reminder_store(settings, storage)
    tokens: UserTokens = (
        LocalUserTokens(local_token)
        if local_token is not None
        else ServiceUserTokens(adapter, settings.app_id, settings.connection_name)
    )
    # Its own Bookings directory: where a user is staff changes rarely, so the poller remembers it for an hour
    # instead of looking again at every check (the chat's directory looks again after five minutes).
    bookings = BookingsDirectory(ttl=BOOKINGS_MEMBERSHIP_TTL_S)
    source = GraphMeetingSource(tokens, graph_factory, bookings)
    sender = ProactiveSender(adapter, settings.app_id, getattr(adapter, "catalogs", None))
    announcer = CardAnnouncer(source, sender, time.now)
    service = ReminderService(store.lease(), lambda: ReminderScheduler(store, source, announcer, time))
    return Reminders(store, StoreReminderControl(store), service, time)
