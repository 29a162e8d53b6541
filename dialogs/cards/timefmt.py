"""Meeting times as staff read them: "Today 14:00-14:30", "Mon 3 Mar 09:00-09:30" (the range sign is an en dash).

Rendered in the user's time zone (Teams sends it as an IANA name in ``activity.localTimezone``). Day and month
names come from fixed tables rather than ``strftime``, so output never depends on the server's locale. An unknown
or missing zone falls back to UTC and says so, rather than showing a time that is silently off by hours.
"""

from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def resolve_zone(tz_name: str | None) -> tzinfo | None:
    """The zone for ``tz_name``, or None when it is missing or unknown (the caller then shows UTC)."""
    if not tz_name:
        return None
    try:
        return ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def as_aware(moment: datetime) -> datetime:
    """Treat a naive datetime as UTC (Graph's calendar times are UTC unless a zone is asked for)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _day_label(day: date, today: date | None) -> str:
    if today is not None:
        delta = (day - today).days
        if delta == 0:
            return "Today"
        if delta == 1:
            return "Tomorrow"
        if delta == -1:
            return "Yesterday"
    label = f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"
    if today is None or day.year != today.year:
        label += f" {day.year}"
    return label


def format_when(
    start: datetime,
    end: datetime | None = None,
    *,
    tz_name: str | None,
    now: datetime | None = None,
) -> str:
    """One short line for a meeting's time in ``tz_name``.

    With ``now``, days near it read "Today"/"Tomorrow"; without it the date is absolute (with the year), which keeps
    the function pure and suits cards that stay in the chat history for days.
    """
    zone = resolve_zone(tz_name)
    shown = zone or UTC
    local_start = as_aware(start).astimezone(shown)
    today = as_aware(now).astimezone(shown).date() if now is not None else None
    line = f"{_day_label(local_start.date(), today)} {local_start:%H:%M}"
    if end is not None:
        local_end = as_aware(end).astimezone(shown)
        if local_end.date() == local_start.date():
            line += f"–{local_end:%H:%M}"
        else:
            line += f" – {_day_label(local_end.date(), today)} {local_end:%H:%M}"
    if zone is None:
        line += " UTC"
    return line


def is_happening(start: datetime | None, end: datetime | None, now: datetime) -> bool:
    """True while a meeting is in progress, so the choice card can mark it."""
    if start is None or end is None:
        return False
    return as_aware(start) <= as_aware(now) < as_aware(end)
