"""Every sentence the bot shows a user, in one module, translated into the user's language when it is read.

Each public constant below is an English msgid marked with `N_` for Babel's extractor (`python -m dialogs.i18n
extract`). At the end of the module the constants move into a private table, so `strings.NAME` goes through the
module's `__getattr__` (PEP 562) and returns the msgid translated into the language of the turn being handled
(`language.current()`). Call sites stay `strings.NAME`; read it when a card or sentence is built, never at import
time (a module-level table of sentences would be frozen in English). Functions at the end format sentences with
values.

Rules for msgids: plain words, no jargon or error codes, spelling that reads the same in British and US English,
and every message says what to do next. `{get_link}`, `{help}`, `{skip}`, `{cancel}`, `{new}`, `{remind_me}` and
`{stop_reminders}` stand for the command words (`CMD_*`) of the user's language, so a sentence can never name a
command the bot would not understand.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from babel import Locale
from babel.dates import format_timedelta
from babel.lists import format_list

from .language import current


def N_(message: str) -> str:
    """Mark `message` for the catalogs; it is translated when read through `strings.NAME`."""
    return message


def _(message: str) -> str:
    """Translate `message` now, in the current language (for the formatting functions below)."""
    return _fill(current().gettext(message))


def ngettext(singular: str, plural: str, count: int) -> str:
    """Translate now, choosing the plural form of `count` by the current language's rules."""
    return _fill(current().ngettext(singular, plural, count))


def _locale() -> Locale:
    return current().locale


# --- Words typed as commands ------------------------------------------------------------------------------------
# Translators: words a user types to give a command (lower case). Separate alternatives with "|"; the first one is
# shown in help, in sentences and in the Teams command menu. The English words are always understood as well.
CMD_GET_LINK = N_("get link")
# Translators: a command word; see "get link".
CMD_HELP = N_("help")
# Translators: a command word; see "get link".
CMD_SIGN_OUT = N_("sign out|log out")
# Translators: a command word; see "get link".
CMD_CANCEL = N_("cancel")
# Translators: a command word, typed to go on without client details; see "get link".
CMD_SKIP = N_("skip")
# Translators: a command word, typed after something went wrong; see "get link".
CMD_RETRY = N_("try again|retry|again")
# Translators: typed instead of a meeting link to create a new meeting; see "get link".
CMD_NEW = N_("new")
# Translators: other ways of saying "this meeting" when typed as the meeting (inside a meeting chat).
CMD_THIS_MEETING = N_("this one|here")
# Translators: a command word turning on reminders before appointments; may be followed by a number of minutes
# ("remind me 10 minutes before"); see "get link".
CMD_REMIND_ME = N_("remind me")
# Translators: a command word turning the reminders off; see "get link".
CMD_STOP_REMINDERS = N_("stop reminders|stop reminding me|reminders off|no reminders")
# Translators: words that may follow the number in "remind me 10 minutes before" (lower case, "|" between them).
CMD_MINUTES_BEFORE = N_("minutes before|minute before|minutes|minute|mins|min|m|before")

# --- What the bot is -------------------------------------------------------------------------------------------

WELCOME_TITLE = N_("Client links for virtual appointments")
WELCOME_WHAT = N_(
    "I give you the link your client uses to join a Teams virtual appointment from any web browser, "
    "with no app to install."
)
WELCOME_HOW = N_("Type **{get_link}**, or tap the button below to start.")
WELCOME_PRIVACY = N_("I only look at your meetings when you ask me for a link.")
WELCOME_REMINDERS = N_(
    "Or type **{remind_me}**: then I also look at your calendar, to send you each client link 15 minutes before "
    "your appointments."
)

# --- Help ------------------------------------------------------------------------------------------------------

