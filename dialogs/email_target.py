"""What "Email the link" acts on, as its button carries it (`EmailTarget`), and the address as the chat shows it."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email

from dialogs.button_data import MAX_SUBJECT_LENGTH, data_link, data_moment, data_text
from dialogs.cards import actions
from dialogs.cards.forms import NAME_MAX_LENGTH
from dialogs.cards.language import shipped_catalog
from dialogs.client_details import EMAIL_MAX_INPUT

_CARD_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
_ZONE = re.compile(r"[A-Za-z0-9_+\-/]{1,64}")
MASK = "•••"


def mask(address: str) -> str:
    """`alex@example.com` -> `a•••@example.com`: enough for the user to recognise it in a chat."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}{MASK}@{domain}" if local else address


@dataclass(frozen=True, slots=True)
class EmailTarget:
    """What an "Email the link" button carries: the exact link, the client's address, name and language, the
    meeting (id, subject, times and the zone to name them in) and the id of the card it is on."""

    link: str
    email: str
    language: str
    card: str
    meeting_id: str = ""
    client_name: str = ""
    subject: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    time_zone: str | None = None

    def carry(self) -> dict[str, str]:
        """The button data (the confirmation's Send carries the same)."""
        data = {
            actions.DATA_LINK: self.link,
            actions.DATA_EMAIL: self.email,
            actions.DATA_LANGUAGE: self.language,
            actions.DATA_CARD: self.card,
            actions.DATA_MEETING_ID: self.meeting_id,
            actions.DATA_CLIENT_NAME: self.client_name,
            actions.DATA_SUBJECT: self.subject or "",
            actions.DATA_START: self.start.isoformat() if self.start else "",
            actions.DATA_END: self.end.isoformat() if self.end else "",
            actions.DATA_TIME_ZONE: self.time_zone or "",
        }
        return {key: value for key, value in data.items() if value}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> EmailTarget | None:
        """The target a button's data carries, checked like any input; None without a usable link, address,
        language or card id (then there is nothing to email: the card is treated as expired)."""
        link = data_link(data.get(actions.DATA_LINK))
        email = _address(data.get(actions.DATA_EMAIL))
        language = shipped_catalog(data.get(actions.DATA_LANGUAGE))
        card = data.get(actions.DATA_CARD)
        if link is None or email is None or language is None or not isinstance(card, str):
            return None
        if not _CARD_ID.fullmatch(card):
            return None
        meeting_id = data.get(actions.DATA_MEETING_ID)
        zone = data.get(actions.DATA_TIME_ZONE)
        return cls(
            link=link,
            email=email,
            language=language,
            card=card,
            meeting_id=meeting_id if isinstance(meeting_id, str) and len(meeting_id) <= 512 else "",
            client_name=data_text(data.get(actions.DATA_CLIENT_NAME), NAME_MAX_LENGTH),
            subject=data_text(data.get(actions.DATA_SUBJECT), MAX_SUBJECT_LENGTH) or None,
            start=data_moment(data.get(actions.DATA_START)),
            end=data_moment(data.get(actions.DATA_END)),
            time_zone=zone if isinstance(zone, str) and _ZONE.fullmatch(zone) else None,
        )

    @property
    def claim_key(self) -> str:
        """One email per card and recipient: the key of the claim (no address in it, only a digest)."""
        digest = hashlib.sha256(f"{self.card}\n{self.email.lower()}".encode()).hexdigest()
        return f"mail-{digest[:48]}"


def _address(value: Any) -> str | None:
    if not isinstance(value, str) or not value or len(value) > EMAIL_MAX_INPUT:
        return None
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def new_card_id() -> str:
    """The id of a new result card: what makes its email one per card and recipient."""
    return uuid.uuid4().hex
