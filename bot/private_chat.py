"""Shared chats are never shown private data (DESIGN.md section 3): the get-link flow moves to the user's 1:1 chat.

In a group chat, channel or meeting chat, `get link ...` says one sentence there and runs the whole flow (sign-in,
the meeting choice, the client form, the result, texting) in the user's one-to-one chat with the bot. That chat is
found again from the reference kept when the user last wrote to the bot personally, or opened with the connector's
`POST /v3/conversations` (that user only, not a group, their tenant), which Teams answers with the same chat every
time. The flow then runs as a proactive turn in that chat, so its dialog state is the one-to-one chat's and the
user's replies there continue it. When Teams refuses the chat (403: the app is not installed for the user; 404),
the shared chat hears how to open the bot personally, and nothing else happens.

The kept reference is plain JSON data (conversation id, service URL, tenant), one document per user. It is never
trusted for being there: the adapter's send guard (bot/send_guard.py) admits it only for a Teams connector's origin, a
personal chat's id and a chat Teams says the user is in; a refused reference is dropped (logged without the URL) and
the chat opened afresh.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from botbuilder.core import BotAdapter, Storage, TurnContext
from botbuilder.schema import (
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)

from bot.sdk.reply_retry import reply_status, send_with_retry
from bot.send_guard import UNCONFIRMED, RefusedReference, SendGuard, is_personal_conversation_id
from dialogs.cards import strings
from dialogs.turn import Turn

log = logging.getLogger(__name__)

REFUSED = frozenset({403, 404})  # Teams will not let the bot write to this user: not installed, or unknown
SCHEMA_VERSION = 1
MAX_REMEMBERED = 10_000  # users whose reference this process already wrote (bounded; oldest forgotten)

PrivateTurn = Callable[[TurnContext], Awaitable[None]]


class Outcome(Enum):
    """How starting the private turn went."""

    STARTED = "started"
    REFUSED = "refused"  # Teams will not let the bot write to the user (403/404)
    FAILED = "failed"  # Teams is failing (5xx after the retries, a network error): try later


class PersonalChatRefused(Exception):
    """Teams refused the one-to-one chat (the status it answered)."""

    def __init__(self, status: int | None) -> None:
        super().__init__(f"personal chat refused: {status}")
        self.status = status


@dataclass(frozen=True)
class PersonalChat:
    """Where the bot's one-to-one chat with a user is: what a proactive turn there needs, and nothing else."""

    conversation_id: str
    service_url: str
    tenant_id: str | None = None

    def to_state(self) -> dict[str, Any]:
        return {
            "version": SCHEMA_VERSION,
            "conversationId": self.conversation_id,
            "serviceUrl": self.service_url,
            "tenantId": self.tenant_id,
        }

    @classmethod
    def from_state(
        cls, data: Any, is_personal: Callable[[Any], bool] = is_personal_conversation_id
    ) -> PersonalChat | None:
        """The stored reference, or None for anything that is not one (a bad document is simply not reused)."""
        if not isinstance(data, dict) or data.get("version") != SCHEMA_VERSION:
            return None
        conversation, service_url, tenant = data.get("conversationId"), data.get("serviceUrl"), data.get("tenantId")
        if not (isinstance(conversation, str) and is_personal(conversation)
                and isinstance(service_url, str) and service_url):
            return None
        return cls(conversation, service_url, tenant if isinstance(tenant, str) and tenant else None)

    def reference(self, context: TurnContext) -> ConversationReference:
        """A reference to this chat for the user and bot of `context`'s activity. It carries no conversation kind:
        the send guard marks it personal once it has checked it."""
        activity = context.activity
        return ConversationReference(
            activity_id=None,
            user=ChannelAccount(
                id=activity.from_property.id,
                name=activity.from_property.name,
                aad_object_id=getattr(activity.from_property, "aad_object_id", None),
            ),
            bot=activity.recipient,
            conversation=ConversationAccount(id=self.conversation_id, tenant_id=self.tenant_id),
            channel_id=activity.channel_id,
            locale=activity.locale,
            service_url=self.service_url,
        )


def carry_client_info(shared: TurnContext, private: TurnContext) -> None:
    """The proactive turn's activity is made from a reference, which has no time zone: give it the user's, from the
    message they sent in the shared chat, so the private flow's first card shows their local times, not UTC."""
    source, target = shared.activity, private.activity
    target.local_timezone = getattr(source, "local_timezone", None)
    target.entities = [e for e in source.entities or [] if getattr(e, "type", None) == "clientInfo"] or None
    target.locale = source.locale
    Turn.forget(private)  # anything that read the turn before (a middleware) read it without them


def storage_key(context: TurnContext) -> str:
    """One document per user and channel (the user id is Teams' `29:...`, stable per user and bot)."""
    activity = context.activity
    return f"{activity.channel_id}/personalChats/{activity.from_property.id}"


