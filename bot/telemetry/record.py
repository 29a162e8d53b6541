"""What the bot records, called from wherever it happens; every function returns at once while telemetry is off.

Only `setup.start` turns recording on (`activate`), with its own tracer and meter, and `setup` turns it off again at
shutdown. Attributes are low-cardinality words chosen here (activity type, invoke name, outcome, kind), ids only
where a complaint must find a turn (the activity id, Graph's request-id), never text, names, addresses or links.
Metric attributes never carry an id at all.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, cast

from bot.telemetry.scrub import url_path_template
from graph.client import path_shape

PREFIX = "linkbot"
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./:-]{0,63}")  # an activity id, invoke name, locale: shape only
# A metric attribute must stay of low cardinality whatever a sender puts in `type`.
ACTIVITY_TYPES = frozenset({"message", "invoke", "event", "conversationUpdate", "installationUpdate",
                            "messageReaction", "messageUpdate", "messageDelete", "typing", "endOfConversation"})


@dataclass
class _Live:
    tracer: Any  # opentelemetry.trace.Tracer
    turn_duration: Any
    links: Any
    sign_ins: Any
    graph_calls: Any
    graph_waits: Any
    storage_failures: Any
    reminders: Any


_live: _Live | None = None


def active() -> bool:
    return _live is not None


def activate(tracer: Any, meter: Any) -> None:
    """Start recording with `tracer` and instruments made on `meter` (opentelemetry API objects)."""
    global _live
    _live = _Live(
        tracer=tracer,
        turn_duration=meter.create_histogram(
            f"{PREFIX}.turn.duration", unit="s", description="Bot turns by activity type and outcome",
            explicit_bucket_boundaries_advisory=[0.05, 0.1, 0.25, 0.5, 1, 2, 3.5, 5, 8, 15],
        ),
        links=meter.create_counter(f"{PREFIX}.links.issued", unit="{link}", description="Client links handed out"),
        sign_ins=meter.create_counter(f"{PREFIX}.signin.outcomes", unit="{sign-in}", description="Sign-in outcomes"),
        graph_calls=meter.create_counter(f"{PREFIX}.graph.calls", unit="{call}", description="Graph calls by status"),
        graph_waits=meter.create_histogram(
            f"{PREFIX}.graph.throttle.wait", unit="s", description="Waits before retrying Graph (429/503/504)",
        ),
        storage_failures=meter.create_counter(
            f"{PREFIX}.storage.failures", unit="{failure}", description="Failed storage calls"
        ),
        reminders=meter.create_counter(f"{PREFIX}.reminders", unit="{reminder}", description="Reminder outcomes"),
    )


def deactivate() -> None:
    global _live
    _live = None


def token(value: object) -> str:
    """An id or word from an activity, recorded only if it has the shape of one (else `other`)."""
    return value if isinstance(value, str) and _TOKEN.fullmatch(value) else "other"


# ---- spans ---------------------------------------------------------------------------------------------------------


def span(name: str, attributes: dict[str, Any] | None = None) -> AbstractContextManager[Any]:
    """A span of its own (a new trace when none is current: reminder checks); a null context while off."""
    if _live is None:
        return nullcontext()
    return _span(_live, name, attributes or {})


@contextmanager
def _span(live: _Live, name: str, attributes: dict[str, Any]) -> Iterator[Any]:
    with live.tracer.start_as_current_span(
        name, attributes=attributes, record_exception=False, set_status_on_exception=False
    ) as current:
        try:
            yield current
        except BaseException as exc:
            _failed(current, exc)
            raise


def _failed(current: Any, exc: BaseException) -> None:
    """Error status naming the exception's class only: messages can quote what a user typed or Graph's text."""
    from opentelemetry.trace import StatusCode

    current.set_attribute("error.type", type(exc).__name__)
    current.set_status(StatusCode.ERROR)


def turn(attributes: dict[str, str]) -> None:
    """Describe the turn on the server span of POST /api/messages (the current span)."""
    if _live is None:
        return
    from opentelemetry import trace

    current = trace.get_current_span()
    if current.is_recording():
        current.set_attributes({f"{PREFIX}.{key}": value for key, value in attributes.items()})


@dataclass
class TurnNote:
    """What the turn learnt about itself on the way (set from deep inside it, read when it ends)."""

    activity_type: str = "none"
    outcome: str | None = None


_note: ContextVar[TurnNote | None] = ContextVar("telemetry_turn", default=None)


def activity_attributes(activity: Any) -> dict[str, str]:
    """The turn's description: type, invoke/event name, conversation kind, locale, activity id; never text."""
    conversation = getattr(activity, "conversation", None)
    attributes = {
        "activity.type": token(getattr(activity, "type", None)),
        "activity.id": token(getattr(activity, "id", None)),
        "conversation.kind": token(getattr(conversation, "conversation_type", None) or "personal"),
        "locale": token(getattr(activity, "locale", None) or "none"),
    }
    if getattr(activity, "name", None):
        attributes["invoke.name"] = token(activity.name)
    return attributes


