""" "Text a reminder 15 minutes before": confirm, then `sendVirtualAppointmentReminderSms` (`mins15`) to the number
the button carries, for the meeting it carries; refused once the meeting is 15 minutes away or less."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dialogs.cards import actions, confirm_reminder_card, strings
from dialogs.link import REMINDER_LEAD, LastLink
from dialogs.text_link import ConfirmedTextDialog
from graph.client import GraphClient
from graph.models import SmsAttendee


class TextReminderDialog(ConfirmedTextDialog):
    ID = "textReminder"
    CONFIRM = actions.CONFIRM_REMINDER
    CANCELLED = "REMINDER_CANCELLED"
    PREMIUM = "REMINDER_NEEDS_PREMIUM"
    FAILED = "ERR_REMINDER_FAILED"

    def refusal(self, target: LastLink, now: datetime) -> str | None:
        if target.start is None:
            return strings.ERR_EXPIRED_CARD
        start = target.start if target.start.tzinfo else target.start.replace(tzinfo=now.tzinfo)
        return None if start - now > REMINDER_LEAD else strings.REMINDER_TOO_LATE

    def confirm_card(self, target: LastLink, phone_display: str) -> dict[str, Any]:
        return confirm_reminder_card(phone_display=phone_display, carry=target.carry())

    async def send(self, graph: GraphClient, target: LastLink, deadline: float) -> None:
        await graph.send_reminder_sms(
            target.meeting_id, [SmsAttendee(target.phone, target.time_zone)], deadline=deadline
        )

    def sent(self, phone_display: str) -> str:
        return strings.reminder_set(phone_display)
