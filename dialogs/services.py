"""What the dialogs need from the world, injected by bot/ so that dialogs never import it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from botbuilder.core import TurnContext
from botbuilder.schema import ActivityTypes

from dialogs.cards.language import Catalogs, current
from dialogs.events import Events, NoEvents
from dialogs.signin.tokens import TokenSource
from graph.bookings import BookingsDirectory
from graph.client import GraphClient, deadline_in
from graph.errors import Unauthorized, Unavailable
from graph.models import Meeting

TokenProvider = Callable[[], Awaitable[str]]
# The meeting whose chat this is, from Teams' meeting info; None when unavailable (no RSC consent, not a meeting).
MeetingInfo = Callable[[TurnContext], Awaitable[Meeting | None]]


class ReminderControl(Protocol):
    """bot/'s side of reminders, as the dialogs need it. Every call is about the user of `context`, whose turn runs
    in their 1:1 chat (shared chats hand the request to it first)."""

    async def turn_on(
        self, context: TurnContext, lead_minutes: int, *, time_zone: str | None, locale: str | None
    ) -> None: ...

    async def turn_off(self, context: TurnContext) -> bool:
        """True when they were on."""
        ...

    async def resume(self, context: TurnContext) -> None:
        """The user has a token again: reminders paused for want of one go on."""
        ...


class SendOnce(Protocol):
    """A claim on something to be sent once, in the store shared by every instance (bot/ implements it): one email
    per card and recipient however often the button is tapped or Teams redelivers the submit."""

    async def claim(self, key: str) -> bool:
        """True for exactly one caller per key; False when it was claimed before. Raises when the store fails (the
        caller then sends nothing: fail closed)."""
        ...

    async def release(self, key: str) -> None:
        """Give a claim back: the send certainly failed, so the same button may try again."""
        ...


@dataclass
class DialogServices:
    tokens: TokenSource
    graph_factory: Callable[[TokenProvider], GraphClient]
    this_meeting: MeetingInfo
    graph_deadline_s: float = 8.0  # message turns have 10-15 s before Teams gives up
    invoke_deadline_s: float = 3.5  # an invoke's answer waits for its turn, and Teams waits 5 s (sign-in included)
    bookings: BookingsDirectory = field(default_factory=BookingsDirectory)  # one per process: it caches per user
    bookings_budget_s: float = 1.5  # the choices wait this long for Bookings at most, then show what is ready
    reminders: ReminderControl | None = None  # None: this bot runs without reminders (`remind me` says they're off)
    send_once: SendOnce | None = None  # None: nothing is emailed (the button says the store is unavailable)
    catalogs: Catalogs = field(default_factory=lambda: Catalogs({}))  # to write to a client in their language
    storage_budget_s: float = 3.0  # a turn waits on the store this long at most (DESIGN.md section 9)
    events: Events = field(default_factory=NoEvents)

    def deadline(self, context: TurnContext) -> float:
        """The absolute loop time by which this turn's Graph calls must be done: sooner in an invoke (a sign-in that
        goes on with the flow), whose answer Teams waits 5 s for and which leaves only when the turn ends."""
        invoke = context.activity.type == ActivityTypes.invoke
        return deadline_in(self.invoke_deadline_s if invoke else self.graph_deadline_s)

    def bookings_deadline(self, deadline: float) -> float:
        """The absolute time by which the choice card stops waiting for Bookings (never after `deadline`)."""
        return min(deadline, deadline_in(self.bookings_budget_s))

    def graph(self, context: TurnContext) -> GraphClient:
        """A Graph client for this turn's user, in the user's language (Accept-Language); the token is fetched
        lazily and never stored."""

        async def provider() -> str:
            try:
                token = await self.tokens.get_token(context)
            except Exception as exc:  # the token service failing is "try again later", not a crash
                raise Unavailable("the sign-in service is unavailable", status=503) from exc
            if not token:
                raise Unauthorized("not signed in", status=401)
            return token

        return self.graph_factory(provider).with_language(current().tag)