class PersonalChats:
    """Finds, opens and remembers each user's one-to-one chat with the bot, and runs turns there."""

    def __init__(self, storage: Storage, guard: SendGuard | None = None) -> None:
        self.storage = storage
        self._is_personal = (guard or SendGuard()).is_personal
        self._written: OrderedDict[str, str] = OrderedDict()  # key -> conversation id this process stored

    async def remember(self, context: TurnContext) -> None:
        """Keep the reference of a personal chat the user wrote in; written once per user and process."""
        activity, turn = context.activity, Turn.of(context)
        if not turn.is_personal or activity.conversation is None or not activity.service_url or not turn.user_id:
            return
        if not self._is_personal(activity.conversation.id):
            return
        key = storage_key(context)
        if self._written.get(key) == activity.conversation.id:
            self._written.move_to_end(key)
            return
        await self._store(key, PersonalChat(activity.conversation.id, activity.service_url, turn.tenant_id))

    async def find(self, context: TurnContext) -> PersonalChat | None:
        key = storage_key(context)
        try:
            found = await self.storage.read([key])
        except Exception as exc:  # an unreadable reference only costs a POST /v3/conversations
            log.warning("could not read a personal chat reference: %s", type(exc).__name__)
            return None
        return PersonalChat.from_state(found.get(key), self._is_personal)

    async def forget(self, context: TurnContext) -> None:
        key = storage_key(context)
        self._written.pop(key, None)
        try:
            await self.storage.delete([key])
        except Exception as exc:
            log.warning("could not delete a personal chat reference: %s", type(exc).__name__)

    async def open(self, context: TurnContext) -> PersonalChat:
        """`POST /v3/conversations` for this user alone; PersonalChatRefused on 403/404. Kept for next time."""
        activity = context.activity
        connector = context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
        if connector is None:
            raise RuntimeError("no connector client on this turn")
        tenant = Turn.of(context).tenant_id
        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=activity.recipient.id, name=activity.recipient.name),
            members=[ChannelAccount(id=activity.from_property.id)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}},
        )
        try:
            created = await send_with_retry(connector.conversations.create_conversation, parameters)
        except Exception as exc:
            status = reply_status(exc)
            if status in REFUSED:
                raise PersonalChatRefused(status) from None
            raise
        chat = PersonalChat(created.id, created.service_url or activity.service_url, tenant)
        await self._store(storage_key(context), chat)
        return chat

    async def _store(self, key: str, chat: PersonalChat) -> None:
        try:
            await self.storage.write({key: {**chat.to_state(), "e_tag": "*"}})
        except Exception as exc:  # losing the reference only costs a POST /v3/conversations next time
            log.warning("could not keep a personal chat reference: %s", type(exc).__name__)
            return
        self._written[key] = chat.conversation_id
        self._written.move_to_end(key)
        while len(self._written) > MAX_REMEMBERED:
            self._written.popitem(last=False)

    async def run_privately(
        self, context: TurnContext, private_turn: PrivateTurn, intro: str, unavailable: str
    ) -> bool:
        """Run `private_turn` in the user's one-to-one chat, after telling both chats what is happening (`intro`:
        the first sentence in the one-to-one chat, saying what the user asked for in the shared one; `unavailable`:
        how to open the bot personally, said in the shared chat when Teams refuses the one-to-one chat).

        False when it could not start; the shared chat then hears one sentence: how to open the bot personally when
        Teams refuses the chat (403/404), or to try later when Teams is failing. A kept reference that no longer
        works is dropped and the chat opened afresh, once."""
        chat = await self.find(context)
        outcome = await self._start(context, chat, private_turn, intro) if chat is not None else Outcome.REFUSED
        if outcome is Outcome.REFUSED:
            if chat is not None:
                await self.forget(context)
            try:
                outcome = await self._start(context, await self.open(context), private_turn, intro)
            except PersonalChatRefused as refused:
                log.info("personal chat refused: %s", refused.status)
                outcome = Outcome.REFUSED
            except Exception as exc:  # Teams failing, or an activity without the bot's account: never a crash
                log.warning("could not open a personal chat: %s", type(exc).__name__)
                outcome = Outcome.FAILED
        if outcome is Outcome.REFUSED:
            await context.send_activity(unavailable)
        elif outcome is Outcome.FAILED:
            await context.send_activity(strings.ERR_TRY_LATER)
        return outcome is Outcome.STARTED

    async def _start(
        self, context: TurnContext, chat: PersonalChat, private_turn: PrivateTurn, intro: str
    ) -> Outcome:
        """A proactive turn in `chat`: the intro first (so a refused chat is found out before anything else),
        then the sentence in the shared chat, then `private_turn`."""
        outcome = Outcome.FAILED

        async def turn(private: TurnContext) -> None:
            nonlocal outcome
            carry_client_info(context, private)
            try:
                await private.send_activity(intro)  # retried on 429/5xx by the adapter
            except Exception as exc:
                status = reply_status(exc)
                outcome = Outcome.REFUSED if status in REFUSED else Outcome.FAILED
                log.warning("could not write in the personal chat: %s %s", type(exc).__name__, status or "-")
                return
            outcome = Outcome.STARTED
            await context.send_activity(strings.PRIVATE_FLOW_STARTED)
            await private_turn(private)

        adapter = context.adapter
        identity = context.turn_state.get(BotAdapter.BOT_IDENTITY_KEY)
        audience = context.turn_state.get(BotAdapter.BOT_OAUTH_SCOPE_KEY)
        try:
            await adapter.continue_conversation(chat.reference(context), turn, claims_identity=identity,
                                                audience=audience)
        except RefusedReference as refused:  # nothing ran or was sent; a reference shown wrong is dropped
            log.warning("a personal chat reference was refused: %s", refused.reason)
            return Outcome.FAILED if refused.kind == UNCONFIRMED else Outcome.REFUSED
        return outcome