def turn_activity(activity: Any) -> None:
    """The inbound activity, once parsed: on the turn's span, and its type for the latency metric."""
    if _live is None:
        return
    attributes = activity_attributes(activity)
    note = _note.get()
    if note is not None:
        note.activity_type = attributes["activity.type"] if attributes["activity.type"] in ACTIVITY_TYPES else "other"
    turn(attributes)


@contextmanager
def turn_scope() -> Iterator[TurnNote]:
    """Around one POST /api/messages: on the way out, the turn's outcome on its span and in the latency metric."""
    note = TurnNote()
    reset = _note.set(note)
    started = time.perf_counter()
    try:
        yield note
    finally:
        _note.reset(reset)
        live = _live
        if live is not None:
            outcome = note.outcome or "ok"
            turn({"outcome": outcome})
            live.turn_duration.record(
                time.perf_counter() - started,
                {f"{PREFIX}.activity.type": note.activity_type, f"{PREFIX}.outcome": outcome},
            )


def turn_outcome(outcome: str) -> None:
    """The running turn's outcome, when it is not `ok`: the first one said wins (the cause, not its echoes)."""
    note = _note.get()
    if note is not None and note.outcome is None:
        note.outcome = outcome


# ---- HTTP calls (connector, token service) --------------------------------------------------------------------------


class HttpCall:
    """One connector or token-service request, recorded as an event on the current span (the turn's, or the Graph
    call's for the token look-up it makes): `POST /v3/conversations/{conversation}/activities` (the path templated,
    no host or query) with its status or `error.type` and its duration, as storage requests are. Made where those calls
    pass (bot/sdk/aiohttp_transport.py) instead of as spans by the aiohttp client instrumentation: a span and its
    histogram per request cost several times an event (README "Telemetry")."""

    __slots__ = ("_attributes", "_name", "_span", "_started")

    def __init__(self, span: Any, method: str, url: object) -> None:
        self._span = span
        self._name = f"{method} {url_path_template(url)}"
        self._attributes: dict[str, Any] = {}
        self._started = time.perf_counter()

    def __enter__(self) -> HttpCall:
        return self

    def __exit__(self, _type: object, error: BaseException | None, _tb: object) -> None:
        if error is not None:
            self.failed(error)
        self._attributes["duration_ms"] = round((time.perf_counter() - self._started) * 1000, 3)
        self._span.add_event(self._name, self._attributes)

    def status(self, code: int) -> None:
        self._attributes["http.response.status_code"] = code
        if code >= 400:
            self._attributes["error.type"] = str(code)

    def failed(self, error: BaseException) -> None:
        """The request got no answer (timeout, connection): the cause's class, never its message."""
        self._attributes.setdefault("error.type", type(error).__name__)


_OFF: AbstractContextManager[None] = nullcontext()


def http_call(method: str, url: object) -> AbstractContextManager[HttpCall | None]:
    """Around one connector or token-service request; while off (or outside any span), a shared null context."""
    if _live is None:
        return _OFF
    from opentelemetry import trace

    current = trace.get_current_span()
    return HttpCall(current, method, url) if current.is_recording() else _OFF


# ---- counters ------------------------------------------------------------------------------------------------------

LINK_SOURCES = frozenset({"chat", "messaging_extension", "reminder"})
LINK_KINDS = frozenset({"calendar", "bookings", "new"})
SIGN_IN_OUTCOMES = frozenset({"silent_sso", "card", "consent_needed", "failure"})


def link_issued(source: str, kind: str) -> None:
    if _live is not None:
        _live.links.add(1, {f"{PREFIX}.link.source": source, f"{PREFIX}.link.kind": kind})
        turn({"link.kind": kind})


