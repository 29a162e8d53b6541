"""The Graph error tree, and the one pure function that builds an error from an HTTP response.

Callers branch on the class (sign in again, ask for consent, check the meeting, try later), never on text.
Every error carries what a support ticket needs (status, Graph code, `request-id`, `client-request-id`) and
nothing else: no request headers, so a bearer token can never leak through str(), repr() or a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class GraphError(Exception):
    """Base of every failure the Graph client raises."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        client_request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.client_request_id = client_request_id
        self.retry_after = retry_after

    def __str__(self) -> str:
        parts = [f"{self.status or '-'} {self.code or '-'}: {self.message}"]
        if self.request_id:
            parts.append(f"request-id={self.request_id}")
        if self.client_request_id:
            parts.append(f"client-request-id={self.client_request_id}")
        return " ".join(parts)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, message={self.message!r}, "
            f"request_id={self.request_id!r}, client_request_id={self.client_request_id!r})"
        )


class BadRequest(GraphError):
    """400, and any 4xx without a class of its own: the request (often the meeting id) is wrong."""


class Unauthorized(GraphError):
    """401: the token is missing, expired or invalid; sign in again."""


class Forbidden(GraphError):
    """403: consent missing, or the user is not the meeting's organizer."""


class NotFound(GraphError):
    """404, or a lookup filter that matched nothing."""


class Conflict(GraphError):
    """409: e.g. the tenant is still provisioning virtual appointments."""


class PreconditionFailed(GraphError):
    """412: the If-Match ETag is stale; re-read, never blindly retry."""


class Throttled(GraphError):
    """429 that outlasted the retries or the caller's deadline."""


class Unavailable(GraphError):
    """5xx that outlasted the retries or the caller's deadline."""


class GraphTimeout(GraphError):
    """The deadline passed, a per-attempt timeout fired, or the connection dropped."""


_BY_STATUS: dict[int, type[GraphError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    412: PreconditionFailed,
    429: Throttled,
}


def error_class(status: int) -> type[GraphError]:
    """The class for an HTTP status that is not a success."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return Unavailable
    return BadRequest


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive lookup that also works on a plain dict."""
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, val in headers.items():
        if key.lower() == lowered:
            return val
    return None


def _error_object(body: bytes | str | None) -> Mapping[str, Any]:
    """The `error` object of a Graph error body, or {} for an empty, HTML or otherwise non-Graph body."""
    if not body:
        return {}
    try:
        decoded = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    error = decoded.get("error") if isinstance(decoded, dict) else None
    return error if isinstance(error, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes | str | None,
    *,
    client_request_id: str | None = None,
    retry_after: float | None = None,
) -> GraphError:
    """Map a failed response to the error tree. Pure: the client raises what this returns.

    `request-id` comes from the response header, else from `error.innerError` (Graph puts it in both);
    `client-request-id` is the one we sent, else the one Graph echoes.
    """
    error = _error_object(body)
    inner = error.get("innerError") or error.get("innererror") or {}
    if not isinstance(inner, dict):
        inner = {}
    code = _text(error.get("code"))
    message = _text(error.get("message")) or f"HTTP {status}"
    request_id = _header(headers, "request-id") or _text(inner.get("request-id"))
    client_id = client_request_id or _header(headers, "client-request-id") or _text(inner.get("client-request-id"))
    return error_class(status)(
        message,
        status=status,
        code=code,
        request_id=request_id,
        client_request_id=client_id,
        retry_after=retry_after,
    )
