"""The `getAppointmentLink` messaging-extension action (DESIGN.md section 4): fetchTask and submitAction.

fetchTask answers the form (prefilled with "this meeting" in a meeting chat, or with a join link found in the selected
message) or, without a Graph token, a sign-in request; submitAction validates the form and answers the same result
card as the chat, or the form again with the reasons next to the fields and everything typed kept.

Teams gives an invoke 5 seconds and then retries it with the same activity id, so: one absolute deadline per invoke
bounds every call (Graph, meeting info, token service) and an outer guard answers the form with a sentence if
anything still overruns; and `InvokeCache` makes a retried invoke share the first one's answer, never calling Graph
a second time. Every answer is a plain dict; nothing is posted to the conversation.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import uuid
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import Any

from botbuilder.core import CloudAdapterBase, InvokeResponse, TurnContext

from dialogs.cards import actions, result_card, strings, task_form_card
from dialogs.client_details import region_from_locale, validate_client_details
from dialogs.linking import (
    LinkFailure,
    find_meeting,
    in_meeting_chat,
    join_link,
    reference_problem,
    within,
)
from dialogs.services import DialogServices, turn_time_zone
from graph.client import deadline_in
from graph.references import MeetingReference, ReferenceKind, parse_meeting_reference

log = logging.getLogger(__name__)

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
INVOKE_BUDGET_S = 4.0  # Graph, meeting info and token calls all end by then...
ANSWER_GUARD_S = 0.5  # ...and the answer is built within this much more: well inside Teams' 5 s
FORM_INPUTS = (
    actions.INPUT_MEETING_REF,
    actions.INPUT_CLIENT_NAME,
    actions.INPUT_CLIENT_EMAIL,
    actions.INPUT_CLIENT_PHONE,
)
_TEAMS_LINK = re.compile(r"https://teams\.microsoft\.com/[^\s\"'<>]+", re.IGNORECASE)

Work = Callable[[], Coroutine[Any, Any, InvokeResponse]]


# --- answers (plain dicts: the adapter serialises the body once, DESIGN.md 7.1) ---------------------------------


def ok(body: dict[str, Any]) -> InvokeResponse:
    return InvokeResponse(status=int(HTTPStatus.OK), body=body)


def task_response(card: dict[str, Any]) -> InvokeResponse:
    """A task module showing `card` (the form)."""
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


def auth_response(sign_in_link: str, *, silent: bool) -> InvokeResponse:
    """Ask Teams to sign the user in: `silentAuth` tries SSO first (manifest `webApplicationInfo`), `auth` shows
    the sign-in link straight away."""
    action = {"type": "openUrl", "value": sign_in_link, "title": strings.ME_SIGN_IN}
    kind = "silentAuth" if silent else "auth"
    return ok({"composeExtension": {"type": kind, "suggestedActions": {"actions": [action]}}})


def form(
    *,
    meeting_ref: str = "",
    fields: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    in_meeting: bool = False,
    meeting_subject: str | None = None,
) -> InvokeResponse:
    typed = fields or {}
    card = task_form_card(
        meeting_ref=meeting_ref,
        name=typed.get(actions.INPUT_CLIENT_NAME, ""),
        email=typed.get(actions.INPUT_CLIENT_EMAIL, ""),
        phone=typed.get(actions.INPUT_CLIENT_PHONE, ""),
        errors=errors,
        in_meeting=in_meeting,
        meeting_subject=meeting_subject,
    )
    return task_response(card)


# --- reading the invoke -----------------------------------------------------------------------------------------


def invoke_value(context: TurnContext) -> dict[str, Any]:
    """The raw invoke value: the SDK's models drop `authentication` and `state`, so read the JSON."""
    value = context.activity.value
    return value if isinstance(value, dict) else {}


def submitted_fields(value: dict[str, Any]) -> dict[str, str]:
    """The form's inputs from a submitAction (`value.data`), as strings."""
    data = value.get("data")
    if not isinstance(data, dict):
        return {}
    return {name: data[name] for name in FORM_INPUTS if isinstance(data.get(name), str)}


