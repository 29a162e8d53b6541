"""Every sentence the bot shows a user, in one module.

Cards and dialogs both import from here, so wording is reviewed, kept consistent and (one day) translated in a
single place. Rules: plain words, no jargon or error codes, spelling that reads the same in British and US English,
and every message says what to do next.
"""

from collections.abc import Sequence

# --- What the bot is -------------------------------------------------------------------------------------------

WELCOME_TITLE = "Client links for virtual appointments"
WELCOME_WHAT = (
    "I give you the link your client uses to join a Teams virtual appointment from any web browser, "
    "with no app to install."
)
WELCOME_HOW = "Type **get link**, or tap the button below to start."
WELCOME_PRIVACY = "I only look at your meetings when you ask me for a link."

# --- Help ------------------------------------------------------------------------------------------------------

HELP_TITLE = "How to use me"
HELP_COMMANDS_HEADING = "Commands"
HELP_COMMANDS: tuple[tuple[str, str], ...] = (
    ("get link", "Get a client join link; I'll ask which meeting."),
    ("get link [meeting]", "Skip the question by adding the meeting's link or ID."),
    ("help", "Show this help."),
    ("sign out", "Sign out of your account."),
    ("cancel", "Stop what we're doing."),
)
HELP_MEETING_HEADING = "Which meeting can I use?"
HELP_MEETING_FORMS: tuple[str, ...] = (
    "Its join link, long (https://teams.microsoft.com/l/meetup-join/...) or short "
    "(https://teams.microsoft.com/meet/...?p=...).",
    "Its meeting ID, with or without the passcode, as shown in the invitation.",
    "Its Microsoft Graph meeting ID, if you have one.",
    "A Microsoft Bookings appointment's ID, or a Bookings link that contains it.",
    "**new** to set up a new meeting on your calendar now.",
    "Nothing at all: I'll list the online meetings you organise and your Bookings appointments for the next "
    "48 hours to pick from.",
)
HELP_CHAT_ID_TIP = (
    "The ID of a meeting's chat (it starts with 19:meeting_) won't work, "
    "so copy the join link from the invitation instead."
)

# --- Buttons ---------------------------------------------------------------------------------------------------

BUTTON_GET_LINK = "Get a link"
BUTTON_HELP = "Help"
BUTTON_CHOOSE = "Choose"
BUTTON_USE_MEETING = "Use this meeting"
BUTTON_NEW_MEETING = "New meeting"
BUTTON_CANCEL = "Cancel"
BUTTON_CONTINUE = "Continue"
BUTTON_SKIP = "Skip"
BUTTON_OPEN_LINK = "Open link"
BUTTON_TEXT_LINK = "Text the link"
BUTTON_TEXT_REMINDER = "Text a reminder 15 minutes before"
BUTTON_ANOTHER_LINK = "Get another link"
BUTTON_SEND = "Send"
BUTTON_TRY_AGAIN = "Try again"
BUTTON_GET_CLIENT_LINK = "Get client link"
BUTTON_SIGN_IN = "Sign in"
BUTTON_INSERT = "Insert into message"
BUTTON_JOIN = "Join the appointment"

# --- Choosing the meeting --------------------------------------------------------------------------------------

ASK_MEETING = "Which meeting? Paste its join link or meeting ID, or pick one below."
ASK_MEETING_NO_UPCOMING = (
    "You organise no online meetings and have no Bookings appointments in the next 48 hours, "
    "so paste a join link or meeting ID below."
)
UPCOMING_HEADING = "Your next online meetings and appointments"
SOURCE_CALENDAR = "Your calendar"
SOURCE_BOOKINGS = "Bookings"
BOOKINGS_INCOMPLETE = "I couldn't read Bookings in time, so some appointments may be missing; ask again to retry."
PASTE_LABEL = "Or paste a join link or meeting ID"
PASTE_PLACEHOLDER = "https://teams.microsoft.com/... or 123 456 789 012"
NO_SUBJECT = "(No subject)"
NOW_MARKER = "now"
THIS_MEETING = "this meeting"

# Why a meeting reference is asked for again.
REF_CHAT_ID = "That's the ID of the meeting's chat, which I can't use, so please paste the meeting's join link instead."
REF_NOT_TEAMS_LINK = "That isn't a Teams meeting link, so please paste the join link from the meeting invitation."
REF_UNRECOGNISED = "I couldn't match that to a meeting, so please paste its join link or its meeting ID and passcode."
REF_EMPTY = "Please paste the meeting's join link or meeting ID, or pick a meeting."
REF_BOOKING_WITHOUT_ID = (
    "That Bookings link doesn't name one appointment, so please pick the appointment from the list "
    "or paste its Teams join link."
)
REF_BOOKING_NOT_FOUND = (
    "I couldn't find that Bookings appointment among the Bookings calendars you work on, "
    "so please pick it from the list or paste its Teams join link."
)
ERR_BOOKING_NO_LINK = (
    "Bookings hasn't given this appointment a client link, and only the Bookings calendar can get one, "
    "so please share the link from the Bookings app."
)
REF_NOT_IN_MEETING = 'I can only use "this meeting" inside a meeting, so please paste the meeting\'s join link.'

