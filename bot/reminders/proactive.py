"""Reaching a user outside any turn of theirs: their Graph token from the token service, and a proactive message
in their 1:1 chat through the stored conversation reference (`continue_conversation`).

Teams answers 403 (the app was uninstalled for the user, or the bot blocked) or 404 (the chat is gone) when the bot
may no longer write there: that is `Outcome.GONE`, and the subscription is removed. Nothing here keeps a token.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from botbuilder.core import CloudAdapterBase, TurnContext
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount, ConversationReference

from bot.reminders.records import ConversationRef, Subscription
from bot.reminders.scheduler import Outcome
from bot.sdk.reply_retry import reply_status
from bot.send_guard import CHAT, RefusedReference
from dialogs.cards.language import Catalogs, speaking

log = logging.getLogger(__name__)

GONE_STATUSES = frozenset({403, 404})


def conversation_ref_of(activity: Activity, tenant_id: str | None) -> ConversationRef:
    """The reference of the personal chat `activity` arrived in (or a proactive turn runs in)."""
    user, bot = activity.from_property, activity.recipient
    return ConversationRef(
        service_url=activity.service_url,
        conversation_id=activity.conversation.id,
        user_id=user.id,
        bot_id=bot.id,
        channel_id=activity.channel_id or "msteams",
        tenant_id=tenant_id,
        user_aad_id=getattr(user, "aad_object_id", None) or None,
        bot_name=(bot.name or None) if bot.name is None or len(bot.name) <= 256 else None,
    )


def to_reference(ref: ConversationRef) -> ConversationReference:
    """The SDK's reference for `continue_conversation`."""
    return ConversationReference(
        user=ChannelAccount(id=ref.user_id, aad_object_id=ref.user_aad_id),
        bot=ChannelAccount(id=ref.bot_id, name=ref.bot_name),
        conversation=ConversationAccount(id=ref.conversation_id, tenant_id=ref.tenant_id),  # kind: the send guard's
        channel_id=ref.channel_id,
        service_url=ref.service_url,
    )


class UserTokens(Protocol):
    async def token(self, subscription: Subscription) -> str | None:
        """The user's Graph token now, or None when they have none (signed out, consent gone)."""
        ...


class ServiceUserTokens:
    """The Bot Framework token service, with the bot's own credentials and no turn (UserTokenClient.get_user_token
    for the stored user and channel)."""

    def __init__(self, adapter: CloudAdapterBase, app_id: str, connection_name: str) -> None:
        self.adapter = adapter
        self.app_id = app_id
        self.connection_name = connection_name

    async def token(self, subscription: Subscription) -> str | None:
        identity = self.adapter.create_claims_identity(self.app_id)
        client = await self.adapter.bot_framework_authentication.create_user_token_client(identity)
        ref = subscription.conversation
        response = await client.get_user_token(ref.user_id, self.connection_name, ref.channel_id, None)
        token = getattr(response, "token", None)
        return str(token) if token else None


class LocalUserTokens:
    """Local mode: a Graph-simulator token for the user, as `LocalTokens` gives one in a turn."""

    def __init__(self, issue: Callable[[str], str]) -> None:
        self._issue = issue

    async def token(self, subscription: Subscription) -> str | None:
        ref = subscription.conversation
        return self._issue(ref.user_aad_id or ref.user_id)


class ProactiveSender:
    """Runs `deliver(context)` as a proactive turn in the subscription's 1:1 chat, in the user's language."""

    def __init__(self, adapter: CloudAdapterBase, app_id: str, catalogs: Catalogs | None = None) -> None:
        self.adapter = adapter
        self.app_id = app_id
        self.catalogs = catalogs or Catalogs({})

    async def send(self, subscription: Subscription, deliver: Callable[[TurnContext], Awaitable[Any]]) -> Outcome:
        delivered = False
        failure: Exception | None = None

        async def turn(context: TurnContext) -> None:
            nonlocal delivered, failure
            if subscription.locale:
                context.activity.locale = subscription.locale
            try:
                await deliver(context)
            except Exception as exc:
                # Kept from the adapter's turn error handler, which would swallow it (so a 5xx looked like a
                # removed app and dropped the subscription) and answer "something went wrong" unasked.
                failure = exc
                return
            delivered = True

        try:
            with speaking(self.catalogs.language(subscription.locale)):
                await self.adapter.continue_conversation(
                    to_reference(subscription.conversation), turn, bot_app_id=self.app_id or None
                )
            if failure is not None:
                raise failure
        except RefusedReference as refused:  # never sent: a stored reference the send guard will not use
            log.warning("a reminder's chat reference was refused: %s", refused.reason)
            return Outcome.GONE if refused.kind == CHAT else Outcome.FAILED  # an origin: another instance may know it
        except Exception as exc:
            status = reply_status(exc)
            if status in GONE_STATUSES:
                log.info("the user's chat refused a reminder (%s)", status)
                return Outcome.GONE
            log.warning("a reminder could not be sent: %s %s", type(exc).__name__, status or "")
            # Teams answered an error: nothing was posted, a later check tries again. No answer at all (a timeout,
            # the connection lost): it may have been posted, so it is never sent again (at most once).
            return Outcome.FAILED if status is not None else Outcome.UNCERTAIN
        if not delivered:  # a middleware stopped the turn (the tenant is no longer allowed)
            return Outcome.GONE
        return Outcome.SENT
