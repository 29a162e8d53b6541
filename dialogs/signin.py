"""Sign-in: silent Teams SSO first, the sign-in card when consent or SSO is unavailable.

In a group or meeting chat Teams offers no bot SSO, and a sign-in card or a typed magic code there would be seen by
everyone. So the bot says (without anything token-related) that sign-in happens privately, opens the one-to-one
chat with the user and sends the sign-in card there; the user comes back and asks again.
"""

from __future__ import annotations

import copy
import logging

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.dialogs import ComponentDialog, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    TokenResponse,
)

from dialogs.base import send_card
from dialogs.cards import signin_help_card, strings
from dialogs.sso_prompt import TeamsSsoPrompt, oauth_card
from dialogs.tokens import TokenServiceTokens, TokenSource

log = logging.getLogger(__name__)

SIGN_IN_TIMEOUT_MS = 15 * 60 * 1000


def tenant_of(activity: Activity) -> str | None:
    """Teams puts the tenant in `channelData.tenant.id` (the SDK cannot read `conversation.tenantId`)."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = data.get("tenant") if isinstance(data.get("tenant"), dict) else {}
    return tenant.get("id") or getattr(activity.conversation, "tenant_id", None)


def is_personal(activity: Activity) -> bool:
    return getattr(activity.conversation, "conversation_type", None) in (None, "personal")


class SignInDialog(ComponentDialog):
    """Ends with True when the user has a token, False otherwise (having told them what to do)."""

    ID = "signIn"
    PROMPT = "ssoPrompt"

    def __init__(self, tokens: TokenSource) -> None:
        super().__init__(self.ID)
        self.tokens = tokens
        if isinstance(tokens, TokenServiceTokens):
            self.add_dialog(
                TeamsSsoPrompt(
                    self.PROMPT,
                    tokens,
                    title=strings.BUTTON_SIGN_IN,
                    text=strings.SIGN_IN_PROMPT,
                    timeout_ms=SIGN_IN_TIMEOUT_MS,
                )
            )
        self.add_dialog(WaterfallDialog("signInSteps", [self.check_step, self.finish_step]))
        self.initial_dialog_id = "signInSteps"

    async def check_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        context = step.context
        try:
            token = await self.tokens.get_token(context)
        except Exception as exc:  # the token service failing must not crash the turn
            log.warning("token service unavailable: %s", type(exc).__name__)
            await context.send_activity(strings.ERR_TRY_LATER)
            return await step.end_dialog(False)
        if token:
            return await step.end_dialog(True)
        if not isinstance(self.tokens, TokenServiceTokens):
            await context.send_activity(strings.SIGN_IN_FAILED)
            return await step.end_dialog(False)
        if not is_personal(context.activity):
            await sign_in_privately(context, self.tokens)
            return await step.end_dialog(False)
        return await step.begin_dialog(self.PROMPT)

    async def finish_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if isinstance(step.result, TokenResponse) and step.result.token:
            return await step.end_dialog(True)
        await step.context.send_activity(strings.SIGN_IN_FAILED)
        return await step.end_dialog(False)


async def sign_in_privately(context: TurnContext, tokens: TokenServiceTokens) -> None:
    """Tell the group (nothing token-related), then send the sign-in card in the user's one-to-one chat."""
    await send_card(context, signin_help_card())
    activity = context.activity
    connector = context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
    tenant = tenant_of(activity)
    try:
        created = await connector.conversations.create_conversation(
            ConversationParameters(
                is_group=False,
                bot=activity.recipient,
                members=[ChannelAccount(id=activity.from_property.id)],
                tenant_id=tenant,
                channel_data={"tenant": {"id": tenant}},
            )
        )
        personal = copy.copy(activity)
        personal.conversation = ConversationAccount(id=created.id, conversation_type="personal", tenant_id=tenant)
        client = TokenServiceTokens._client(context)
        resource = await client.get_sign_in_resource(tokens.connection_name, personal, None)
        card = oauth_card(strings.SIGN_IN_PROMPT, strings.BUTTON_SIGN_IN, tokens.connection_name, resource)
        await connector.conversations.send_to_conversation(
            created.id,
            Activity(
                type=ActivityTypes.message,
                attachments=[card],
                from_property=activity.recipient,
                recipient=activity.from_property,
                conversation=personal.conversation,
                channel_id=activity.channel_id,
                service_url=activity.service_url,
            ),
        )
    except Exception as exc:  # e.g. 403 BotNotInConversationRoster when the user never opened a chat with us
        log.warning("could not open a private sign-in chat: %s", type(exc).__name__)
        await context.send_activity(strings.SIGN_IN_PRIVATE_FAILED)