# --- Client details --------------------------------------------------------------------------------------------

ASK_CLIENT_DETAILS = "Any client details? Add a name, email or mobile number, or skip this step."
CLIENT_DETAILS_FOR = "For: {subject}"
SKIP_HINT = "All fields are optional. Tap Skip, or type skip, to go on without them."
OPTIONAL_HINT = "The client fields are optional."
LABEL_NAME = "Client name"
LABEL_EMAIL = "Client email"
LABEL_PHONE = "Client mobile number"
LABEL_MEETING = "Meeting"
PLACEHOLDER_NAME = "e.g. Alex Morgan"
PLACEHOLDER_EMAIL = "e.g. alex@example.com"
PLACEHOLDER_PHONE = "e.g. +1 206 555 0100"
PLACEHOLDER_MEETING = "Join link, meeting ID, or new"
TASK_INTRO = "Get the link your client uses to join from a web browser."

# Why a client detail is asked for again.
INVALID_EMAIL = "That email address doesn't look right; please check it or leave it empty."
INVALID_PHONE = "That phone number doesn't look right; please check it or leave it empty."
PHONE_NEEDS_COUNTRY_CODE = "Please add the country code to the phone number, for example +1 206 555 0100."
NAME_TOO_LONG = "Please shorten the name to {limit} characters or fewer."

# --- The result ------------------------------------------------------------------------------------------------

RESULT_TITLE = "Here's your client's join link"
RESULT_HINT = "Send this link to your client; it opens in any web browser and waits in the lobby until you let them in."
RESULT_COPY_LABEL = "Copy the link"
FACT_CLIENT = "Client"
FACT_EMAIL = "Email"
FACT_PHONE = "Phone"
FACT_MEETING = "Meeting"
FACT_WHEN = "When"
NEW_MEETING_SUBJECT = "Virtual appointment"
NEW_MEETING_TITLE = "New meeting"
NEW_MEETING_HINT = "I'll put a Teams meeting on your calendar with you as the organiser, then get the client's link."
NOT_ON_CALENDAR = (
    "I couldn't add this meeting to your calendar (the app lacks calendar permission), so it won't appear there; "
    "keep this link, or ask your admin to approve Calendars.ReadWrite."
)
LABEL_SUBJECT = "Subject"
LABEL_DATE = "Date"
LABEL_TIME = "Start time"
LABEL_DURATION = "Length"
BUTTON_CREATE = "Create meeting"
INVALID_START = "Please pick a date and start time that haven't passed yet."
DURATION_CHOICES = (
    ("15", "15 minutes"),
    ("30", "30 minutes"),
    ("45", "45 minutes"),
    ("60", "1 hour"),
    ("90", "1½ hours"),
)

# The card the messaging extension puts into the compose box: what the client needs, nothing about them but a name.
COMPOSE_TITLE = "Your virtual appointment"
COMPOSE_FOR = "For"
COMPOSE_HINT = "Join from any web browser; no app needed. You'll wait in the lobby until you're let in."

# --- Texting the link ------------------------------------------------------------------------------------------

TEXT_CONFIRM_NOTE = "Your client gets a text message with the join link."
TEXT_CANCELLED = "OK, I won't send the text."
TEXT_US_ONLY = "I can only text US mobile numbers, so please send the link another way."
TEXT_NEEDS_PREMIUM = "Texting needs Teams Premium, so please send the link another way."
BOOKINGS_TEXTS_NOTE = (
    "I can't text this link because Bookings runs this meeting; Bookings texts the customer itself when the "
    "business has SMS notifications on."
)
REMINDER_CONFIRM_NOTE = "Teams texts your client the join link 15 minutes before the meeting starts."
REMINDER_CANCELLED = "OK, I won't set up the reminder text."
REMINDER_TOO_LATE = "The meeting starts in less than 15 minutes, so it's too late for a reminder; use Text the link."
REMINDER_NEEDS_PREMIUM = "Reminder texts need Teams Premium, so please remind your client another way."
ERR_REMINDER_FAILED = "I couldn't set up the reminder text, so please remind your client another way."

# --- Shared chats (group, channel, meeting): said there, and nothing else ---------------------------------------

PRIVATE_FLOW_STARTED = "I've sent you a private message, so we can carry on there."
PRIVATE_FLOW_UNAVAILABLE = (
    "I can't message you privately yet, so please open a chat with me first "
    "(find me under Apps in Teams, or ask your admin to add me for you), then type get link there."
)
# Said first in the one-to-one chat, so the user knows why the bot wrote.
PRIVATE_FLOW_INTRO = "You asked me for a client link in a shared chat; we'll carry on here, where only you can see it."

# --- Sign-in, sign-out, cancel ---------------------------------------------------------------------------------

