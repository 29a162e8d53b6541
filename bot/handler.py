"""The Teams activity handler: what arrives from Teams and where it goes."""

from __future__ import annotations

import logging
import re
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import Activity
from botbuilder.schema.teams import (
    MessagingExtensionAction,
    MessagingExtensionActionResponse,
    TaskModuleContinueResponse,
    TaskModuleTaskInfo,
)

from bot.state import BotStates
from dialogs.cards import help_card, strings, task_form_card, welcome_card

log = logging.getLogger(__name__)

_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
_SPACES = re.compile(r"\s+")


def command_text(activity: Activity) -> str:
    """The user's text with @mentions of the bot removed, trimmed, spaces folded and lower-cased."""
    text = activity.text or ""
    text = _MENTION.sub(" ", text)
    return _SPACES.sub(" ", text).strip().lower()


def card_message(card: dict[str, Any]) -> Activity:
    """An activity carrying one Adaptive Card."""
    return MessageFactory.attachment(CardFactory.adaptive_card(card))


class LinkBot(TeamsActivityHandler):
    """Welcome on install, help on request; saves state after every turn."""

    def __init__(self, states: BotStates) -> None:
        self.states = states

    async def on_turn(self, turn_context: TurnContext) -> None:
        await super().on_turn(turn_context)
        await self.states.conversation.save_changes(turn_context)
        await self.states.user.save_changes(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        text = command_text(turn_context.activity)
        value = turn_context.activity.value
        action = value.get("action") if isinstance(value, dict) else None
        if text == "help" or action == "help":
            await turn_context.send_activity(card_message(help_card()))
            return
        await turn_context.send_activity(strings.UNKNOWN_COMMAND)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(card_message(welcome_card()))

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        """Welcome comes with installationUpdate; skip the SDK's per-member roster lookups here."""
        return

    async def on_teams_messaging_extension_fetch_task(
        self, turn_context: TurnContext, action: MessagingExtensionAction
    ) -> MessagingExtensionActionResponse:
        """The `getAppointmentLink` action: a task module with the form."""
        return MessagingExtensionActionResponse(
            task=TaskModuleContinueResponse(
                value=TaskModuleTaskInfo(
                    title=strings.TASK_TITLE, card=CardFactory.adaptive_card(task_form_card()), width="medium"
                )
            )
        )