HELP_TITLE = N_("How to use me")
HELP_COMMANDS_HEADING = N_("Commands")
# Translators: shown after the command list in every language but English.
HELP_ENGLISH_TOO = N_("You can also type the commands in English.")
# Translators: what the typed reference after the "get link" command stands for, in the help card.
HELP_MEETING_ARGUMENT = N_("[meeting]")
HELP_GET_LINK = N_("Get a client join link; I'll ask which meeting.")
HELP_GET_LINK_WITH_MEETING = N_("Skip the question by adding the meeting's link or ID.")
HELP_HELP = N_("Show this help.")
HELP_SIGN_OUT = N_("Sign out of your account.")
HELP_CANCEL = N_("Stop what we're doing.")
HELP_REMIND_ME = N_("Send me each client link 15 minutes before my appointments.")
# Translators: what may follow the "remind me" command, in the help card.
HELP_REMIND_ME_ARGUMENT = N_("[5-60] minutes before")
HELP_REMIND_ME_WITH_LEAD = N_("The same, as long before as you like.")
HELP_STOP_REMINDERS = N_("Turn the reminders off (signing out does too).")
HELP_SKIP = N_("Go on without client details.")
HELP_MEETING_HEADING = N_("Which meeting can I use?")
HELP_MEETING_FORMS: tuple[str, ...] = (
    N_(
        "Its join link, long (https://teams.microsoft.com/l/meetup-join/...) or short "
        "(https://teams.microsoft.com/meet/...?p=...)."
    ),
    N_("Its meeting ID, with or without the passcode, as shown in the invitation."),
    N_("Its Microsoft Graph meeting ID, if you have one."),
    N_("A Microsoft Bookings appointment's ID, or a Bookings link that contains it."),
    N_("**{new}** to set up a new meeting on your calendar now."),
    N_(
        "Nothing at all: I'll list the online meetings you organise and your Bookings appointments for the next "
        "48 hours to pick from."
    ),
)
HELP_CHAT_ID_TIP = N_(
    "The ID of a meeting's chat (it starts with 19:meeting_) won't work, "
    "so copy the join link from the invitation instead."
)

# --- Buttons ---------------------------------------------------------------------------------------------------

BUTTON_GET_LINK = N_("Get a link")
BUTTON_HELP = N_("Help")
BUTTON_REMIND_ME = N_("Remind me before appointments")
BUTTON_CHOOSE = N_("Choose")
BUTTON_USE_MEETING = N_("Use this meeting")
BUTTON_NEW_MEETING = N_("New meeting")
BUTTON_CANCEL = N_("Cancel")
BUTTON_CONTINUE = N_("Continue")
BUTTON_SKIP = N_("Skip")
BUTTON_OPEN_LINK = N_("Open link")
BUTTON_TEXT_LINK = N_("Text the link")
BUTTON_TEXT_REMINDER = N_("Text a reminder 15 minutes before")
BUTTON_ANOTHER_LINK = N_("Get another link")
BUTTON_SEND = N_("Send")
BUTTON_TRY_AGAIN = N_("Try again")
BUTTON_GET_CLIENT_LINK = N_("Get client link")
BUTTON_SIGN_IN = N_("Sign in")
BUTTON_INSERT = N_("Insert into message")
BUTTON_JOIN = N_("Join the appointment")
BUTTON_EMAIL_LINK = N_("Email the link")

# --- Choosing the meeting --------------------------------------------------------------------------------------

ASK_MEETING = N_("Which meeting? Paste its join link or meeting ID, or pick one below.")
ASK_MEETING_NO_UPCOMING = N_(
    "You organise no online meetings and have no Bookings appointments in the next 48 hours, "
    "so paste a join link or meeting ID below."
)
UPCOMING_HEADING = N_("Your next online meetings and appointments")
# Translators: where a meeting offered as a choice comes from.
SOURCE_CALENDAR = N_("Your calendar")
# Translators: the Microsoft Bookings product name; usually kept as it is.
SOURCE_BOOKINGS = N_("Bookings")
BOOKINGS_INCOMPLETE = N_("I couldn't read Bookings in time, so some appointments may be missing; ask again to retry.")
PASTE_LABEL = N_("Or paste a join link or meeting ID")
# Translators: an example in an empty text box; keep the link and the digits.
PASTE_PLACEHOLDER = N_("https://teams.microsoft.com/... or 123 456 789 012")
NO_SUBJECT = N_("(No subject)")
# Translators: added to a meeting's time while the meeting is in progress.
NOW_MARKER = N_("now")
# Translators: typed (or prefilled) as the meeting inside a meeting chat; the bot understands it as a command.
THIS_MEETING = N_("this meeting")

