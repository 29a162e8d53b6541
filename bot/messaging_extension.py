"""Invoke plumbing of the `getAppointmentLink` messaging extension: response shapes, Teams' retries, the deadline.

What the action answers is `dialogs/extension.py`; here it becomes an invoke response: the form and every result
card privately in the task module (`task/continue`), the compose card as a `result`, sign-in as `auth`.
Teams gives an invoke 5 seconds and then retries it with the same activity id, so: one absolute deadline per invoke
bounds every call (Graph, meeting info, token service) and an outer guard answers the form with a sentence if anything
still overruns; and `InvokeCache` makes a retried invoke share the first one's answer, never calling Graph a second
time. Every answer is a plain dict; nothing is posted to the conversation.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext

from dialogs.cards import actions, strings, task_form_card
from dialogs.extension import Answer, AppointmentLinkAction, Compose, Form, Result, form_again
from dialogs.services import DialogServices
from dialogs.turn import Turn
from graph.client import deadline_in, within

log = logging.getLogger(__name__)

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
INVOKE_BUDGET_S = 4.0  # Graph, meeting info and token calls all end by then...
ANSWER_GUARD_S = 0.5  # ...and the answer is built within this much more: well inside Teams' 5 s

Work = Callable[[], Coroutine[Any, Any, InvokeResponse]]


# --- answers (plain dicts: the adapter serialises the body once, DESIGN.md 7.1) ---------------------------------


def ok(body: dict[str, Any]) -> InvokeResponse:
    return InvokeResponse(status=int(HTTPStatus.OK), body=body)


def task_response(card: dict[str, Any]) -> InvokeResponse:
    """A task module showing `card` (the form, the result, a confirmation or a notice)."""
    value = {
        "title": strings.TASK_TITLE,
        "card": {"contentType": ADAPTIVE_CARD, "content": card},
        "width": "medium",
        "height": "large",
    }
    return ok({"task": {"type": "continue", "value": value}})


def result_response(card: dict[str, Any]) -> InvokeResponse:
    """The card Teams puts into the compose box."""
    attachment = {"contentType": ADAPTIVE_CARD, "content": card}
    return ok({"composeExtension": {"type": "result", "attachmentLayout": "list", "attachments": [attachment]}})


def auth_response(sign_in_link: str) -> InvokeResponse:
    """Ask Teams to sign the user in with the sign-in link: `auth`, as Teams documents for action commands
    (`silentAuth` is for search commands). Where Teams has an SSO token it sends it instead, and that is exchanged."""
    action = {"type": "openUrl", "value": sign_in_link, "title": strings.ME_SIGN_IN}
    return ok({"composeExtension": {"type": "auth", "suggestedActions": {"actions": [action]}}})


def form(answer: Form) -> InvokeResponse:
    """The task module with the form, as the answer says to show it."""
    fields = answer.fields
    card = task_form_card(
        meeting_ref=answer.meeting_ref,
        name=fields.get(actions.INPUT_CLIENT_NAME, ""),
        email=fields.get(actions.INPUT_CLIENT_EMAIL, ""),
        phone=fields.get(actions.INPUT_CLIENT_PHONE, ""),
        errors=answer.errors or None,
        in_meeting=answer.in_meeting,
        meeting_subject=answer.meeting_subject,
        language=fields.get(actions.INPUT_CLIENT_LANGUAGE, ""),
    )
    return task_response(card)


def invoke_response(answer: Answer) -> InvokeResponse:
    """The invoke response for an answer of `dialogs/extension.py`."""
    if isinstance(answer, Form):
        return form(answer)
    if isinstance(answer, Result):  # privately, in the task module: the user decides what goes into the chat
        return task_response(answer.card)
    if isinstance(answer, Compose):
        return result_response(answer.card)
    if answer.link is None:  # the SSO token could not be exchanged: Teams then shows consent or the link
        return InvokeResponse(status=int(HTTPStatus.PRECONDITION_FAILED))
    return auth_response(answer.link)


# --- reading the invoke -----------------------------------------------------------------------------------------


def invoke_key(context: TurnContext) -> str | None:
    """Identifies one invoke across Teams' retries; scoped to the user and conversation so no one ever gets
    another person's answer. None when Teams sent no activity id (then nothing is shared)."""
    activity = context.activity
    if not activity.id:
        return None
    sender = activity.from_property.id if activity.from_property else ""
    conversation = activity.conversation.id if activity.conversation else ""
    return "|".join((activity.name or "", activity.channel_id or "", conversation, sender or "", activity.id))


# --- retries share one answer -------------------------------------------------------------------------------------


class InvokeCache:
    """Invoke key -> the task computing its answer, kept `ttl_s` seconds, at most `max_entries` (oldest dropped).

    A retry of a finished invoke gets the same answer; a retry of a running one awaits the same task (which runs on
    its own, so a first request that goes away does not cancel the work the retry is waiting for). A failed task
    is forgotten, so a later retry tries afresh. Per process, like Teams' retries of one request to one instance.
    """

    def __init__(self, *, ttl_s: float = 120.0, max_entries: int = 1024) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, asyncio.Task[InvokeResponse]]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def run(self, key: str | None, work: Work) -> InvokeResponse:
        if key is None:
            return await work()
        now = asyncio.get_running_loop().time()
        self._expire(now)
        entry = self._entries.get(key)
        if entry is None:
            task = asyncio.create_task(work())
            self._entries[key] = (now + self.ttl_s, task)
            task.add_done_callback(lambda done: self._forget_failed(key, done))
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        else:
            task = entry[1]
        return await asyncio.shield(task)

    def _expire(self, now: float) -> None:
        while self._entries:
            key, (expires, task) = next(iter(self._entries.items()))
            if expires > now or not task.done():
                return
            del self._entries[key]

    def _forget_failed(self, key: str, task: asyncio.Task[InvokeResponse]) -> None:
        if task.cancelled() or task.exception() is not None:
            entry = self._entries.get(key)
            if entry is not None and entry[1] is task:
                del self._entries[key]


# --- the handlers -------------------------------------------------------------------------------------------------


class MessagingExtension:
    """fetchTask and submitAction for `getAppointmentLink`; each returns the complete invoke response."""

    def __init__(
        self,
        services: DialogServices,
        *,
        budget_s: float = INVOKE_BUDGET_S,
        cache: InvokeCache | None = None,
    ) -> None:
        self.action = AppointmentLinkAction(services)
        self.budget_s = budget_s
        self.cache = cache or InvokeCache()

    async def fetch_task(self, context: TurnContext) -> InvokeResponse:
        return await self._answer(context, self.action.fetch)

    async def submit_action(self, context: TurnContext) -> InvokeResponse:
        return await self._answer(context, self.action.submit)

    async def _answer(
        self, context: TurnContext, handler: Callable[[Turn, float], Coroutine[Any, Any, Answer]]
    ) -> InvokeResponse:
        """Run `handler` once per invoke (retries share it), and always answer in time with something useful."""
        deadline = deadline_in(self.budget_s)
        turn = Turn.of(context)

        async def guarded() -> InvokeResponse:
            try:
                return invoke_response(await within(handler(turn, deadline), deadline + ANSWER_GUARD_S))
            except TimeoutError:
                log.warning("%s overran its budget", context.activity.name)
                return form(form_again(turn, strings.ERR_TRY_LATER))
            except Exception as exc:  # never a Teams error: the form again, with a plain sentence
                log.exception("%s failed: %s", context.activity.name, type(exc).__name__)
                return form(form_again(turn, strings.ERR_GENERIC))

        return await self.cache.run(invoke_key(context), guarded)
