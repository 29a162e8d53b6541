"""The Teams activity handler: what arrives from Teams and where it goes.

Messages and card submits run the dialogs; the sign-in invokes are routed into the same dialog (SDK defect 7.4: the
default answers 501 to both); `signin/failure` is logged with its likely cause; installation brings the welcome card.
A flow asked for in a shared chat runs in the user's one-to-one chat (bot/private_chat.py).
"""

from __future__ import annotations

import logging

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.dialogs import Dialog, DialogSet, DialogTurnStatus
from botbuilder.schema import Activity, ActivityTypes, SignInConstants
from botbuilder.schema.teams import MessagingExtensionAction

from bot.errors import invoke_error_body
from bot.messaging_extension import MessagingExtension
from bot.private_chat import PersonalChats
from bot.storage.state import BotStates
from dialogs.cards import strings, welcome_card
from dialogs.handoff import PrivateRequest, decode, encode, sentences
from dialogs.signin.flow import signed_in_without_a_flow
from dialogs.signin.tokens import TokenSource
from dialogs.turn import Turn

log = logging.getLogger(__name__)

# signin/failure codes Teams sends, and the misconfiguration each usually means (docs/azure-setup.md).
SIGNIN_FAILURE_CAUSES = {
    "resourcematchfailed": "the OAuth connection's Token Exchange URL is not the app's api://botid-<app id> URI",
    "installedappnotfound": "the app is not installed for this user, or the manifest's webApplicationInfo is missing",
    "invokeerror": "the Teams client could not get an SSO token; check webApplicationInfo and the Entra app",
    "resourcedisabled": "the Entra app's App ID URI or access_as_user scope is missing or disabled",
    "oauthcardnotvalid": "the OAuthCard was malformed; check tokenExchangeResource",
    "serviceerror": "a temporary Teams or Entra ID failure",
}


HANDLED_INVOKES = frozenset(
    {
        SignInConstants.token_exchange_operation_name,
        SignInConstants.verify_state_operation_name,
        "composeExtension/fetchTask",
        "composeExtension/submitAction",
    }
)


class LinkBot(TeamsActivityHandler):
    """Runs the root dialog; saves state after every turn."""

    def __init__(
        self,
        states: BotStates,
        root: Dialog,
        tokens: TokenSource,
        *,
        messaging_extension: MessagingExtension,
        personal_chats: PersonalChats,
    ) -> None:
        self.states = states
        self.root = root
        self.tokens = tokens
        self.messaging_extension = messaging_extension
        self.personal_chats = personal_chats
        self.dialogs = DialogSet(states.dialog_state)
        self.dialogs.add(root)

    async def on_turn(self, turn_context: TurnContext) -> None:
        await self.personal_chats.remember(turn_context)
        await super().on_turn(turn_context)
        await self.states.save(turn_context)

    async def run_dialog(self, turn_context: TurnContext, *, may_begin: bool) -> bool:
        """Continue the user's flow, or begin a new one for a message. False when nothing consumed the activity.
        A request the root dialog ends with to continue privately (dialogs/handoff.py) runs in the user's one-to-one
        chat."""
        dc = await self.dialogs.create_context(turn_context)
        if not Turn.of(turn_context).is_personal:
            await dc.cancel_all_dialogs()  # no flow lives in a shared chat (one left from an older version ends)
        result = await dc.continue_dialog()
        if result.status == DialogTurnStatus.Empty:
            if not may_begin:
                return False
            result = await dc.begin_dialog(self.root.id)
        private = decode(result.result) if result.status == DialogTurnStatus.Complete else None
        if private is not None:
            await self.run_privately(turn_context, private)
        return True

    async def run_privately(self, turn_context: TurnContext, request: PrivateRequest) -> None:
        """Begin the root dialog with `request` in the user's one-to-one chat, as its own turn there: its dialog
        state is that chat's, so the user's replies there continue it."""

        async def private_turn(private: TurnContext) -> None:
            dc = await self.dialogs.create_context(private)
            await dc.cancel_all_dialogs()  # a new request replaces what the one-to-one chat was in the middle of
            await dc.begin_dialog(self.root.id, encode(request))
            await self.states.save(private)

        await self.personal_chats.run_privately(turn_context, private_turn, *sentences(request))

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await self.run_dialog(turn_context, may_begin=True)
        if not turn_context.responded:
            # Every message gets an answer; a flow that ended this one in silence was steered by stored values its
            # dialogs cannot use (a step index past the last step, say): end it and say so, as for unreadable state.
            log.warning("a message turn ended without an answer; the flow was reset: conversation=%s",
                        getattr(turn_context.activity.conversation, "id", None))
            dc = await self.dialogs.create_context(turn_context)
            await dc.cancel_all_dialogs()
            await Turn.of(turn_context).say_here(strings.STATE_RESET)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await Turn.of(turn_context).say_here(welcome_card())

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        """Welcome comes with installationUpdate; skip the SDK's per-member roster lookups here."""
        return

    # --- sign-in invokes (SDK defect 7.4) --------------------------------------------------------------------

    async def on_teams_signin_verify_state(self, turn_context: TurnContext) -> None:
        if not await self.run_dialog(turn_context, may_begin=False):
            await signed_in_without_a_flow(turn_context, self.tokens)

    async def on_teams_signin_token_exchange(self, turn_context: TurnContext) -> None:
        if not await self.run_dialog(turn_context, may_begin=False):
            await signed_in_without_a_flow(turn_context, self.tokens)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:
        name = turn_context.activity.name
        if name == "signin/failure":
            await self.on_signin_failure(turn_context)
            return self._create_invoke_response()
        if name not in HANDLED_INVOKES:
            # The SDK answers 501 to anything it has no handler for; an unknown invoke is not a server error.
            log.info("ignored an invoke the bot does not handle: %.60s", name or "-")
            return self._create_invoke_response()
        if name.startswith("composeExtension/") and not isinstance(turn_context.activity.value, dict):
            # The SDK would raise deserialising a missing or non-object value: answer it as the failure it is.
            status, body = invoke_error_body(name)
            return InvokeResponse(status=status, body=body)
        return await super().on_invoke_activity(turn_context)

    async def on_signin_failure(self, turn_context: TurnContext) -> None:
        code = (Turn.of(turn_context).value("code") or "unknown").lower()
        cause = SIGNIN_FAILURE_CAUSES.get(code, "see docs/azure-setup.md, 'Usual misconfigurations'")
        log.warning("Teams SSO failed: code=%s; likely cause: %s", code, cause)
        await Turn.of(turn_context).say_here(strings.SIGN_IN_FAILED)

    # --- messaging extension (bot/messaging_extension.py) ----------------------------------------------------

    async def on_teams_messaging_extension_fetch_task(
        self, turn_context: TurnContext, action: MessagingExtensionAction
    ) -> None:
        """`getAppointmentLink` opened: the form, or a sign-in request."""
        await self._answer_invoke(turn_context, await self.messaging_extension.fetch_task(turn_context))

    async def on_teams_messaging_extension_submit_action(
        self, turn_context: TurnContext, action: MessagingExtensionAction
    ) -> None:
        """The form was submitted: the result card, or the form again with its reasons."""
        await self._answer_invoke(turn_context, await self.messaging_extension.submit_action(turn_context))

    @staticmethod
    async def _answer_invoke(turn_context: TurnContext, response: InvokeResponse) -> None:
        """Answer with our own status and JSON body (412 included). Returning None afterwards is fine: the SDK
        sends no second answer once one was sent, and a dict body must not pass its serialiser (defect 7.1)."""
        await turn_context.send_activity(Activity(type=ActivityTypes.invoke_response, value=response))
