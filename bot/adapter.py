"""The CloudAdapter the bot runs on, with the inbound and outbound SDK fixes applied in one place.

`process` replaces CloudAdapter.process: it parses the request strictly (415/400 for what is not an activity),
turns every failed inbound authentication into 401 (defect 7.8: the SDK answers 500 for a missing, expired or
wrongly signed token), serialises an invoke body once (defect 7.1), and in local mode ignores inbound
authentication but only talks to a loopback service URL, and runs the turn in the user's language (the activity's
locale). `send_activities` paces replies per conversation and retries them (defect 7.6). Size (issue 16): a body
declared over `MAX_BODY_BYTES` is refused with 413 before it is read (one sent without a length, once it passes the
limit), and a message's text is cut to `TEXT_MAX_CHARS` before any dialog sees it. JSON may carry lone UTF-16
surrogates (`"\\ud800"`), which no UTF-8 document can hold: they become U+FFFD here, so a stored dialog state or a
log line never fails on them.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from botbuilder.core import Bot, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes, ResourceResponse
from botframework.connector.auth import BotFrameworkAuthentication, ClaimsIdentity

from bot.pacing import ConversationPacer
from bot.sdk.auth_cache import AuthenticationCache
from bot.sdk.auth_errors import authenticate_or_401
from bot.sdk.fast_msrest import activity_from_json
from bot.sdk.invoke_once import serialise_invoke_body_once
from bot.sdk.reply_retry import send_with_retry
from bot.sdk.turn_cycles import end_turn
from bot.send_guard import LOOPBACK_HOSTS, SendGuard
from bot.storage.deadline import turn_budget
from bot.telemetry import record
from dialogs.cards.language import Catalogs, speaking
from dialogs.commands import cap_text
from dialogs.turn import activity_locale

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024  # the Bot Connector's own activity limit; Teams messages are far smaller
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")  # only such an escape can put a surrogate into parsed JSON
_STATUS_OUTCOMES = {400: "rejected", 401: "unauthorized", 405: "rejected", 413: "rejected", 415: "rejected",
                    503: "unavailable"}


def without_lone_surrogates(body: Any) -> Any:
    """`body` with every lone surrogate in its strings (keys too) replaced by U+FFFD; iterative, so a deeply nested
    value costs no recursion, and linear in the body's size."""

    def clean(text: str) -> str:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")

    root: list[Any] = [body]
    pending: list[tuple[Any, Any]] = [(root, 0)]
    while pending:
        holder, key = pending.pop()
        value = holder[key]
        if isinstance(value, str):
            holder[key] = clean(value)
        elif isinstance(value, list):
            pending.extend((value, index) for index in range(len(value)))
        elif isinstance(value, dict):
            for name in list(value):
                if isinstance(name, str) and (cleaned := clean(name)) != name:
                    value[cleaned] = value.pop(name)
                    name = cleaned
                pending.append((value, name))
    return root[0]


def is_well_formed(activity: Activity) -> bool:
    """The fields every turn relies on: type, serviceUrl, channelId, conversation.id and from.id, as strings; and ids
    without control characters (they end up in the connector's URL path, where a newline makes every reply fail)."""
    ids = (getattr(activity.conversation, "id", None), getattr(activity.from_property, "id", None))
    if not all(isinstance(v, str) and v for v in (activity.type, activity.service_url, activity.channel_id, *ids)):
        return False
    return not any(isinstance(v, str) and _CONTROL_CHARS.search(v) for v in (*ids, activity.id, activity.reply_to_id))


