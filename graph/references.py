"""Recognise what a user pasted as "the meeting": pure, never raises, no I/O.

Accepted (each maps to one Graph lookup):
- a Graph onlineMeeting id: base64 of `<version>*<organizer guid>*0**19:meeting_...@thread.v2` (starts `MSo`/`MSp`
  for version 1). Graph calls ids opaque, so any base64 token that decodes to the `<digit>*...` prefix is taken,
  including the truncated sample id in Graph's own docs;
- a long join URL `https://teams.microsoft.com/l/meetup-join/19%3a...` (also channel meetings, `@thread.tacv2`);
- a short join URL `https://teams.microsoft.com/meet/<digits>?p=<passcode>`;
- the numeric meeting ID (10-15 digits, spaces allowed), with or without a passcode;
- a Bookings appointment: its id (an Exchange item id, `AAMk...`) alone, or inside a Bookings link on Outlook on
  the web (`https://outlook.office.com/bookings/...`) that carries it;
- `new`.

Rejected with a reason the bot can show: the Teams chat thread id (`19:meeting_...@thread.v2`) and the base64
Teams *context* meeting id (`MCMx...` = `0#19:...#0`), which Graph answers with 400; a link on any other host.
Hosts: only `teams.microsoft.com`. `teams.live.com` is Teams for personal accounts, which the join-link API does
not support; `*.teams.microsoft.us` / `teams.microsoftonline.cn` are national clouds, which it does not serve
either. Both get their own reason rather than "not a Teams link".

Linear in the text (issue 16): a pattern that searches may only start where its run of characters starts and takes
that run possessively, so no start rescans the run of the one before; trailing punctuation is counted once.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qs, unquote, urlsplit

TEAMS_HOST = "teams.microsoft.com"
BOOKINGS_HOSTS = frozenset({"outlook.office.com", "outlook.office365.com"})
_PERSONAL_HOSTS = frozenset({"teams.live.com"})
_NATIONAL_DOMAINS = ("microsoft.us", "microsoftonline.cn")
# Where Graph's client links live (global service only): getVirtualAppointmentJoinWebUrl returns
# `https://visit.teams.microsoft.com/webrtc-svc/api/route?...` (its documented example), a Bookings appointment's
# `joinWebUrl` / `anonymousJoinWebUrl` are Teams meeting links on teams.microsoft.com.
CLIENT_LINK_HOSTS = frozenset({"visit.teams.microsoft.com", TEAMS_HOST})


class ReferenceKind(StrEnum):
    GRAPH_ID = "graph_id"
    JOIN_URL = "join_url"
    SHORT_URL = "short_url"
    MEETING_ID = "meeting_id"
    BOOKING = "booking"  # a Bookings appointment id
    NEW = "new"


class RejectReason(StrEnum):
    EMPTY = "empty"
    CHAT_THREAD_ID = "chat_thread_id"
    CONTEXT_MEETING_ID = "context_meeting_id"
    FOREIGN_HOST = "foreign_host"
    PERSONAL_TEAMS = "personal_teams"
    NATIONAL_CLOUD = "national_cloud"
    NOT_A_JOIN_LINK = "not_a_join_link"
    BOOKING_WITHOUT_ID = "booking_without_id"
    UNRECOGNISED = "unrecognised"


# Default wording; the dialogs may map `reason` to their own strings.
REASON_TEXT: dict[RejectReason, str] = {
    RejectReason.EMPTY: "Paste a Teams join link, the meeting ID, or type new.",
    RejectReason.CHAT_THREAD_ID: "That is the meeting's chat id, not the meeting. "
    "Paste the join link or the meeting ID.",
    RejectReason.CONTEXT_MEETING_ID: "That is the Teams app's meeting id, which Graph can't use. Paste the join link.",
    RejectReason.FOREIGN_HOST: "That link isn't a Teams meeting link. Paste the link that starts with "
    "https://teams.microsoft.com/.",
    RejectReason.PERSONAL_TEAMS: "Meetings from Teams for personal use aren't supported. Use a work or school meeting.",
    RejectReason.NATIONAL_CLOUD: "Meetings in government or national clouds aren't supported.",
    RejectReason.NOT_A_JOIN_LINK: "That Teams link isn't a meeting join link. Paste the meeting's join link.",
    RejectReason.BOOKING_WITHOUT_ID: "That Bookings link doesn't name one appointment. Choose the appointment from "
    "the list, or paste its Teams join link.",
    RejectReason.UNRECOGNISED: "I couldn't find a meeting in that. Paste the join link, the meeting ID, or type new.",
}


@dataclass(frozen=True, slots=True)
class MeetingReference:
    """An accepted reference. `value` is the Graph id, the canonical URL as pasted, the digits, or `new`."""

    kind: ReferenceKind
    value: str
    meeting_id: str | None = None  # digits, for MEETING_ID and SHORT_URL
    passcode: str | None = None


@dataclass(frozen=True, slots=True)
class Rejected:
    """Something that is not a usable meeting reference, and why."""

    reason: RejectReason

    @property
    def message(self) -> str:
        return REASON_TEXT[self.reason]


_URL = re.compile(r"(?<![a-z0-9+.\-])[a-z][a-z0-9+.\-]*+://[^\s<>]++", re.IGNORECASE)
_TRAILING = ".,;:!?'\""
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_STRIPPABLE = _TRAILING + "".join(_CLOSERS)
_CHAT_ID = re.compile(r"19(?::|%3a)[^\s@]*?(?:@|%40)thread\.[a-z0-9]+", re.IGNORECASE)
_DIGIT_GROUPS = r"(\d(?:[ \u00a0]*+\d)*+)"  # digits, spaces between them but not after them
_LABELLED_ID = re.compile(r"meeting\s*+id\s*+:?\s*+" + _DIGIT_GROUPS, re.IGNORECASE)
_BARE_ID = re.compile(
    r"^\s*+" + _DIGIT_GROUPS + r"\s*+(?:(?:passcode|password|pwd|code)\s*+:?\s*+(\S++))?\s*+$", re.IGNORECASE
)
_PASSCODE = re.compile(r"(?:passcode|password)\s*+:?\s*+([A-Za-z0-9]{4,20})\b", re.IGNORECASE)
_MIN_ID_CHARS = 16
_BASE64 = re.compile(r"^[A-Za-z0-9+/_\-]{16,2048}={0,2}$")
_GRAPH_ID_TEXT = re.compile(r"^\d\*")
_CONTEXT_ID_TEXT = re.compile(r"^\d#19:")
_SHORT_PATH = re.compile(r"^/meet/(\d{10,15})/?$")
_MIN_DIGITS, _MAX_DIGITS = 10, 15
# Exchange item ids (what Bookings uses for appointments) are base64 and begin `AAMk`; URL-safe forms occur too.
_BOOKING_ID = re.compile(r"^AAMk[A-Za-z0-9+/_\-]{4,2044}={0,2}$")
_MAX_URL = 4096
_THREAD_START = re.compile(r"19(?::|%3a)meeting_", re.IGNORECASE)
_THREAD_RUN = re.compile(r"[^/@%\s]+")
_THREAD_END = re.compile(r"(?:@|%40)thread\.v2", re.IGNORECASE)


def is_client_link(url: str) -> bool:
    """A join link on a host Graph gives client links on: https, default port, no user info, no spaces."""
    if len(url) > _MAX_URL or any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in url):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    return (parts.scheme == "https" and port in (None, 443) and parts.username is None and parts.password is None
            and (parts.hostname or "") in CLIENT_LINK_HOSTS)


def _strip_wrapping(text: str) -> str:
    return text.strip().strip("<>").strip()


def canonical_url(candidate: str) -> str:
    """Drop sentence punctuation and unbalanced closing brackets that follow a pasted URL.

    Walking back from the end, a closing bracket stays once it is balanced. The tail of punctuation and closers holds
    no opening bracket, so the k-th `)` of the tail is balanced exactly when k <= (`(` minus `)` before the tail):
    the URL ends after the last such closer, found with string methods instead of a walk per character.
    """
    head = candidate.rstrip(_STRIPPABLE)
    tail = candidate[len(head) :]
    keep = 0
    for closer, opener in _CLOSERS.items():
        balanced = head.count(opener) - head.count(closer)  # how many of the tail's closers are balanced
        if balanced <= 0 or closer not in tail:
            continue
        parts = tail.split(closer, balanced)
        end = tail.rfind(closer) + 1 if len(parts) <= balanced else len(closer.join(parts[:balanced])) + 1
        keep = max(keep, end)
    return head + tail[:keep]


def _decode_base64(token: str) -> str | None:
    """The text a base64 (standard or URL-safe, padding optional) token decodes to, if it is ASCII."""
    padded = token.rstrip("=")
    padded += "=" * (-len(padded) % 4)
    try:
        raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        return raw.decode("ascii")
    except (binascii.Error, ValueError):
        return None


def _classify_url(url: str) -> MeetingReference | Rejected:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return Rejected(RejectReason.FOREIGN_HOST)
    host = parts.hostname or ""
    if parts.scheme.lower() != "https" or "@" in parts.netloc or port not in (None, 443):
        return Rejected(RejectReason.FOREIGN_HOST)
    if host in _PERSONAL_HOSTS:
        return Rejected(RejectReason.PERSONAL_TEAMS)
    if host in _NATIONAL_DOMAINS or host.endswith(tuple("." + domain for domain in _NATIONAL_DOMAINS)):
        return Rejected(RejectReason.NATIONAL_CLOUD)
    if host in BOOKINGS_HOSTS and "/bookings" in parts.path.lower():
        return _classify_bookings_url(parts.path, parts.query, parts.fragment)
    if host != TEAMS_HOST:
        return Rejected(RejectReason.FOREIGN_HOST)
    path = parts.path
    if path.lower().startswith("/l/meetup-join/") and _CHAT_ID.match(path[len("/l/meetup-join/") :]):
        return MeetingReference(ReferenceKind.JOIN_URL, url)
    short = _SHORT_PATH.match(path)
    if short:
        passcode = parse_qs(parts.query).get("p", [None])[0]
        return MeetingReference(ReferenceKind.SHORT_URL, url, meeting_id=short.group(1), passcode=passcode)
    return Rejected(RejectReason.NOT_A_JOIN_LINK)


def _classify_bookings_url(path: str, query: str, fragment: str) -> MeetingReference | Rejected:
    """A Bookings page in Outlook on the web: the appointment id in a path segment or a parameter, if any."""
    candidates = [unquote(segment) for segment in path.split("/")]
    for values in (*parse_qs(query).values(), *parse_qs(fragment.partition("?")[2] or fragment).values()):
        candidates.extend(values)
    for candidate in candidates:
        if _BOOKING_ID.match(candidate):
            return MeetingReference(ReferenceKind.BOOKING, candidate)
    return Rejected(RejectReason.BOOKING_WITHOUT_ID)


def _from_urls(text: str) -> MeetingReference | Rejected | None:
    """The first join URL in the text; else the rejection of the first URL; None when there is no URL."""
    first_rejection: Rejected | None = None
    for match in _URL.finditer(text):
        result = _classify_url(canonical_url(match.group(0)))
        if isinstance(result, MeetingReference):
            return result
        first_rejection = first_rejection or result
    return first_rejection


def _digits(group: str) -> str | None:
    digits = re.sub(r"[ \u00a0]", "", group)
    return digits if _MIN_DIGITS <= len(digits) <= _MAX_DIGITS else None


def _from_meeting_id(text: str) -> MeetingReference | None:
    """Digits alone (`123 456 789 012`, optionally with a passcode), or after a `Meeting ID:` label."""
    bare = _BARE_ID.match(text)
    if bare and (digits := _digits(bare.group(1))):
        return MeetingReference(ReferenceKind.MEETING_ID, digits, meeting_id=digits, passcode=bare.group(2))
    labelled = _LABELLED_ID.search(text)
    if labelled and (digits := _digits(labelled.group(1))):
        passcode = _PASSCODE.search(text[labelled.end() :])
        return MeetingReference(
            ReferenceKind.MEETING_ID, digits, meeting_id=digits, passcode=passcode.group(1) if passcode else None
        )
    return None


def _from_token(token: str) -> MeetingReference | Rejected | None:
    if _CHAT_ID.fullmatch(token):
        return Rejected(RejectReason.CHAT_THREAD_ID)
    if _BOOKING_ID.match(token):
        return MeetingReference(ReferenceKind.BOOKING, token)
    if not _BASE64.match(token):
        return None
    decoded = _decode_base64(token)
    if decoded is None:
        return None
    if _CONTEXT_ID_TEXT.match(decoded):
        return Rejected(RejectReason.CONTEXT_MEETING_ID)
    if _GRAPH_ID_TEXT.match(decoded):
        return MeetingReference(ReferenceKind.GRAPH_ID, token)
    return None


def _from_tokens(text: str) -> MeetingReference | Rejected | None:
    """An id among the words: an accepted Graph id wins over a rejected look-alike."""
    rejection: Rejected | None = None
    for word in text.split():
        if len(word) < _MIN_ID_CHARS and "19" not in word and "AAMk" not in word:
            continue  # shorter than a Graph id, no chat thread or Bookings id: a cheap skip for a text of many words
        result = _from_token(_strip_wrapping(canonical_url(word)))
        if isinstance(result, MeetingReference):
            return result
        rejection = rejection or result
    return rejection


def parse_meeting_reference(text: str) -> MeetingReference | Rejected:
    """Classify pasted text. Order: `new`, join URL, meeting ID, Graph id; else the first reason found."""
    cleaned = _strip_wrapping(text)
    if not cleaned:
        return Rejected(RejectReason.EMPTY)
    if cleaned.lower() == "new":
        return MeetingReference(ReferenceKind.NEW, "new")
    from_url = _from_urls(cleaned)
    if isinstance(from_url, MeetingReference):
        return from_url
    by_id = _from_meeting_id(cleaned)
    if by_id is not None:
        return by_id
    by_token = _from_tokens(cleaned)
    if isinstance(by_token, MeetingReference):
        return by_token
    return from_url or by_token or Rejected(RejectReason.UNRECOGNISED)


def join_url_thread(url: str) -> str | None:
    """The meeting's chat thread (`19:meeting_...@thread.v2`, case-folded) in a long join URL: the one key that
    is the same however a URL escapes it, so the same meeting found twice (calendar, Bookings) is seen as one."""
    url = url[:_MAX_URL]
    position = 0
    while (start := _THREAD_START.search(url, position)) is not None:
        run = _THREAD_RUN.match(url, start.end())
        if run is None:
            position = start.end()
            continue
        end = _THREAD_END.match(url, run.end())
        if end is not None:
            return unquote(url[start.start() : end.end()])
        # Every later start inside this run ends where this one did, before the same wrong character: one regex
        # with `[^...]+` would rescan the run from each of them (quadratic on a `19:meeting_` flood); skip it.
        position = run.end()
    return None


def join_url_organizer(url: str) -> str | None:
    """The organiser's object id (`Oid`) from a long join URL's `context` parameter; None when absent."""
    try:
        context = parse_qs(urlsplit(url).query).get("context", [""])[0]
        data = json.loads(context) if context else None
    except ValueError:
        return None
    oid = data.get("Oid") if isinstance(data, dict) else None
    return oid.casefold() if isinstance(oid, str) and oid else None
