"""What `remind me`, `stop reminders`, `sign out` and a sign-in do to the user's subscription (dialogs reach this
through `dialogs.services.ReminderControl`). The poller on whichever instance holds the lease sees the change at its
next look at the list (within `schedule.DISCOVERY_S`); a new `revision` makes it check the user within a minute.
"""

from __future__ import annotations

import uuid

import msgspec
from botbuilder.core import TurnContext

from bot.reminders.proactive import conversation_ref_of
from bot.reminders.records import Subscription
from bot.reminders.store import ReminderStore
from dialogs.turn import Turn


def user_key(context: TurnContext) -> str:
    """The Teams user id (29:...): the same for the user in every chat with this bot."""
    return str(context.activity.from_property.id)


class StoreReminderControl:
    def __init__(self, store: ReminderStore) -> None:
        self.store = store

    async def turn_on(
        self, context: TurnContext, lead_minutes: int, *, time_zone: str | None, locale: str | None
    ) -> None:
        """Subscribe the user with this 1:1 chat as where reminders go (never a shared chat: refused)."""
        turn = Turn.of(context)
        if not turn.is_personal:
            raise ValueError("reminders go to the user's 1:1 chat only")
        subscription = Subscription(
            version=1,
            user_key=user_key(context),
            conversation=conversation_ref_of(context.activity, turn.tenant_id),
            lead_minutes=lead_minutes,
            locale=locale if locale is None or len(locale) <= 64 else None,
            time_zone=time_zone if time_zone is None or len(time_zone) <= 64 else None,
            revision=uuid.uuid4().hex[:12],
        )
        await self.store.put(subscription)

    async def turn_off(self, context: TurnContext) -> bool:
        key = user_key(context)
        existed = await self.store.get(key) is not None
        await self.store.delete(key)
        return existed

    async def resume(self, context: TurnContext) -> None:
        stored = await self.store.get(user_key(context))
        if stored is None or not stored.subscription.paused:
            return
        resumed = msgspec.structs.replace(stored.subscription, paused=False, revision=uuid.uuid4().hex[:12])
        await self.store.put(resumed, etag=stored.etag)  # lost to a concurrent change: that change stands