# Why a meeting reference is asked for again.
REF_CHAT_ID = N_(
    "That's the ID of the meeting's chat, which I can't use, so please paste the meeting's join link instead."
)
REF_NOT_TEAMS_LINK = N_(
    "That isn't a Teams meeting link, so please paste the join link from the meeting invitation."
)
REF_UNRECOGNISED = N_(
    "I couldn't match that to a meeting, so please paste its join link or its meeting ID and passcode."
)
REF_EMPTY = N_("Please paste the meeting's join link or meeting ID, or pick a meeting.")
REF_NOT_IN_MEETING = N_(
    'I can only use "this meeting" inside a meeting, so please paste the meeting\'s join link.'
)
REF_PERSONAL_TEAMS = N_(
    "Meetings from Teams for personal use can't have a client link, so please use a work or school meeting."
)
REF_NATIONAL_CLOUD = N_(
    "I can't get links for meetings in government or national clouds, so please use another meeting."
)
REF_NOT_A_JOIN_LINK = N_("That Teams link isn't a meeting join link, so please paste the meeting's join link.")
REF_BOOKING_WITHOUT_ID = N_(
    "That Bookings link doesn't name one appointment, so please pick the appointment from the list "
    "or paste its Teams join link."
)
REF_BOOKING_NOT_FOUND = N_(
    "I couldn't find that Bookings appointment among the Bookings calendars you work on, "
    "so please pick it from the list or paste its Teams join link."
)
ERR_BOOKING_NO_LINK = N_(
    "Bookings hasn't given this appointment a client link, and only the Bookings calendar can get one, "
    "so please share the link from the Bookings app."
)

# --- Client details --------------------------------------------------------------------------------------------

ASK_CLIENT_DETAILS = N_("Any client details? Add a name, email or mobile number, or skip this step.")
SKIP_HINT = N_("All fields are optional. Tap Skip, or type **{skip}**, to go on without them.")
OPTIONAL_HINT = N_("The client fields are optional.")
LABEL_NAME = N_("Client name")
LABEL_EMAIL = N_("Client email")
LABEL_PHONE = N_("Client mobile number")
LABEL_MEETING = N_("Meeting")
# Translators: an example client name; use a name common in your language.
PLACEHOLDER_NAME = N_("e.g. Alex Morgan")
PLACEHOLDER_EMAIL = N_("e.g. alex@example.com")
PLACEHOLDER_PHONE = N_("e.g. +1 206 555 0100")
PLACEHOLDER_MEETING = N_("Join link, meeting ID, or {new}")
TASK_INTRO = N_("Get the link your client uses to join from a web browser.")

# Why a client detail is asked for again.
INVALID_EMAIL = N_("That email address doesn't look right; please check it or leave it empty.")
INVALID_PHONE = N_("That phone number doesn't look right; please check it or leave it empty.")
PHONE_NEEDS_COUNTRY_CODE = N_("Please add the country code to the phone number, for example +1 206 555 0100.")

# --- The result ------------------------------------------------------------------------------------------------

RESULT_TITLE = N_("Here's your client's join link")
RESULT_HINT = N_(
    "Send this link to your client; it opens in any web browser and waits in the lobby until you let them in."
)
RESULT_COPY_LABEL = N_("Copy the link")
FACT_CLIENT = N_("Client")
FACT_EMAIL = N_("Email")
FACT_PHONE = N_("Phone")
FACT_MEETING = N_("Meeting")
FACT_WHEN = N_("When")
# Translators: the subject of a meeting the bot creates.
NEW_MEETING_SUBJECT = N_("Virtual appointment")
NEW_MEETING_TITLE = N_("New meeting")
NEW_MEETING_HINT = N_(
    "I'll put a Teams meeting on your calendar with you as the organiser, then get the client's link."
)
NOT_ON_CALENDAR = N_(
    "I couldn't add this meeting to your calendar (the app lacks calendar permission), so it won't appear there; "
    "keep this link, or ask your admin to approve Calendars.ReadWrite."
)
LABEL_SUBJECT = N_("Subject")
LABEL_DATE = N_("Date")
LABEL_TIME = N_("Start time")
LABEL_DURATION = N_("Length")
BUTTON_CREATE = N_("Create meeting")
INVALID_START = N_("Please pick a date and start time that haven't passed yet.")

