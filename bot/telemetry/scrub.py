"""What of a URL or path may go into telemetry: no query string, no user info, and ids replaced by their kind.

For the connector and token-service call events (the connector's paths carry conversation and activity ids, the
token service's query strings user ids) and the server span's path. Graph's own span is named by
`graph.client.path_shape` (issue 28's, the logs' one Graph redactor). A segment is kept only when it is one of the
API's own words (letters, then at most a short version number); a segment after a known collection name becomes that
collection's kind, and any other segment `{id}`. Linear in the input.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

# Collection name -> the kind of id that follows it.
KINDS: dict[str, str] = {
    "users": "{user}",
    "onlinemeetings": "{meeting}",
    "bookingbusinesses": "{mailbox}",
    "appointments": "{appointment}",
    "staffmembers": "{staff}",
    "customers": "{customer}",
    "services": "{service}",
    "events": "{event}",
    "calendars": "{calendar}",
    "conversations": "{conversation}",
    "activities": "{activity}",
    "members": "{member}",
    "attachments": "{attachment}",
}
_WORD = re.compile(r"[A-Za-z][A-Za-z]*(?:[0-9]{1,2}(?:\.[0-9])?)?")  # getVirtualAppointmentJoinWebUrl, v1.0, v3, oauth2
_MAX_SEGMENTS = 16


def path_template(path: str) -> str:
    """`path` (percent-encoded or not; any query dropped) with every id replaced by its kind."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    out: list[str] = []
    previous = ""
    segments = path.split("/")
    for raw in segments[1 : _MAX_SEGMENTS + 1] if path.startswith("/") else segments[:_MAX_SEGMENTS]:
        segment = unquote(raw)
        kind = KINDS.get(previous.lower())
        if not segment:
            out.append("")
        elif kind is not None:
            out.append(kind)
        elif len(segment) <= 64 and _WORD.fullmatch(segment):
            out.append(segment)
        else:
            out.append("{id}")
        previous = segment if kind is None else ""
    more = "/..." if len(segments) > _MAX_SEGMENTS + 1 else ""
    return "/" + "/".join(out) + more


def url_template(url: object) -> str:
    """`scheme://host[:port]/path-template` of a URL (str or yarl.URL): no user info, query or fragment."""
    try:
        parts = urlsplit(str(url))
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "{url}"
    host = parts.hostname or ""
    if not parts.scheme or not host:
        return path_template(parts.path)
    return f"{parts.scheme}://{host}{port}{path_template(parts.path)}"


def url_path_template(url: object) -> str:
    """Only the path template of a URL (a request named by what it asks for, whichever host serves it)."""
    try:
        return path_template(urlsplit(str(url)).path)
    except ValueError:
        return "{url}"
