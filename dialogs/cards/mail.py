"""The email that "Email the link" sends the client, as pure functions: subject, HTML body and `.ics` invitation.

Everything is built in the current language (`language.current()`), which the caller sets to the client's: each
sentence comes from the catalogs, the date and time are formatted by Babel in the appointment's time zone with the
zone named, so a client in Osaka reads Japanese and "日本標準時". Every value that did not come from the catalogs (the
client's and the host's names, the meeting's subject, the link) is HTML-escaped; the link itself is placed exactly as
Graph returned it (escaping only makes it a valid attribute and text: a mail program reads back the same string).

The invitation is `METHOD:PUBLISH` (the client adds it to their calendar; it is not a meeting request from the
organiser, which would need the attendee's address in it), made with `icalendar`: a UID stable per meeting, so
sending it again updates the same calendar entry rather than adding a second one; times in UTC; the link as URL.
"""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from babel.dates import get_timezone_name

from . import strings
from .language import current
from .timefmt import as_aware, format_when, resolve_zone

ICS_NAME = "appointment.ics"
ICS_TYPE = "text/calendar"
PRODID = "-//va-link-bot//Virtual Appointment link//EN"
DEFAULT_LENGTH = timedelta(minutes=30)  # an appointment whose end is unknown
_UID_NAMESPACE = uuid.UUID("0f6a3c52-9f57-4f0b-8d0e-6c1b2a7e4d31")
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/GMT", "GMT"})
_BUTTON_STYLE = (
    "display:inline-block;padding:12px 24px;background:#5b5fc7;color:#ffffff;text-decoration:none;"
    "border-radius:4px;font-weight:600"
)


@dataclass(frozen=True, slots=True)
class Appointment:
    """What the client's email says: the exact join link, for whom, with whom, what and when (`tz_name`: the zone
    the time is shown in; `key`: what makes the invitation's UID, the meeting id or else the link)."""

    link: str
    key: str
    client_name: str = ""
    host: str = ""
    subject: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    tz_name: str | None = None


def zone_name(moment: datetime, tz_name: str | None) -> str:
    """The zone of `tz_name` named in the current language at `moment` ("Central European Standard Time"); "UTC"
    for UTC and for a missing or unknown zone."""
    zone = resolve_zone(tz_name)
    if zone is None or tz_name in _UTC_NAMES:
        return "UTC"
    return str(get_timezone_name(as_aware(moment).astimezone(zone), "long", locale=current().locale))


def when_line(appointment: Appointment) -> str:
    """The appointment's date and time with its zone named; "" when the start is unknown."""
    if appointment.start is None:
        return ""
    zone = resolve_zone(appointment.tz_name)
    when = format_when(appointment.start, appointment.end, tz_name=appointment.tz_name if zone else None)
    when = when.removesuffix(" UTC") if zone is None else when
    return f"{when} ({zone_name(appointment.start, appointment.tz_name)})"


def subject_line(appointment: Appointment) -> str:
    when = when_line(appointment)
    return strings.mail_subject(when) if when else strings.MAIL_SUBJECT


def _fact(title: str, value: str) -> str:
    return (
        f'<tr><td style="padding:2px 12px 2px 0;color:#616161;vertical-align:top">{html.escape(title)}</td>'
        f'<td style="padding:2px 0">{html.escape(value)}</td></tr>'
    )


def html_body(appointment: Appointment) -> str:
    """The email's HTML: greeting, who set it up, the facts, the join button and the link as text, what to
    expect. Inline styles only (mail programs drop style sheets)."""
    esc = html.escape
    host = appointment.host
    facts = [
        (strings.MAIL_FACT_WHEN, when_line(appointment)),
        (strings.MAIL_FACT_WITH, host),
        (strings.MAIL_FACT_ABOUT, appointment.subject or ""),
    ]
    greeting = strings.mail_greeting(appointment.client_name) if appointment.client_name else strings.MAIL_GREETING
    invited = strings.mail_invited(host) if host else strings.MAIL_INVITED
    lobby = strings.mail_lobby(host) if host else strings.MAIL_EXPECT_LOBBY
    rows = "".join(_fact(title, value) for title, value in facts if value)
    link = appointment.link
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{esc(current().tag)}"><head><meta charset="utf-8"><title>{esc(subject_line(appointment))}'
        "</title></head>",
        '<body style="margin:0;padding:24px;font-family:\'Segoe UI\',Helvetica,Arial,sans-serif;font-size:15px;'
        'line-height:1.5;color:#242424">',
        f"<p>{esc(greeting)}</p>",
        f"<p>{esc(invited)}</p>",
        f'<table role="presentation" style="border-collapse:collapse;margin:8px 0 16px">{rows}</table>' if rows else "",
        f'<p><a href="{esc(link, quote=True)}" style="{_BUTTON_STYLE}">{esc(strings.BUTTON_JOIN)}</a></p>',
        f'<p style="font-size:13px;color:#616161">{esc(strings.MAIL_LINK_INTRO)}<br>'
        f'<span style="word-break:break-all">{esc(link)}</span></p>',
        f"<p>{esc(strings.MAIL_EXPECT_BROWSER)} {esc(lobby)}</p>",
        f"<p>{esc(strings.MAIL_CALENDAR)}</p>" if appointment.start is not None else "",
        "</body></html>",
    ]
    return "\n".join(part for part in parts if part)


def invitation_uid(key: str) -> str:
    """The same UID for every invitation to one meeting: the client's calendar updates the entry it has."""
    return f"{uuid.uuid5(_UID_NAMESPACE, key)}@va-link-bot"


def invitation_ics(appointment: Appointment, *, now: datetime) -> bytes | None:
    """The `.ics` for the client's calendar (METHOD:PUBLISH, no attendees), or None when the start is unknown."""
    if appointment.start is None:
        return None
    start = as_aware(appointment.start)
    end = as_aware(appointment.end) if appointment.end is not None and appointment.end > start else None
    from icalendar import Calendar, Event  # loaded with the first email, not by every instance at start

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", invitation_uid(appointment.key))
    event.add("dtstamp", as_aware(now))
    event.add("dtstart", start)
    event.add("dtend", end or start + DEFAULT_LENGTH)
    host = appointment.host
    event.add("summary", strings.mail_event_title(host) if host else strings.MAIL_SUBJECT)
    lobby = strings.mail_lobby(host) if host else strings.MAIL_EXPECT_LOBBY
    event.add("description", f"{appointment.link}\n\n{strings.MAIL_EXPECT_BROWSER} {lobby}")
    event.add("location", appointment.link)
    event.add("url", appointment.link)
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    calendar.add_component(event)
    return bytes(calendar.to_ical())
