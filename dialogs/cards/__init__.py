"""Every Adaptive Card the bot shows, as pure functions returning card JSON (dicts).

No botbuilder, no I/O: the dialogs and the messaging extension call these, and so could another bot SDK.
Wire names (action and input ids) are in ``actions``; every user-facing sentence is in ``strings``.
"""

from .elements import Card, attachment
from .forms import client_form_card, new_meeting_card, task_form_card
from .info import error_card, help_card, notice_card, welcome_card
from .meetings import MeetingLike, meeting_choice_card
from .result import ClientLike, compose_card, confirm_reminder_card, confirm_text_card, result_card

__all__ = [
    "Card",
    "ClientLike",
    "MeetingLike",
    "attachment",
    "client_form_card",
    "compose_card",
    "confirm_reminder_card",
    "confirm_text_card",
    "error_card",
    "help_card",
    "meeting_choice_card",
    "new_meeting_card",
    "notice_card",
    "result_card",
    "task_form_card",
    "welcome_card",
]