def link_failed(source: str, reason: str) -> None:
    """A turn that could not give a link: said to the user, and an outcome of the turn an operator looks for."""
    if _live is not None:
        turn({"link.failure": reason})
        turn_outcome("link_failed")


def sign_in(outcome: str) -> None:
    if _live is not None:
        _live.sign_ins.add(1, {f"{PREFIX}.signin.outcome": outcome})
        turn({"signin.outcome": outcome})


def reminder(outcome: str) -> None:
    if _live is not None:
        _live.reminders.add(1, {f"{PREFIX}.reminder.outcome": outcome})


def storage_call(backend: str, operation: str, started: float, error: BaseException | None) -> None:
    """A storage request as an event on the current span (the turn's), with its duration and outcome."""
    if _live is None:
        return
    from opentelemetry import trace

    current = trace.get_current_span()
    if current.is_recording():
        attributes: dict[str, Any] = {
            "db.system.name": backend, "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        }
        if error is not None:
            attributes["error.type"] = type(error).__name__
        current.add_event(f"storage {operation}", attributes)


def storage_failed(operation: str, error: BaseException) -> None:
    if _live is not None:
        _live.storage_failures.add(1, {f"{PREFIX}.storage.operation": operation, "error.type": type(error).__name__})


class DialogEvents:
    """dialogs.events.Events, recorded here (nothing while telemetry is off)."""

    def link_issued(self, source: str, kind: str) -> None:
        link_issued(source, kind)

    def link_failed(self, source: str, reason: str) -> None:
        link_failed(source, reason)

    def sign_in(self, outcome: str) -> None:
        sign_in(outcome)


# ---- Graph ---------------------------------------------------------------------------------------------------------


class _GraphCall:
    """One Graph request's span: status, Graph's request-id and the retry count; counters per attempt. The span is
    the request's only one: its attempts make no span of their own (the app's session is not instrumented), each
    retried one being an event, which halves what a Graph call costs to record and export."""

    def __init__(self, live: _Live, current: Any, method: str) -> None:
        self.live, self.span, self.method = live, current, method
        self.attempts = 0

    def attempt(self, status: int | None, request_id: str | None) -> None:
        self.attempts += 1
        outcome = str(status) if status is not None else "timeout"
        self.live.graph_calls.add(1, {"http.request.method": self.method, "http.response.status_code": outcome})
        attributes: dict[str, Any] = {f"{PREFIX}.graph.retries": self.attempts - 1}
        if status is not None:
            attributes["http.response.status_code"] = status
        if request_id:
            attributes[f"{PREFIX}.graph.request_id"] = token(request_id)
        self.span.set_attributes(attributes)

    def waiting(self, seconds: float, status: int | None) -> None:
        reason = str(status) if status is not None else "timeout"
        self.live.graph_waits.record(seconds, {"http.response.status_code": reason})
        self.span.add_event("retry wait", {"seconds": round(seconds, 3), "http.response.status_code": reason})

    def sending(self) -> AbstractContextManager[object]:
        return _OFF  # no generic HTTP tracing on the app's session to keep the attempt out of


class GraphTelemetry:
    """graph.client.GraphTelemetry over the tracer: a client span `Graph <method> <path shape>` per request (the
    path as graph.client.path_shape writes it for logs: every id `{id}`), around the token look-up it needs."""

    @contextmanager
    def call(self, method: str, path: str) -> Iterator[_GraphCall]:
        live = _live
        if live is None:  # switched off since the client was made
            yield _GraphCall(cast(_Live, _Null()), _Null(), method)
            return
        from opentelemetry.trace import SpanKind

        shape = path_shape(path)
        with live.tracer.start_as_current_span(
            f"Graph {method} {shape}",
            kind=SpanKind.CLIENT,
            attributes={"http.request.method": method, "url.template": shape},
            record_exception=False,
            set_status_on_exception=False,
        ) as current:
            try:
                yield _GraphCall(live, current, method)
            except BaseException as exc:
                _failed(current, exc)
                raise


class _Null:
    """Accepts any recording call and drops it."""

    def __getattr__(self, _name: str) -> Any:
        return lambda *_args, **_kwargs: None


def graph_telemetry() -> GraphTelemetry | None:
    """What to hand a GraphClient: None while off, so the client does not even call an observer."""
    return GraphTelemetry() if _live is not None else None
