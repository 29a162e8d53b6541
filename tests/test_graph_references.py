"""The meeting-reference parser: documented examples, and properties over generated references."""

from __future__ import annotations

import base64
import json
import uuid
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.references import (
    MeetingReference,
    ReferenceKind,
    Rejected,
    RejectReason,
    canonical_url,
    parse_meeting_reference,
)
from tests.linear import assert_growth_is_linear

FAST = settings(max_examples=60, deadline=None)

THREAD = "19:meeting_NTg0NmQ3NzctYjUxNC00ZjRhLWJkMzgtZWEyZDBlMjk3ZjE4@thread.v2"
ORGANIZER = "dc17674c-81d9-4adb-bfbf-a476ed564726"
GRAPH_ID = base64.b64encode(f"1*{ORGANIZER}*0**{THREAD}".encode()).decode()
CONTEXT_ID = base64.b64encode(f"0#{THREAD}#0".encode()).decode()
CONTEXT = quote(json.dumps({"Tid": "72f988bf-86f1-41af-91ab-2d7cd011db47", "Oid": ORGANIZER}), safe="")
LONG_URL = f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_NTg0NmQ3NzctYjUxNC00ZjRhLWJkMzgtZWEyZDBlMjk3ZjE4%40thread.v2/0?context={CONTEXT}"
SHORT_URL = "https://teams.microsoft.com/meet/35617492641?p=Sb3hQ2aB"


def accepted(text: str) -> MeetingReference:
    result = parse_meeting_reference(text)
    assert isinstance(result, MeetingReference), (text, result)
    return result


def rejected(text: str) -> RejectReason:
    result = parse_meeting_reference(text)
    assert isinstance(result, Rejected), (text, result)
    assert result.message  # something the bot can show
    return result.reason


def test_graph_ids() -> None:
    assert GRAPH_ID.startswith("MSp")
    assert accepted(GRAPH_ID) == MeetingReference(ReferenceKind.GRAPH_ID, GRAPH_ID)
    assert accepted(f"  <{GRAPH_ID}>\n").value == GRAPH_ID
    sample = "MSpkYzE3Njc0Yy04MWQ5LTRhZGItYmZi"  # the (truncated) id in Graph's own docs
    assert accepted(sample).kind is ReferenceKind.GRAPH_ID
    urlsafe = GRAPH_ID.replace("+", "-").replace("/", "_").rstrip("=")
    assert accepted(urlsafe).value == urlsafe


def test_long_join_url_as_pasted_and_with_teams_text() -> None:
    assert accepted(LONG_URL) == MeetingReference(ReferenceKind.JOIN_URL, LONG_URL)
    invite = (
        "Microsoft Teams meeting\nJoin on your computer, mobile app or room device\n"
        f"Join the meeting now <{LONG_URL}>\nMeeting ID: 356 174 926 412\nPasscode: Sb3hQ2\n"
        "Need help? <https://aka.ms/JoinTeamsMeeting> | Meeting options <https://teams.microsoft.com/meetingOptions/>"
    )
    assert accepted(invite).value == LONG_URL
    assert accepted(f"Join the meeting now: {LONG_URL}.").value == LONG_URL
    assert accepted(f"({LONG_URL})").value == LONG_URL
    channel = "https://teams.microsoft.com/l/meetup-join/19%3a1a2b3c%40thread.tacv2/1700000000000?context=%7b%7d"
    assert accepted(channel).kind is ReferenceKind.JOIN_URL


def test_short_join_url() -> None:
    ref = accepted(f"  {SHORT_URL}  ")
    assert (ref.kind, ref.value, ref.meeting_id, ref.passcode) == (
        ReferenceKind.SHORT_URL,
        SHORT_URL,
        "35617492641",
        "Sb3hQ2aB",
    )


@pytest.mark.parametrize(
    ("text", "digits", "passcode"),
    [
        ("123 456 789 012", "123456789012", None),
        ("3561749264", "3561749264", None),
        ("Meeting ID: 356 174 926 412 Passcode: Sb3hQ2", "356174926412", "Sb3hQ2"),
        ("Meeting ID: 356 174 926 412\nPasscode: Sb3hQ2", "356174926412", "Sb3hQ2"),
        ("356174926412 passcode Sb3hQ2", "356174926412", "Sb3hQ2"),
        ("meeting id 356\u00a0174\u00a0926\u00a0412", "356174926412", None),
    ],
)
def test_numeric_meeting_ids(text: str, digits: str, passcode: str | None) -> None:
    ref = accepted(text)
    assert (ref.kind, ref.value, ref.meeting_id, ref.passcode) == (ReferenceKind.MEETING_ID, digits, digits, passcode)


