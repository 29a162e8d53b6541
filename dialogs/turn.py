"""The turn: the activity read once, and the one place that decides where a reply to the user goes.

Dialogs and the messaging extension ask the `Turn` (command, submitted action and values, cleaned text, locale,
time zone, conversation kind, meeting id, tenant) instead of reading `context.activity` themselves, so a quirk of the
activity's shape is handled in one place. `reply` is the seam for anything meant for the user alone (cards with
their calendar, the client's details, the link, sign-in material); `say_here` is for what may be seen by everyone in
the conversation.

Shared chats are never shown private data (DESIGN.md section 3): the dialogs run no flow in a group, channel or
meeting chat (they move it to the user's one-to-one chat, see `dialogs.main`), and `reply` enforces it: in a
conversation that is not personal it sends nothing and logs that it withheld something.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, TypeAlias

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity, ActivityTypes

from dialogs.cards import actions
from dialogs.commands import CANCEL, GET_LINK, HELP, REMIND_ME, clean_text, parse_command

log = logging.getLogger(__name__)

_TURN_KEY = "link_bot.turn"

# Card buttons that mean the same as a typed command.
_ACTION_COMMANDS = {
    actions.GET_LINK: GET_LINK, actions.HELP: HELP, actions.CANCEL: CANCEL, actions.REMIND_ME: REMIND_ME
}

USER_NAME_MAX = 256  # a display name longer than this is cut (Entra allows 256)
Reply: TypeAlias = str | Activity | dict[str, Any]  # a sentence, a prepared activity, or an Adaptive Card


def activity_locale(activity: Activity) -> str | None:
    """The user's locale: the activity's `locale`, else the clientInfo entity's `locale` (Teams sends both). The
    adapter reads it too, before the turn starts, to run the whole turn in the user's language."""
    if activity.locale:
        return str(activity.locale)
    for entity in activity.entities or []:
        props: Any = getattr(entity, "additional_properties", None) or {}
        if getattr(entity, "type", None) == "clientInfo" and isinstance(props.get("locale"), str) and props["locale"]:
            return str(props["locale"])
    return None


def _time_zone(activity: Activity) -> str | None:
    """`localTimezone`, else the clientInfo entity's `timezone`."""
    zone = getattr(activity, "local_timezone", None)
    if zone:
        return str(zone)
    for entity in activity.entities or []:
        props: Any = getattr(entity, "additional_properties", None) or {}
        if getattr(entity, "type", None) == "clientInfo" and props.get("timezone"):
            return str(props["timezone"])
    return None


def activity_tenant(activity: Activity) -> str | None:
    """The tenant Teams says the activity comes from (`channelData.tenant.id`, else the conversation's)."""
    tenant = _dict(_dict(activity.channel_data).get("tenant")).get("id") or getattr(
        activity.conversation, "tenant_id", None
    )
    return str(tenant) if tenant else None


