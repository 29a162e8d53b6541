"""What the dialogs need from the world, injected by bot/ so that dialogs never import it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botbuilder.core import StatePropertyAccessor, TurnContext

from dialogs.tokens import TokenSource
from graph.client import GraphClient, deadline_in
from graph.errors import Unauthorized, Unavailable

TokenProvider = Callable[[], Awaitable[str]]


@dataclass(frozen=True)
class ThisMeeting:
    """The meeting of a meeting chat, from Teams' meeting info (`details.msGraphResourceId`)."""

    graph_id: str
    subject: str | None = None
    start: datetime | None = None
    end: datetime | None = None


@dataclass
class DialogServices:
    tokens: TokenSource
    graph_factory: Callable[[TokenProvider], GraphClient]
    this_meeting: Callable[[TurnContext], Awaitable[ThisMeeting | None]]
    last_link: StatePropertyAccessor  # the last result, per user and conversation, for "Text the link"
    graph_deadline_s: float = 8.0  # message turns have 10-15 s before Teams gives up

    def deadline(self) -> float:
        """The absolute loop time by which this turn's Graph calls must be done."""
        return deadline_in(self.graph_deadline_s)

    def graph(self, context: TurnContext) -> GraphClient:
        """A Graph client for this turn's user; the token is fetched lazily and never stored."""

        async def provider() -> str:
            try:
                token = await self.tokens.get_token(context)
            except Exception as exc:  # the token service failing is "try again later", not a crash
                raise Unavailable("the sign-in service is unavailable", status=503) from exc
            if not token:
                raise Unauthorized("not signed in", status=401)
            return token

        return self.graph_factory(provider)


def turn_locale(context: TurnContext) -> str | None:
    """The activity's locale, for Accept-Language and the phone number's default region."""
    return context.activity.locale or None


def turn_time_zone(context: TurnContext) -> str | None:
    """The user's IANA time zone: `localTimezone`, else the clientInfo entity's `timezone`."""
    activity = context.activity
    zone = getattr(activity, "local_timezone", None)
    if zone:
        return str(zone)
    for entity in activity.entities or []:
        props: Any = getattr(entity, "additional_properties", None) or {}
        if getattr(entity, "type", None) == "clientInfo" and props.get("timezone"):
            return str(props["timezone"])
    return None


def submitted(context: TurnContext) -> dict[str, Any]:
    """An Adaptive Card submit's values (empty for plain text)."""
    value = context.activity.value
    return value if isinstance(value, dict) else {}


def submitted_action(context: TurnContext) -> str | None:
    action = submitted(context).get("action")
    return action if isinstance(action, str) else None
