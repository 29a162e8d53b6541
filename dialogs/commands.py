"""The commands the bot understands, in one place: the dialogs route on them, the manifest declares them.

Pure data (no botbuilder import), so the app-package validator can check the manifest against it.
"""

import re

# Chat commands shown in the Teams command menu: (command, description).
MENU_COMMANDS: tuple[tuple[str, str], ...] = (
    ("get link", "Get the client join link of a virtual appointment"),
    ("help", "What this bot does and how to use it"),
    ("sign out", "Sign out of Microsoft Graph"),
)
# Every chat command the bot handles, including aliases not shown in the menu.
CHAT_COMMANDS: frozenset[str] = frozenset({"get link", "help", "sign out", "logout", "cancel"})
# Messaging-extension action commands (composeExtensions[].commands[].id).
ACTION_COMMANDS: frozenset[str] = frozenset({"getAppointmentLink"})

GET_LINK = "get link"
SIGN_OUT_WORDS = frozenset({"sign out", "signout", "logout", "log out"})

_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
_SPACES = re.compile(r"\s+")


def clean_text(text: str | None) -> str:
    """The user's text with @mentions of the bot removed and spaces folded (case kept: references are
    case-sensitive)."""
    return _SPACES.sub(" ", _MENTION.sub(" ", text or "")).strip()


def parse_command(text: str | None) -> tuple[str | None, str]:
    """(command, rest) for a chat message: `get link`, `help`, `sign out`, `cancel`, or (None, text).

    Case and spacing are forgiven (`Get   Link`, `getlink`); for `get link` the rest is the meeting reference.
    """
    cleaned = clean_text(text)
    lowered = cleaned.lower().rstrip(".!?")
    if lowered in ("help", "?"):
        return "help", ""
    if lowered == "cancel":
        return "cancel", ""
    if lowered in SIGN_OUT_WORDS:
        return "sign out", ""
    match = re.match(r"get\s*link\b", cleaned, re.IGNORECASE)
    if match:
        return GET_LINK, cleaned[match.end():].strip(" :")
    return None, cleaned