# The card the messaging extension puts into the compose box: what the client needs, nothing about them but a name.
# Translators: the compose-box card is read by the client.
COMPOSE_TITLE = N_("Your virtual appointment")
# Translators: a fact title before the client's name, on the card the client reads.
COMPOSE_FOR = N_("For")
COMPOSE_HINT = N_("Join from any web browser; no app needed. You'll wait in the lobby until you're let in.")

# --- Texting the link ------------------------------------------------------------------------------------------

TEXT_CONFIRM_NOTE = N_("Your client gets a text message with the join link.")
TEXT_CANCELLED = N_("OK, I won't send the text.")
TEXT_US_ONLY = N_("I can only text US mobile numbers, so please send the link another way.")
TEXT_NEEDS_PREMIUM = N_("Texting needs Teams Premium, so please send the link another way.")
BOOKINGS_TEXTS_NOTE = N_(
    "I can't text this link because Bookings runs this meeting; Bookings texts the customer itself when the "
    "business has SMS notifications on."
)
REMINDER_CONFIRM_NOTE = N_("Teams texts your client the join link 15 minutes before the meeting starts.")
REMINDER_CANCELLED = N_("OK, I won't set up the reminder text.")
REMINDER_TOO_LATE = N_(
    "The meeting starts in less than 15 minutes, so it's too late for a reminder; use Text the link."
)
REMINDER_NEEDS_PREMIUM = N_("Reminder texts need Teams Premium, so please remind your client another way.")
ERR_REMINDER_FAILED = N_("I couldn't set up the reminder text, so please remind your client another way.")

# --- Emailing the link ------------------------------------------------------------------------------------------

# Translators: the label of the client form's choice of the language the client's email is written in.
LABEL_EMAIL_LANGUAGE = N_("Language of the email")
EMAIL_CONFIRM_NOTE = N_(
    "Your client gets an email from your mailbox with the join link and a calendar invitation; a copy stays in "
    "your Sent Items."
)
EMAIL_CANCELLED = N_("OK, I won't send the email.")
ERR_EMAIL_FAILED = N_("I couldn't send the email, so please send the link another way.")
ERR_EMAIL_NO_MAILBOX = N_(
    "Your account has no mailbox that can send email (it needs an Exchange Online licence), so please ask your "
    "Microsoft 365 admin, or send the link another way."
)
ERR_EMAIL_ADDRESS = N_(
    "Outlook didn't accept your client's email address, so please check it and get the link again."
)
ERR_EMAIL_UNSURE = N_(
    "I'm not sure the email went out, so please check your Sent Items before you send the link another way."
)
ERR_EMAIL_STORAGE = N_("I can't reach my storage right now, so I haven't sent the email; try again in a minute.")
PRIVATE_EMAIL_INTRO = N_(
    "You tapped a button to email your client on a card in a shared chat; I'll ask you to confirm here, where only "
    "you can see it."
)

# The email the client receives, written in the language chosen on the client form.
# Translators: the email's subject when the appointment's time is not known.
MAIL_SUBJECT = N_("Your video appointment link")
# Translators: the greeting when the client's name is not known.
MAIL_GREETING = N_("Hello,")
MAIL_INVITED = N_("You have a video appointment.")
# Translators: fact titles in the client's email.
MAIL_FACT_WHEN = N_("When")
MAIL_FACT_WITH = N_("With")
MAIL_FACT_ABOUT = N_("About")
MAIL_LINK_INTRO = N_("If the button doesn't work, copy this link into your web browser:")
MAIL_EXPECT_BROWSER = N_(
    "The link opens in any web browser on your phone or computer; there's nothing to install."
)
MAIL_EXPECT_LOBBY = N_("When you join, you wait in a lobby until you're let in.")
MAIL_CALENDAR = N_("To add the appointment to your calendar, open the attached invitation.")