def _conversation_kind(activity: Activity) -> str:
    """personal, groupChat or channel. Fails closed: without a type, a conversation flagged as a group (or any
    conversation with a meeting) is shared, so private content is never sent to it."""
    conversation = activity.conversation
    kind = getattr(conversation, "conversation_type", None)
    if isinstance(kind, str) and kind:
        return kind
    meeting = _dict(activity.channel_data).get("meeting")
    return "groupChat" if getattr(conversation, "is_group", None) or meeting else "personal"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class Turn:
    """What this turn's activity says, read once (`Turn.of(context)`), plus where to send replies."""

    context: TurnContext
    is_message: bool
    text: str  # the message text, @mentions removed and spaces folded ("" for invokes and card submits)
    command: str | None  # get link, help, sign out, cancel (typed or a card button), else None
    rest: str  # after `get link`, the meeting reference; for other text, the text itself
    values: dict[str, Any]  # a card submit's values or an invoke's value (the raw JSON); {} otherwise
    action: str | None  # the submitted card button's `action`
    locale: str | None
    time_zone: str | None  # IANA name, from the Teams client
    conversation_kind: str  # personal, groupChat or channel
    meeting_id: str | None  # `channelData.meeting.id`: the Teams meeting id, for meeting info only (Graph rejects it)
    tenant_id: str | None
    user_id: str  # the channel's id for the user
    user_name: str = ""  # the user's display name as Teams sends it (`from.name`): whom the client's email is from

    @classmethod
    def of(cls, context: TurnContext) -> Turn:
        """The turn of `context`, built on first use and kept in the turn's memory."""
        turn = context.turn_state.get(_TURN_KEY)
        if not isinstance(turn, Turn):
            turn = cls._read(context)
            context.turn_state[_TURN_KEY] = turn
        return turn

    @staticmethod
    def forget(context: TurnContext) -> None:
        """Drop the turn kept in `context`'s memory (it points back at `context`: a cycle until then)."""
        context.turn_state.pop(_TURN_KEY, None)

    @classmethod
    def _read(cls, context: TurnContext) -> Turn:
        activity = context.activity
        values = _dict(activity.value)
        action = values.get("action")
        action = action if isinstance(action, str) else None
        is_message = activity.type == ActivityTypes.message
        text = clean_text(activity.text) if is_message else ""
        command: str | None
        if action in _ACTION_COMMANDS:
            command, rest = _ACTION_COMMANDS[action], ""
        elif is_message:
            command, rest = parse_command(text)
        else:
            command, rest = None, ""
        data = _dict(activity.channel_data)
        meeting_id = _dict(data.get("meeting")).get("id")
        tenant = activity_tenant(activity)
        sender = activity.from_property
        return cls(
            context=context,
            is_message=is_message,
            text=text,
            command=command,
            rest=rest,
            values=values,
            action=action,
            locale=activity_locale(activity),
            time_zone=_time_zone(activity),
            conversation_kind=_conversation_kind(activity),
            meeting_id=meeting_id if isinstance(meeting_id, str) and meeting_id else None,
            tenant_id=tenant,
            user_id=str(getattr(sender, "id", "") or ""),
            user_name=str(getattr(sender, "name", "") or "")[:USER_NAME_MAX],
        )

    @property
    def is_personal(self) -> bool:
        """A one-to-one chat with the user: the only place private content may be shown."""
        return self.conversation_kind == "personal"

    @property
    def in_meeting_chat(self) -> bool:
        """In a meeting's chat (or the meeting itself): Teams then sends `channelData.meeting.id`."""
        return self.meeting_id is not None

    def value(self, name: str) -> str:
        """One submitted input as a string ("" when absent or not text)."""
        found = self.values.get(name)
        return found if isinstance(found, str) else ""

    async def reply(self, content: Reply) -> None:
        """Send something meant for the user alone. Every private card and sentence goes through here, so keeping
        private content out of shared chats is decided in this one place: outside a personal chat it is withheld."""
        if not self.is_personal:
            log.warning("withheld a private reply from a %s conversation", self.conversation_kind)
            return
        await self.context.send_activity(_activity(content))

    async def replace(self, activity_id: str, content: Reply) -> None:
        """Update a private message sent before (a card whose buttons are spent), like `reply`: only in a personal
        chat. Raises what the connector raises (the caller decides whether a new message should say it instead)."""
        if not self.is_personal:
            log.warning("withheld a private update from a %s conversation", self.conversation_kind)
            return
        activity = _activity(content)
        update = MessageFactory.text(activity) if isinstance(activity, str) else activity
        update.id = activity_id
        await self.context.update_activity(update)

    async def say_here(self, content: Reply) -> None:
        """Send something anyone in this conversation may see (no calendar, client, link or sign-in material)."""
        await self.context.send_activity(_activity(content))


def _activity(content: Reply) -> Activity | str:
    if isinstance(content, dict):
        return MessageFactory.attachment(CardFactory.adaptive_card(content))
    return content