def join_link_in_message(value: dict[str, Any]) -> str | None:
    """The first Teams join link in the selected message (`messagePayload.body.content`, usually HTML)."""
    payload = value.get("messagePayload")
    body = payload.get("body") if isinstance(payload, dict) else None
    content = body.get("content") if isinstance(body, dict) else None
    if not isinstance(content, str):
        return None
    for match in _TEAMS_LINK.finditer(html.unescape(content)):
        parsed = parse_meeting_reference(match.group(0))
        if isinstance(parsed, MeetingReference) and parsed.kind in (ReferenceKind.JOIN_URL, ReferenceKind.SHORT_URL):
            return parsed.value
    return None


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
        self.services = services
        self.budget_s = budget_s
        self.cache = cache or InvokeCache()

    async def fetch_task(self, context: TurnContext) -> InvokeResponse:
        return await self._answer(context, self._fetch)

    async def submit_action(self, context: TurnContext) -> InvokeResponse:
        return await self._answer(context, self._submit)

    async def _answer(
        self, context: TurnContext, handler: Callable[[TurnContext, float], Coroutine[Any, Any, InvokeResponse]]
    ) -> InvokeResponse:
        """Run `handler` once per invoke (retries share it), and always answer in time with something useful."""
        deadline = deadline_in(self.budget_s)

        async def guarded() -> InvokeResponse:
            try:
                return await within(handler(context, deadline), deadline + ANSWER_GUARD_S)
            except TimeoutError:
                log.warning("%s overran its budget", context.activity.name)
                return self._form_again(context, strings.ERR_TRY_LATER)
            except Exception as exc:  # never a Teams error: the form again, with a plain sentence
                log.exception("%s failed: %s", context.activity.name, type(exc).__name__)
                return self._form_again(context, strings.ERR_GENERIC)

        return await self.cache.run(invoke_key(context), guarded)

    @staticmethod
    def _form_again(context: TurnContext, sentence: str) -> InvokeResponse:
        fields = submitted_fields(invoke_value(context))
        return form(
            meeting_ref=fields.get(actions.INPUT_MEETING_REF, ""),
            fields=fields,
            errors={actions.FIELD_MEETING: sentence},
        )

    # --- sign-in ------------------------------------------------------------------------------------------------

    async def _sign_in_needed(self, context: TurnContext, deadline: float) -> InvokeResponse | None:
        """None when the user has a Graph token (now in the turn's memory); otherwise the answer that gets one:
        the SSO token Teams sent is exchanged (412 if that fails, so Teams falls back to consent or the sign-in
        link), the magic code in `state` is redeemed, or Teams is asked to sign the user in."""
        tokens = self.services.tokens
        if tokens.local:
            return None  # local mode: everyone is signed in with a simulator token
        value = invoke_value(context)
        authentication = value.get("authentication")
        sso_token = authentication.get("token") if isinstance(authentication, dict) else None
        state = value.get("state") if isinstance(value.get("state"), str) and value.get("state") else None
        try:
            if sso_token:
                token = await within(tokens.exchange(context, str(sso_token)), deadline)
                return None if token else InvokeResponse(status=int(HTTPStatus.PRECONDITION_FAILED))
            if await within(tokens.get_token(context, state), deadline):
                return None
            link = await within(self._sign_in_link(context), deadline)
        except TimeoutError:
            raise LinkFailure(strings.ERR_TRY_LATER) from None
        except Exception as exc:
            log.warning("token service failed: %s", type(exc).__name__)
            raise LinkFailure(strings.ERR_TRY_LATER) from None
        return auth_response(link, silent=state is None)

    async def _sign_in_link(self, context: TurnContext) -> str:
        client = context.turn_state.get(CloudAdapterBase.USER_TOKEN_CLIENT_KEY)
        if client is None:
            raise RuntimeError("no UserTokenClient on this turn")
        resource = await client.get_sign_in_resource(self.services.tokens.connection_name, context.activity, None)
        return str(resource.sign_in_link)

    # --- fetchTask ----------------------------------------------------------------------------------------------

    async def _fetch(self, context: TurnContext, deadline: float) -> InvokeResponse:
        try:
            if (sign_in := await self._sign_in_needed(context, deadline)) is not None:
                return sign_in
        except LinkFailure as failure:
            return form(errors={actions.FIELD_MEETING: failure.sentence})
        value = invoke_value(context)
        from_message = join_link_in_message(value) if value.get("commandContext") == "message" else None
        if from_message:
            return form(meeting_ref=from_message)
        if not in_meeting_chat(context):
            return form()
        try:
            this = await within(self.services.this_meeting(context), deadline)
        except TimeoutError:
            this = None
        if this is None:  # no meeting info (no RSC consent, say): let the user paste the link
            return form()
        return form(in_meeting=True, meeting_subject=this.subject)

    # --- submitAction -------------------------------------------------------------------------------------------

    async def _submit(self, context: TurnContext, deadline: float) -> InvokeResponse:
        fields = submitted_fields(invoke_value(context))
        reference = fields.get(actions.INPUT_MEETING_REF, "").strip()
        details, errors = validate_client_details(
            fields.get(actions.INPUT_CLIENT_NAME),
            fields.get(actions.INPUT_CLIENT_EMAIL),
            fields.get(actions.INPUT_CLIENT_PHONE),
            default_region=region_from_locale(context.activity.locale),
        )
        problem = reference_problem(reference, in_meeting=in_meeting_chat(context))
        if problem:
            errors[actions.FIELD_MEETING] = problem
        if errors:
            return form(meeting_ref=reference, fields=fields, errors=errors)
        try:
            if (sign_in := await self._sign_in_needed(context, deadline)) is not None:
                return sign_in
            meeting = await find_meeting(
                self.services, context, reference, deadline=deadline, new_meeting_key=self._new_meeting_key(context)
            )
            url = await join_link(self.services, context, meeting.id, deadline=deadline)
        except LinkFailure as failure:
            if failure.token_refused:
                await self._sign_out_quietly(context, deadline)
            return form(meeting_ref=reference, fields=fields, errors={actions.FIELD_MEETING: failure.sentence})
        card = result_card(
            join_url=url,
            subject=meeting.subject,
            start=meeting.start,
            end=meeting.end,
            tz_name=turn_time_zone(context),
            client=None if details.is_empty else details,
        )
        return result_response(card)

    @staticmethod
    def _new_meeting_key(context: TurnContext) -> str:
        """`createOrGet`'s external id for `new`: the same for Teams' retries of one submit."""
        activity = context.activity
        seed = f"{activity.from_property.id if activity.from_property else ''}|{activity.id or uuid.uuid4()}"
        return str(uuid.uuid5(uuid.NAMESPACE_URL, seed))

    async def _sign_out_quietly(self, context: TurnContext, deadline: float) -> None:
        """Graph refused the token: forget it so the next submit asks the user to sign in again."""
        try:
            await within(self.services.tokens.sign_out(context), deadline + ANSWER_GUARD_S / 2)
        except Exception as exc:
            log.warning("sign-out after a refused token failed: %s", type(exc).__name__)