def test_new() -> None:
    assert accepted(" New ").kind is ReferenceKind.NEW


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", RejectReason.EMPTY),
        ("   <>  ", RejectReason.EMPTY),
        (THREAD, RejectReason.CHAT_THREAD_ID),
        (f"the id is {THREAD}", RejectReason.CHAT_THREAD_ID),
        ("19%3ameeting_abc%40thread.v2", RejectReason.CHAT_THREAD_ID),
        (CONTEXT_ID, RejectReason.CONTEXT_MEETING_ID),
        ("https://evil.example/l/meetup-join/19%3ameeting_x%40thread.v2/0", RejectReason.FOREIGN_HOST),
        ("https://teams.live.com/meet/9312345678901?p=abc", RejectReason.PERSONAL_TEAMS),
        ("https://gov.teams.microsoft.us/l/meetup-join/19%3ameeting_x%40thread.v2/0", RejectReason.NATIONAL_CLOUD),
        ("https://teams.microsoft.us/l/meetup-join/19%3ameeting_x%40thread.v2/0", RejectReason.NATIONAL_CLOUD),
        ("https://teams.microsoft.com/l/chat/0/0?users=a@b.c", RejectReason.NOT_A_JOIN_LINK),
        ("http://teams.microsoft.com/l/meetup-join/19%3ameeting_x%40thread.v2/0", RejectReason.FOREIGN_HOST),
        ("call me on 555 1234", RejectReason.UNRECOGNISED),
        ("12345", RejectReason.UNRECOGNISED),
        ("1234567890123456", RejectReason.UNRECOGNISED),
        ("hello world, what's up?", RejectReason.UNRECOGNISED),
    ],
)
def test_rejections(text: str, reason: RejectReason) -> None:
    assert rejected(text) is reason


def test_context_id_decodes_to_the_teams_context_form() -> None:
    assert CONTEXT_ID.startswith("MCMx")


# ---- properties --------------------------------------------------------------------------------------------

_b64_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
thread_ids = st.text(_b64_alphabet, min_size=8, max_size=60).map(lambda t: f"19:meeting_{t}@thread.v2")
organizers = st.uuids().map(str)
wrappers = st.sampled_from(["{}", " {} ", "<{}>", "\n{}\t", " <{}> "])


@FAST
@given(organizers, thread_ids, wrappers, st.booleans())
def test_prop_graph_ids_round_trip(organizer: str, thread: str, wrap: str, urlsafe: bool) -> None:
    graph_id = base64.b64encode(f"1*{organizer}*0**{thread}".encode()).decode()
    if urlsafe:
        graph_id = base64.urlsafe_b64encode(base64.b64decode(graph_id)).decode()
    assert accepted(wrap.format(graph_id)) == MeetingReference(ReferenceKind.GRAPH_ID, graph_id)


@FAST
@given(thread_ids, organizers)
def test_prop_chat_and_context_ids_are_rejected(thread: str, organizer: str) -> None:
    assert rejected(thread) is RejectReason.CHAT_THREAD_ID
    context_id = base64.b64encode(f"0#{thread}#0".encode()).decode()
    assert rejected(context_id) is RejectReason.CONTEXT_MEETING_ID


@FAST
@given(thread_ids, organizers, wrappers, st.sampled_from(["", ".", ",", ")", "!"]))
def test_prop_long_urls_round_trip(thread: str, organizer: str, wrap: str, trailing: str) -> None:
    context = quote(json.dumps({"Tid": str(uuid.uuid4()), "Oid": organizer}), safe="").lower()
    url = f"https://teams.microsoft.com/l/meetup-join/{quote(thread, safe='').lower()}/0?context={context}"
    assert accepted(wrap.format(url + trailing)) == MeetingReference(ReferenceKind.JOIN_URL, url)


@FAST
@given(st.text("0123456789", min_size=10, max_size=15), st.text(_b64_alphabet, min_size=4, max_size=12), wrappers)
def test_prop_short_urls_round_trip(digits: str, passcode: str, wrap: str) -> None:
    url = f"https://teams.microsoft.com/meet/{digits}?p={passcode}"
    ref = accepted(wrap.format(url))
    assert (ref.kind, ref.value, ref.meeting_id, ref.passcode) == (ReferenceKind.SHORT_URL, url, digits, passcode)


@FAST
@given(
    st.lists(st.text("0123456789", min_size=1, max_size=4), min_size=1, max_size=6).filter(
        lambda groups: 10 <= len("".join(groups)) <= 15
    ),
    st.one_of(st.none(), st.text(_b64_alphabet, min_size=4, max_size=10)),
    st.booleans(),
)
def test_prop_meeting_ids_round_trip(groups: list[str], passcode: str | None, labelled: bool) -> None:
    digits = "".join(groups)
    text = ("Meeting ID: " if labelled else "") + " ".join(groups) + (f" Passcode: {passcode}" if passcode else "")
    ref = accepted(text)
    assert (ref.kind, ref.meeting_id, ref.value, ref.passcode) == (ReferenceKind.MEETING_ID, digits, digits, passcode)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_prop_never_raises_on_arbitrary_text(text: str) -> None:
    result = parse_meeting_reference(text)
    assert isinstance(result, MeetingReference | Rejected)
    if isinstance(result, MeetingReference) and result.kind in (ReferenceKind.JOIN_URL, ReferenceKind.SHORT_URL):
        assert result.value.startswith("https://teams.microsoft.com/")


