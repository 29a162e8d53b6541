"""Meeting times as staff read them, in their language and time zone: "Today, 2:00 PM to 2:30 PM" in American
English, "Mo., 3. März, 09:00 to 09:30" in German, each with its own range sign (an en dash, a wave dash in Japanese).

Rendered in the user's time zone (Teams sends it as an IANA name in `activity.localTimezone`) and formatted by
Babel from the locale's CLDR patterns (day and month names, 12- or 24-hour clock, how a range and a day with a time
are joined), so nothing depends on the server's locale. Only "Today", "Tomorrow" and "Yesterday" come from
our catalogs. An unknown or missing zone falls back to UTC and says so, rather than showing a time that is silently
off by hours.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_skeleton, format_time

from . import strings
from .language import current


def resolve_zone(tz_name: str | None) -> tzinfo | None:
    """The zone for `tz_name`, or None when it is missing or unknown (the caller then shows UTC)."""
    if not tz_name:
        return None
    try:
        return ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def as_aware(moment: datetime) -> datetime:
    """Treat a naive datetime as UTC (Graph's calendar times are UTC unless a zone is asked for)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _day_label(day: date, today: date | None, locale: Locale) -> str:
    if today is not None:
        delta = (day - today).days
        if delta == 0:
            return strings.TODAY
        if delta == 1:
            return strings.TOMORROW
        if delta == -1:
            return strings.YESTERDAY
    skeleton = "MMMEd" if today is not None and day.year == today.year else "yMMMEd"
    return str(format_skeleton(skeleton, day, locale=locale))


def _pattern(raw: object) -> str:
    """A CLDR glue pattern as plain text: quoted literals unquoted ("{1} 'à' {0}" -> "{1} à {0}")."""
    return re.sub(r"'([^']*)'", lambda m: m.group(1) or "'", str(raw))


def _with_day(day: str, clock: str, locale: Locale) -> str:
    """A day and a time joined the locale's way ("{1}, {0}" in English, "{1} {0}" in Japanese)."""
    return _pattern(locale.datetime_formats["short"]).replace("{1}", day).replace("{0}", clock)


def _range(first: str, last: str, locale: Locale) -> str:
    """Two points in time joined the locale's way (with an en dash in English, a wave dash in Japanese)."""
    return _pattern(locale.interval_formats.get(None) or "{0} – {1}").replace("{0}", first).replace("{1}", last)


def format_when(
    start: datetime,
    end: datetime | None = None,
    *,
    tz_name: str | None,
    now: datetime | None = None,
) -> str:
    """One short line for a meeting's time in `tz_name`, in the current language.

    With `now`, days near it read "Today"/"Tomorrow"; without it the date is absolute (with the year), which keeps
    the function pure and suits cards that stay in the chat history for days.
    """
    locale = current().locale
    zone = resolve_zone(tz_name)
    shown = zone or UTC
    local_start = as_aware(start).astimezone(shown)
    today = as_aware(now).astimezone(shown).date() if now is not None else None

    def clock(moment: datetime) -> str:
        return str(format_time(moment, "short", tzinfo=shown, locale=locale))

    line = clock(local_start)
    if end is not None:
        local_end = as_aware(end).astimezone(shown)
        if local_end.date() == local_start.date():
            line = _range(line, clock(local_end), locale)
        else:
            last = _with_day(_day_label(local_end.date(), today, locale), clock(local_end), locale)
            line = _range(_with_day(_day_label(local_start.date(), today, locale), line, locale), last, locale)
            return line if zone is not None else f"{line} UTC"
    line = _with_day(_day_label(local_start.date(), today, locale), line, locale)
    return line if zone is not None else f"{line} UTC"


def is_happening(start: datetime | None, end: datetime | None, now: datetime) -> bool:
    """True while a meeting is in progress, so the choice card can mark it."""
    if start is None or end is None:
        return False
    return as_aware(start) <= as_aware(now) < as_aware(end)