SIGN_IN_PROMPT = "Please sign in so I can get the link for you."
SIGN_IN_FAILED = "Sign-in didn't finish, so please type get link to try again."
SIGNED_IN_NEXT = "You're signed in; type get link here, or in the chat you came from."
SIGNED_OUT = "You're signed out; type get link whenever you want to sign in again."
CANCELLED = "OK, I've stopped; type get link whenever you're ready."
NOTHING_TO_CANCEL = "There's nothing to cancel; type get link to start."
UNKNOWN_COMMAND = "I didn't understand that; type get link to get a client join link, or help to see what I can do."
TASK_TITLE = "Get a client join link"
ME_SIGN_IN = "Sign in to get client join links"

# --- Things that went wrong (one sentence each, saying what to do) ---------------------------------------------

ERR_SIGN_IN_AGAIN = "Your sign-in has expired, so please sign in again."
ADMIN_CONSENT = (
    "This app isn't allowed to {what} yet, so please ask your Microsoft 365 admin to approve its {permission} "
    "permission."
)
# What the app could not do, for ADMIN_CONSENT, one per kind of Graph call (dialogs.graph_errors.GraphCall).
CONSENT_JOIN_LINK = "get client join links"
CONSENT_LOOKUP = "look up your meetings"
CONSENT_CALENDAR = "read your calendar"
CONSENT_CREATE_EVENT = "put meetings on your calendar"
CONSENT_CREATE_MEETING = "set up meetings"
CONSENT_TEXT = "send text messages"
CONSENT_BOOKINGS = "read your Bookings appointments"
ERR_NOT_ORGANIZER = (
    "I can only get links for meetings you set up yourself, "
    "so please ask the person who set up the meeting for the link."
)
ERR_MEETING_NOT_FOUND = "I couldn't find that meeting, so please check the link or meeting ID and try again."
ERR_BAD_REQUEST = "Teams didn't accept that meeting, so please check the link or meeting ID and try again."
ERR_THROTTLED = "Microsoft 365 is busy right now, so please try again in a minute."
ERR_TRY_LATER = "Teams isn't responding right now, so please try again in a few minutes."
ERR_CALENDAR = "I couldn't read your calendar, so please paste the meeting's join link or meeting ID."
ERR_TEXT_FAILED = "I couldn't send the text, so please send the link another way."
ERR_TENANT_NOT_ALLOWED = "This app isn't available for your workplace, so please contact your IT team."
TRY_AGAIN_HINT = "Tap Try again, or type get link to start over."
ERR_EXPIRED_CARD = "That card is from an earlier request, so please type get link to start again."
ERR_GENERIC = "Sorry, something went wrong on our side. Please try again."
# Stored state for this user and conversation could not be read (bot/errors.py): it was reset.
STATE_RESET = "I lost track of your earlier request; say get link to start again."


# --- Tiny formatters -------------------------------------------------------------------------------------------


def name_too_long(limit: int) -> str:
    """Reason shown when a client name exceeds ``limit`` characters."""
    return NAME_TOO_LONG.format(limit=limit)


def client_details_for(subject: str) -> str:
    """Subtitle of the client form naming the meeting the link is for."""
    return CLIENT_DETAILS_FOR.format(subject=subject)


def admin_consent(what: str, permission: str) -> str:
    """A missing permission, named: ``what`` the app could not do, ``permission`` the one the admin approves."""
    return ADMIN_CONSENT.format(what=what, permission=permission)


def text_link_question(phone_display: str) -> str:
    """Question on the confirmation card before a text is sent."""
    return f"Text the link to {phone_display}?"


def text_sent(phone_display: str) -> str:
    """Chat sentence after Graph accepted the text."""
    return f"Done: I've texted the link to {phone_display}."


def reminder_question(phone_display: str) -> str:
    """Question on the confirmation card before a reminder text is scheduled."""
    return f"Text {phone_display} a reminder 15 minutes before the meeting?"


def reminder_set(phone_display: str) -> str:
    """Chat sentence after Graph accepted the reminder."""
    return f"Done: {phone_display} gets a reminder text 15 minutes before the meeting."


def bookings_line(business: str | None, customer: str | None) -> str:
    """``Bookings · Contoso Advice Centre · Jordan Miller``: where a choice comes from, and for whom."""
    return " · ".join(part for part in (SOURCE_BOOKINGS, business, customer) if part)


def attendee_line(names: Sequence[str], *, shown: int = 3) -> str:
    """``With Ana, Ben, Chris and 2 more``: enough names to recognise a meeting, short enough to scan."""
    clean = [n.strip() for n in names if n and n.strip()]
    if not clean:
        return ""
    head, rest = clean[:shown], len(clean) - shown
    if rest > 0:
        return f"With {', '.join(head)} and {rest} more"
    if len(head) == 1:
        return f"With {head[0]}"
    return f"With {', '.join(head[:-1])} and {head[-1]}"


# --- Messaging extension (appended) ----------------------------------------------------------------------------

ERR_MEETING_INFO = "I couldn't read this meeting's details, so please paste the meeting's join link instead."
