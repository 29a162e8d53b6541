"""The commands the bot understands, in one place: the dialogs route on them, the manifest declares them.

Pure data (no botbuilder import), so the app-package validator can check the manifest against it. The text cap lives
here too: the adapter applies it to every inbound activity, so no dialog looks at more than Teams itself would send.
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

# Teams caps a message at about 28 KB; anything longer did not come from a Teams client, and the dialogs never need it.
TEXT_MAX_CHARS = 28 * 1024

_MENTION_TAG = re.compile(r"<(/?)at>", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_GET_LINK = re.compile(r"get\s*+link\b", re.IGNORECASE)


def cap_text(text: str) -> str:
    """The first `TEXT_MAX_CHARS` characters of a message: what the dialogs get to look at."""
    return text[:TEXT_MAX_CHARS]


def _without_mentions(text: str) -> str:
    """Each `<at>` to the first `</at>` after it replaced by a space, in one pass over the tags (the regex
    `<at>.*?</at>` rescans the rest of the text from every unclosed `<at>`: quadratic on an `<at>` flood)."""
    parts: list[str] = []
    kept_from = 0
    opened: int | None = None
    for tag in _MENTION_TAG.finditer(text):
        if not tag.group(1):
            opened = tag.start() if opened is None else opened
        elif opened is not None:
            parts += (text[kept_from:opened], " ")
            kept_from, opened = tag.end(), None
    parts.append(text[kept_from:])
    return "".join(parts)


def clean_text(text: str | None) -> str:
    """The user's text with @mentions of the bot removed and spaces folded (case kept: references are
    case-sensitive)."""
    return _SPACES.sub(" ", _without_mentions(text or "")).strip()


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
    match = _GET_LINK.match(cleaned)
    if match:
        return GET_LINK, cleaned[match.end():].strip(" :")
    return None, cleaned