# --- Shared chats (group, channel, meeting): said there, and nothing else ---------------------------------------

PRIVATE_FLOW_STARTED = N_("I've sent you a private message, so we can carry on there.")
PRIVATE_FLOW_UNAVAILABLE = N_(
    "I can't message you privately yet, so please open a chat with me first "
    "(find me under Apps in Teams, or ask your admin to add me for you), then type **{get_link}** there."
)
PRIVATE_REMINDERS_UNAVAILABLE = N_(
    "I can't message you privately yet, so please open a chat with me first "
    "(find me under Apps in Teams, or ask your admin to add me for you), then type **{remind_me}** there."
)
PRIVATE_STOP_REMINDERS_UNAVAILABLE = N_(
    "I can't message you privately yet, so please open a chat with me first "
    "(find me under Apps in Teams, or ask your admin to add me for you), then type **{stop_reminders}** there."
)
# Said first in the one-to-one chat, so the user knows why the bot wrote.
PRIVATE_FLOW_INTRO = N_(
    "You asked me for a client link in a shared chat; we'll carry on here, where only you can see it."
)
PRIVATE_REMINDERS_ON_INTRO = N_(
    "You asked me in a shared chat to remind you before your appointments; we'll carry on here, where only you "
    "can see it."
)
PRIVATE_REMINDERS_OFF_INTRO = N_(
    "You asked me in a shared chat to stop your appointment reminders; I'll answer here, where only you can see it."
)
PRIVATE_TEXT_INTRO = N_(
    "You tapped a button to text your client on a card in a shared chat; I'll ask you to confirm here, where only "
    "you can see it."
)

# --- Reminders before appointments ------------------------------------------------------------------------------

REMINDER_TITLE = N_("Starting soon: here's your client's join link")
REMINDERS_OFF = N_("Reminders are off; type **{remind_me}** to turn them on again.")
REMINDERS_WERE_OFF = N_("Reminders weren't on; type **{remind_me}** to turn them on.")
REMINDERS_SIGN_IN_AGAIN = N_(
    "I've paused your appointment reminders because your sign-in has expired, so please type **{remind_me}** to "
    "sign in and turn them back on."
)
REMINDERS_BAD_LEAD = N_("Please say how long before, between 5 and 60 minutes, for example: **{remind_me} 10**.")
ERR_REMINDERS_UNAVAILABLE = N_("I couldn't change your reminders just now, so please try again in a few minutes.")

# --- Sign-in, sign-out, cancel ---------------------------------------------------------------------------------

SIGN_IN_PROMPT = N_("Please sign in so I can get the link for you.")
SIGN_IN_FAILED = N_("Sign-in didn't finish, so please type **{get_link}** to try again.")
SIGNED_IN_NEXT = N_("You're signed in; type **{get_link}** here, or in the chat you came from.")
SIGNED_OUT = N_("You're signed out; type **{get_link}** whenever you want to sign in again.")
CANCELLED = N_("OK, I've stopped; type **{get_link}** whenever you're ready.")
NOTHING_TO_CANCEL = N_("There's nothing to cancel; type **{get_link}** to start.")
# Said in a shared chat, where no request runs: they go on in the one-to-one chat.
NOTHING_TO_CANCEL_SHARED = N_(
    "Nothing is under way in this chat: what you ask me here goes on in our private chat, so type **{cancel}** there."
)
UNKNOWN_COMMAND = N_(
    "I didn't understand that; type **{get_link}** to get a client join link, or **{help}** to see what I can do."
)
TASK_TITLE = N_("Get a client join link")
ME_SIGN_IN = N_("Sign in to get client join links")