class LinkBotAdapter(CloudAdapter):
    """CloudAdapter with strict request handling, 401 for bad tokens and retried replies."""

    def __init__(
        self, auth: BotFrameworkAuthentication, *, local_mode: bool, catalogs: Catalogs | None = None,
        send_guard: SendGuard | None = None,
    ) -> None:
        super().__init__(auth)
        self.local_mode = local_mode
        self.send_guard = send_guard or SendGuard(local_mode=local_mode)
        self.catalogs = catalogs or Catalogs({})
        self.pacer = ConversationPacer()
        self.auth_cache = AuthenticationCache()

    async def process(self, request: web.Request, bot: Bot, ws_response: Any = None) -> web.Response:
        if not record.active():
            return await self._process(request, bot)
        with record.turn_scope() as note:
            response = await self._process(request, bot)
            if response.status in _STATUS_OUTCOMES:  # refused before the turn (an invoke's own 412 is an answer)
                note.outcome = note.outcome or _STATUS_OUTCOMES[response.status]
            return response

    async def _process(self, request: web.Request, bot: Bot) -> web.Response:
        if request.method != "POST":
            return web.Response(status=405)
        if request.content_type != "application/json":
            return web.Response(status=415, text="Expected application/json")
        if (request.content_length or 0) > MAX_BODY_BYTES:  # declared too big: not even read
            return web.Response(status=413)
        try:
            raw = await request.read()
            body = json.loads(raw)
            if _SURROGATE_ESCAPE.search(raw):
                body = without_lone_surrogates(body)
            activity = activity_from_json(body) if isinstance(body, dict) else None
        except web.HTTPRequestEntityTooLarge:  # over the app's client_max_size
            return web.Response(status=413)
        except Exception:  # malformed JSON or a body msrest cannot map onto an Activity
            activity = None
        if activity is None or not is_well_formed(activity):
            return web.Response(status=400, text="Expected a Bot Framework activity")
        if isinstance(activity.text, str):
            activity.text = cap_text(activity.text)
        record.turn_activity(activity)

        if self.local_mode:
            # Local mode is unauthenticated by design; it must never be steered to talk beyond this machine.
            if urlsplit(activity.service_url).hostname not in LOOPBACK_HOSTS:
                return web.Response(status=400, text="Local mode only answers a loopback serviceUrl")
            auth_header = ""
        else:
            auth_header = request.headers.get("Authorization", "")
            if not auth_header:
                return web.Response(status=401)
        auth_result = self.auth_cache.get(auth_header, activity)
        if auth_result is None:
            checked = await authenticate_or_401(self.bot_framework_authentication, activity, auth_header)
            if isinstance(checked, web.Response):
                return checked
            auth_result = checked
            self.auth_cache.put(auth_header, activity, auth_result)
        if not self.local_mode:
            self.send_guard.saw(activity.service_url)  # the JWT's serviceurl claim vouches for it

        try:
            # The whole turn (middleware, bot, error handler) speaks the user's language, and its storage calls
            # share one budget sized to what Teams waits for this kind of activity (bot/storage/deadline.py).
            with speaking(self.catalogs.language(activity_locale(activity))), turn_budget(
                invoke=activity.type == ActivityTypes.invoke
            ):
                invoke_response = await self.process_activity(auth_result, activity, bot.on_turn)
        except Exception as exc:  # before the turn ran: no connector credentials (Entra down), and the like
            log.error("could not start the turn: %s", type(exc).__name__)
            return web.Response(status=503)
        if invoke_response is None:
            return web.Response(status=201)
        if invoke_response.body is None:
            return web.Response(status=invoke_response.status)
        return web.json_response(serialise_invoke_body_once(invoke_response.body), status=invoke_response.status)

    async def run_pipeline(self, context: TurnContext, callback: Any = None) -> Any:
        """Every turn (inbound, proactive, the private chat's): the SDK's pipeline, then `end_turn`."""
        try:
            return await super().run_pipeline(context, callback)
        finally:
            end_turn(context)

    async def process_proactive(
        self, claims_identity: ClaimsIdentity, continuation_activity: Activity, audience: str, logic: Any
    ) -> None:
        """Every proactive turn is a private send: its reference is admitted by the send guard first (a trusted
        origin, a personal chat the user is in), so a refused one runs nothing and sends nothing, not even the turn
        error handler's apology. RefusedReference otherwise."""
        factory = self.bot_framework_authentication.create_connector_factory(claims_identity)
        connector = await factory.create(continuation_activity.service_url, audience)  # the origin is checked here
        await self.send_guard.admit_private(continuation_activity, connector)
        await super().process_proactive(claims_identity, continuation_activity, audience, logic)

    async def send_activities(self, context: TurnContext, activities: list[Activity]) -> list[ResourceResponse]:
        """One activity at a time, each retried on the statuses Teams asks bots to retry."""
        responses: list[ResourceResponse] = []
        for activity in activities:
            if activity.type in ("invokeResponse", "trace", "delay") or activity.conversation is None:
                responses.extend(await super().send_activities(context, [activity]))
                continue
            conversation_id = activity.conversation.id

            async def paced(one: Activity = activity, conversation: str = conversation_id) -> list[ResourceResponse]:
                async with self.pacer.slot(conversation):
                    sent: list[ResourceResponse] = await super(LinkBotAdapter, self).send_activities(context, [one])
                    return sent

            responses.extend(await send_with_retry(paced))
        return responses
