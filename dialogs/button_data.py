"""What a card button carries back, read like any input: the data came back through the Teams client.

Buttons carry what they act on (DESIGN.md section 3); these readers bound and clean each value before anything
uses it: a join link, short names and subjects, times with an offset.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dialogs.client_details import clean_name
from graph.models import parse_datetime
from graph.references import is_client_link

MAX_LINK_LENGTH = 2048
MAX_SUBJECT_LENGTH = 255


def data_link(value: Any) -> str | None:
    """A join link a button carried, of sane length and on a host Graph gives client links on (a forged submit may
    carry any link, which a card or an email would present as ours); else None."""
    if not isinstance(value, str) or len(value) > MAX_LINK_LENGTH or not is_client_link(value):
        return None
    return value


def data_text(value: Any, limit: int) -> str:
    """A short plain string a button carried (a name, a subject), cleaned like a typed name and cut to `limit`."""
    return clean_name(value[: limit * 2])[:limit] if isinstance(value, str) else ""


def data_moment(value: Any) -> datetime | None:
    """A time a button carried: bounded in length, and aware (a naive time has no meaning here)."""
    moment = parse_datetime(value) if isinstance(value, str) and len(value) <= 40 else None
    return moment if moment is not None and moment.tzinfo is not None else None