# --- Things that went wrong (one sentence each, saying what to do) ---------------------------------------------

ERR_SIGN_IN_AGAIN = N_("Your sign-in has expired, so please sign in again.")
# What the app could not do, for `admin_consent`, one per kind of Graph call (dialogs.graph_errors.GraphCall).
# Translators: completes "This app isn't allowed to ... yet".
CONSENT_JOIN_LINK = N_("get client join links")
CONSENT_LOOKUP = N_("look up your meetings")
CONSENT_CALENDAR = N_("read your calendar")
CONSENT_CREATE_EVENT = N_("put meetings on your calendar")
CONSENT_CREATE_MEETING = N_("set up meetings")
CONSENT_TEXT = N_("send text messages")
CONSENT_BOOKINGS = N_("read your Bookings appointments")
CONSENT_MAIL = N_("send email from your mailbox")
ERR_NOT_ORGANIZER = N_(
    "I can only get links for meetings you set up yourself, "
    "so please ask the person who set up the meeting for the link."
)
ERR_MEETING_NOT_FOUND = N_("I couldn't find that meeting, so please check the link or meeting ID and try again.")
ERR_BAD_REQUEST = N_("Teams didn't accept that meeting, so please check the link or meeting ID and try again.")
ERR_THROTTLED = N_("Microsoft 365 is busy right now, so please try again in a minute.")
ERR_TRY_LATER = N_("Teams isn't responding right now, so please try again in a few minutes.")
ERR_CALENDAR = N_("I couldn't read your calendar, so please paste the meeting's join link or meeting ID.")
ERR_TEXT_FAILED = N_("I couldn't send the text, so please send the link another way.")
ERR_TENANT_NOT_ALLOWED = N_("This app isn't available for your workplace, so please contact your IT team.")
TRY_AGAIN_HINT = N_("Tap Try again, or type **{get_link}** to start over.")
ERR_EXPIRED_CARD = N_("That card is from an earlier request, so please type **{get_link}** to start again.")
ERR_GENERIC = N_("Sorry, something went wrong on our side. Please try again.")
# Storage did not answer within the turn's deadline (bot/errors.py): nothing was changed, the user's place is kept.
STORAGE_UNAVAILABLE = N_("I can't reach my storage right now. Please try again in a minute.")
ERR_MEETING_INFO = N_("I couldn't read this meeting's details, so please paste the meeting's join link instead.")
# Stored state for this user and conversation could not be read (bot/errors.py): it was reset.
STATE_RESET = N_("I lost track of your earlier request; say **{get_link}** to start again.")

# --- Dates and times (the rest of each date comes from the locale's own formats) --------------------------------

TODAY = N_("Today")
TOMORROW = N_("Tomorrow")
YESTERDAY = N_("Yesterday")

# --- The Teams app package (manifest localization files) --------------------------------------------------------
# Translators: the app's name in the Teams store and app bar; at most 30 characters.
APP_NAME_SHORT = N_("Appointment Link")
# Translators: at most 100 characters.
APP_NAME_FULL = N_("Virtual Appointment Link")
# Translators: at most 80 characters.
APP_DESCRIPTION_SHORT = N_("Get a virtual appointment link your client can open in a phone browser.")
APP_DESCRIPTION_FULL = N_(
    "Ask the bot to \"{get_link}\" and it answers with the client join link of a Microsoft Virtual Appointment: "
    "the browser-join, lobby-enabled link your client opens on a phone or computer without installing Teams. "
    "Pick one of your upcoming online meetings, paste a meeting link or meeting ID, or create a meeting on the "
    "spot; add the client's name, email and phone if you like, and text the link to them where your tenant allows "
    "it. Inside a meeting, use the \"Get appointment link\" action from the message box to share the link for "
    "that meeting."
)
# Translators: the bot's command menu in Teams; at most 128 characters each.
MENU_GET_LINK = N_("Get the client join link of a virtual appointment")
MENU_HELP = N_("What this bot does and how to use it")
MENU_SIGN_OUT = N_("Sign out of Microsoft Graph")
MENU_REMIND_ME = N_("Get each client link before your appointments")
MENU_STOP_REMINDERS = N_("Turn appointment reminders off")
# Translators: the messaging-extension action in the message box; at most 32 characters.
ME_COMMAND_TITLE = N_("Get appointment link")
# Translators: at most 128 characters.
ME_COMMAND_DESCRIPTION = N_("Share the client join link of a virtual appointment")