_labels = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12).filter(
    lambda s: not s.startswith("-")
)
evil_hosts = st.one_of(
    _labels.map(lambda s: f"teams.microsoft.com.{s}.io"),
    _labels.map(lambda s: f"{s}teams.microsoft.com"),
    _labels.map(lambda s: f"teams.microsoft.com@{s}.io"),
    _labels.map(lambda s: f"{s}.io@teams.microsoft.com"),
    _labels.map(lambda s: f"teams.microsoft.com:{len(s) + 1000}@{s}.io"),
    _labels.map(lambda s: f"teams.microsoft.com%2e{s}.io"),
    _labels.map(lambda s: f"{s}.io\\@teams.microsoft.com"),
    _labels.map(lambda s: f"teams.microsoft.com\\.{s}.io"),
    _labels.map(lambda s: f"teams-microsoft.com.{s}"),
    _labels.map(lambda s: f"{s}.teams.microsoft.com"),
    _labels.map(lambda s: f"teams.microsoft.com:{len(s) + 8000}"),
    st.sampled_from(["teams.microsoft.us", "gov.teams.microsoft.us", "teams.live.com", "teams.microsoftonline.cn"]),
    st.sampled_from(["teams.micros0ft.com", "teams.microsoft.co", "teams.microsoft.com.", "teams.rnicrosoft.com"]),
)
join_paths = st.sampled_from(
    [
        "/l/meetup-join/19%3ameeting_abc%40thread.v2/0?context=%7b%7d",
        "/meet/123456789012?p=abcd",
        "/l/meetup-join/19:meeting_abc@thread.v2/0",
    ]
)


@FAST
@given(evil_hosts, join_paths, st.sampled_from(["https", "http", "HTTPS"]), wrappers)
def test_prop_no_foreign_host_is_accepted_as_a_join_url(host: str, path: str, scheme: str, wrap: str) -> None:
    result = parse_meeting_reference(wrap.format(f"{scheme}://{host}{path}"))
    assert isinstance(result, Rejected), (host, result)
    assert result.reason in {
        RejectReason.FOREIGN_HOST,
        RejectReason.PERSONAL_TEAMS,
        RejectReason.NATIONAL_CLOUD,
        RejectReason.NOT_A_JOIN_LINK,
    }


# --- hostile size (issue 16): every shape linear, by its growth from n to 8n to 64n -----------------------------------

HOSTILE_SHAPES = {
    "one word": lambda n: "a" * n,
    "word-dot runs": lambda n: "a." * (n // 2),
    "scheme-like runs": lambda n: "a+b-c." * (n // 6),
    "digits": lambda n: "1" * n,
    "spaced digits": lambda n: "1 " * (n // 2) + "x",
    "digits then spaces": lambda n: "1 1" + " " * n + "x",
    "labelled id then spaces": lambda n: "meeting id" + " " * n + "x",
    "passcode then spaces": lambda n: "Meeting ID: 123 456 789 012 passcode" + " " * n + "x",
    "bare id then spaces": lambda n: "1234567890 code" + " " * n + "x y",
    "closing brackets": lambda n: "https://teams.microsoft.com/l/x" + ")]}" * (n // 3),
    "nested brackets": lambda n: "(" * (n // 2) + "https://x" + ")" * (n // 2),
    "url flood": lambda n: "https://teams.microsoft.com/meet/1 " * (n // 35),
    "long url": lambda n: "https://teams.microsoft.com/l/meetup-join/19%3a" + "a" * n,
    "long chat id": lambda n: "19:meeting_" + "%40thread." * (n // 10) + "!",
    "at and dots": lambda n: "@." * (n // 2),
    "colons and slashes": lambda n: "a:/" * (n // 3),
    "base64 words": lambda n: ("TVNwa" * 500 + " ") * (n // 2501),
    "zero-width and rtl": lambda n: "\u200b\u202e1\u00a0" * (n // 4),
}


@pytest.mark.parametrize("shape", HOSTILE_SHAPES)
def test_parser_is_linear_on_hostile_shapes(shape: str) -> None:
    assert_growth_is_linear(parse_meeting_reference, HOSTILE_SHAPES[shape], n=4_000)


def test_trailing_brackets_are_balanced_after_the_fix() -> None:
    assert accepted(f"({LONG_URL})))").value == LONG_URL
    assert accepted(f"see {SHORT_URL}.)]").value == SHORT_URL
    assert accepted("123 456 789 012   passcode:  Ab12").passcode == "Ab12"
    assert accepted("Meeting ID:   123 456 789 012  Passcode:   Zx9yQ").passcode == "Zx9yQ"


def _canonical_url_by_walking(candidate: str) -> str:
    """The original per-character walk (quadratic: it recounted the brackets at each step), kept as the oracle."""
    url = candidate
    closers = {")": "(", "]": "[", "}": "{"}
    while url:
        last = url[-1]
        if last in ".,;:!?'\"" or (last in closers and url.count(last) > url.count(closers[last])):
            url = url[:-1]
        else:
            break
    return url


@settings(max_examples=500, deadline=None)
@given(st.text("ab([{)]}.,!'\" ", max_size=40))
def test_prop_canonical_url_matches_the_walk(text: str) -> None:
    assert canonical_url(text) == _canonical_url_by_walking(text)