# --- Reading and formatting -------------------------------------------------------------------------------------

Message = str | tuple[Any, ...]
_COMMAND_PLACEHOLDERS = {
    "get_link": "CMD_GET_LINK",
    "help": "CMD_HELP",
    "skip": "CMD_SKIP",
    "cancel": "CMD_CANCEL",
    "new": "CMD_NEW",
    "remind_me": "CMD_REMIND_ME",
    "stop_reminders": "CMD_STOP_REMINDERS",
}


def _take_messages(namespace: dict[str, Any]) -> dict[str, Message]:
    """Move the public constants out of the module's namespace into the message table, so that reading one goes
    through `__getattr__` and is translated at that moment."""
    table = {
        name: value
        for name, value in namespace.items()
        if name.isupper() and not name.startswith("_") and isinstance(value, str | tuple)
    }
    for name in table:
        del namespace[name]
    return table


def _translate(message: Message) -> Any:
    if isinstance(message, str):
        return _(message)
    return tuple(_translate(item) for item in message)


def __getattr__(name: str) -> Any:
    """`strings.NAME`: the message translated into the current language (PEP 562)."""
    try:
        message = _MESSAGES[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    return _translate(message)


def msgids() -> dict[str, Message]:
    """Name -> English msgid (or tuple of them), for the catalog checks and the app package."""
    return dict(_MESSAGES)


def alternatives(name: str, *, english: bool = False) -> list[str]:
    """The words of command `name` (`CMD_*`) in the current language, or in English; the first is the shown one."""
    message = _MESSAGES[name]
    assert isinstance(message, str)
    text = message if english else current().gettext(message)
    return [word.strip() for word in text.split("|") if word.strip()]


def command(name: str) -> str:
    """The command word of `name` shown to users in the current language (`command("CMD_GET_LINK")`)."""
    return alternatives(name)[0]


class _CommandWords(dict[str, str]):
    """Fills `{get_link}` and the like; any other `{...}` is left for the formatting functions."""

    def __missing__(self, key: str) -> str:
        slot = _COMMAND_PLACEHOLDERS.get(key)
        return command(slot) if slot else "{" + key + "}"


def _fill(text: str) -> str:
    return text.format_map(_CommandWords()) if "{" in text else text


def admin_consent(what: str, permission: str) -> str:
    """A missing permission, named: `what` the app could not do, `permission` the one the admin approves."""
    # Translators: {what} is one of the CONSENT_ phrases ("get client join links"); {permission} a Graph permission.
    return _(
        "This app isn't allowed to {what} yet, so please ask your Microsoft 365 admin to approve its {permission} "
        "permission."
    ).format(what=what, permission=permission)


def name_too_long(limit: int) -> str:
    """Reason shown when a client name exceeds `limit` characters."""
    return _("Please shorten the name to {limit} characters or fewer.").format(limit=limit)


def client_details_for(subject: str) -> str:
    """Subtitle of the client form naming the meeting the link is for."""
    return _("For: {subject}").format(subject=subject)


def text_link_question(phone_display: str) -> str:
    """Question on the confirmation card before a text is sent."""
    return _("Text the link to {phone}?").format(phone=phone_display)


def text_sent(phone_display: str) -> str:
    """Chat sentence after Graph accepted the text."""
    return _("Done: I've texted the link to {phone}.").format(phone=phone_display)


def email_question(address: str, language: str) -> str:
    """Question on the confirmation card before the link is emailed; `language` names the email's language."""
    # Translators: {address} is the client's email address; {language} the name of a language, in that language.
    return _("Email the link to {address}, in {language}?").format(address=address, language=language)


def email_sent(masked_address: str) -> str:
    """Chat sentence (and the confirmation card's new state) once Graph accepted the email."""
    return _("Done: I've emailed the link to {address}.").format(address=masked_address)


def email_already_sent(masked_address: str) -> str:
    """Said when the same card's email was already sent to this address (a second tap, a redelivered submit)."""
    return _("I've already emailed this link to {address}, so I haven't sent it again.").format(
        address=masked_address
    )


def emailed_to(masked_address: str) -> str:
    """A line on the result card once its link was emailed."""
    return _("Emailed to {address}").format(address=masked_address)


def mail_subject(when: str) -> str:
    """The client's email's subject, with the appointment's date and time."""
    # Translators: the subject of the email the client receives; {when} is the date and time.
    return _("Your video appointment: {when}").format(when=when)


def mail_greeting(name: str) -> str:
    # Translators: the greeting of the client's email; {name} is the client's name.
    return _("Hello {name},").format(name=name)


def mail_invited(host: str) -> str:
    """The first sentence of the client's email; `host` is the staff member's name."""
    return _("{host} has set up a video appointment with you.").format(host=host)


def mail_lobby(host: str) -> str:
    """What to expect on joining, naming who lets the client in."""
    return _("When you join, you wait in a lobby until {host} lets you in.").format(host=host)


def mail_event_title(host: str) -> str:
    """The calendar invitation's title."""
    # Translators: the title of the appointment in the client's calendar; {host} is the staff member's name.
    return _("Video appointment with {host}").format(host=host)


def reminder_question(phone_display: str) -> str:
    """Question on the confirmation card before a reminder text is scheduled."""
    return _("Text {phone} a reminder 15 minutes before the meeting?").format(phone=phone_display)


def reminder_set(phone_display: str) -> str:
    """Chat sentence after Graph accepted the reminder."""
    return _("Done: {phone} gets a reminder text 15 minutes before the meeting.").format(phone=phone_display)


def bookings_line(business: str | None, customer: str | None) -> str:
    """`Bookings · Contoso Advice Centre · Jordan Miller`: where a choice comes from, and for whom."""
    return " · ".join(part for part in (__getattr__("SOURCE_BOOKINGS"), business, customer) if part)


def attendee_line(names: Sequence[str], *, shown: int = 3) -> str:
    """`With Ana, Ben, Chris and 2 more`: enough names to recognise a meeting, short enough to scan; the list is
    joined the way the user's language joins lists."""
    clean = [n.strip() for n in names if n and n.strip()]
    if not clean:
        return ""
    head, rest = clean[:shown], len(clean) - shown
    if rest > 0:
        # Translators: the last item of a list of meeting attendees, counting those not named.
        head.append(ngettext("{count} more", "{count} more", rest).format(count=rest))
    return _("With {names}").format(names=format_list(head, locale=_locale()))


def reminders_on(minutes: int) -> str:
    """The confirmation of `remind me`: how long before, what is reminded of, and how to stop."""
    return ngettext(
        "Reminders are on: {minutes} minute before each online meeting you organise and each of your Bookings "
        "appointments, I'll send you its client link here. Type **{stop_reminders}** to turn them off.",
        "Reminders are on: {minutes} minutes before each online meeting you organise and each of your Bookings "
        "appointments, I'll send you its client link here. Type **{stop_reminders}** to turn them off.",
        minutes,
    ).format(minutes=minutes)


def duration(minutes: int) -> str:
    """A meeting length in the user's language: whole hours in hours ("1 hour"), anything else in minutes."""
    if minutes % 60 == 0:
        return str(format_timedelta(timedelta(minutes=minutes), granularity="hour", threshold=1, locale=_locale()))
    # An unreachable threshold keeps Babel from rounding 90 minutes up to "2 hours".
    return str(format_timedelta(timedelta(minutes=minutes), granularity="minute", threshold=10**9, locale=_locale()))


# Last, so that every constant above (wherever it was added) is translated when read.
_MESSAGES: dict[str, Message] = _take_messages(globals())
