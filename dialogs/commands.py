"""The commands the bot understands, in one place: the dialogs route on them, the manifest declares them.

A command is understood in the user's language (its words come from the catalogs: `strings.CMD_*`) and in English,
whatever the case, spacing or accents (`Cerrar sesion` is `cerrar sesión`; full-width letters count as the ordinary
ones). Pure (no botbuilder import), so the app-package validator can check the manifest against it. The text cap
lives here too: the adapter applies it to every inbound activity, so no dialog looks at more than Teams itself would
send.
"""

import gettext
import re
import unicodedata
from functools import lru_cache

from dialogs.cards import strings
from dialogs.cards.language import current

GET_LINK = "get link"
HELP = "help"
SIGN_OUT = "sign out"
CANCEL = "cancel"
REMIND_ME = "remind me"
STOP_REMINDERS = "stop reminders"
DEFAULT_LEAD_MINUTES, MIN_LEAD_MINUTES, MAX_LEAD_MINUTES = 15, 5, 60

# Commands shown in the Teams command menu: (`strings` name of its words, `strings` name of its description).
MENU: tuple[tuple[str, str], ...] = (
    ("CMD_GET_LINK", "MENU_GET_LINK"),
    ("CMD_HELP", "MENU_HELP"),
    ("CMD_SIGN_OUT", "MENU_SIGN_OUT"),
    ("CMD_REMIND_ME", "MENU_REMIND_ME"),
    ("CMD_STOP_REMINDERS", "MENU_STOP_REMINDERS"),
)
# Whole-message commands -> the `strings` name of their words.
_WHOLE = {HELP: "CMD_HELP", SIGN_OUT: "CMD_SIGN_OUT", CANCEL: "CMD_CANCEL", STOP_REMINDERS: "CMD_STOP_REMINDERS"}
# Commands followed by what they act on -> the `strings` name of their words.
_LEADING = {GET_LINK: "CMD_GET_LINK", REMIND_ME: "CMD_REMIND_ME"}
# English spellings people type besides the catalog's words.
_ENGLISH_EXTRA = {HELP: frozenset({"?"}), SIGN_OUT: frozenset({"signout", "logout"})}
# Messaging-extension action commands (composeExtensions[].commands[].id).
ACTION_COMMANDS: frozenset[str] = frozenset({"getAppointmentLink"})

# Teams caps a message at about 28 KB; anything longer did not come from a Teams client, and the dialogs never need it.
TEXT_MAX_CHARS = 28 * 1024

_MENTION_TAG = re.compile(r"<(/?)at>", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_MAX_COMMAND = 64  # no command is longer: longer text is compared with none of them
_LEAD = re.compile(r"(\d{1,4}) ?(.{0,40})")  # minutes, and the words after them ("10 minutes before")


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


def _unaccented(text: str) -> str:
    """Each character without its accents (and in its compatibility form), one character for one, so positions in
    the result are positions in `text`."""
    if text.isascii():
        return text
    return "".join(_bare(char) if ord(char) > 0x7F else char for char in text)


@lru_cache(maxsize=4096)
def _bare(char: str) -> str:
    bare = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return bare[:1] or char


def fold(text: str) -> str:
    """Text as commands compare it: accents dropped, compatibility forms unified (full-width letters), case folded,
    spaces collapsed, trailing sentence punctuation ignored."""
    return _SPACES.sub(" ", _unaccented(text).casefold()).strip().rstrip(".!?。！？ ")


def words(name: str) -> frozenset[str]:
    """Every folded way to type command `name` (a `strings.CMD_*` name): the user's language and English."""
    return _words(current().translations, name)


@lru_cache(maxsize=256)
def _words(translations: gettext.NullTranslations, name: str) -> frozenset[str]:
    """Per catalog (the key; `strings` reads the same catalog through `current()`), computed once."""
    typed = (*strings.alternatives(name), *strings.alternatives(name, english=True))
    return frozenset(fold(word) for word in typed)


@lru_cache(maxsize=64)
def _leading_patterns(translations: gettext.NullTranslations, name: str) -> tuple[re.Pattern[str], ...]:
    """Command `name` (`get link`, `remind me`) in every spelling of the catalog and English, longest first, as
    patterns anchored at the start. A number may follow without a space (Japanese writes `リマインド10分前`), a
    letter may not (`obtener enlaces` is no command)."""
    phrases = sorted(_words(translations, name), key=len, reverse=True)
    return tuple(
        re.compile(r"\s*".join(re.escape(part) for part in phrase.split()) + r"(?![^\W\d])", re.IGNORECASE)
        for phrase in phrases
    )


def is_word(text: str | None, name: str) -> bool:
    """True when the whole of `text` is one of the words of `strings.<name>` (`skip`, `omitir`, ...)."""
    cleaned = clean_text(text)
    return len(cleaned) <= _MAX_COMMAND and fold(cleaned) in words(name)


def menu_commands() -> list[tuple[str, str]]:
    """The Teams command menu in the current language: (title, as typed; description)."""
    return [(strings.command(name), str(getattr(strings, description))) for name, description in MENU]


def chat_commands() -> frozenset[str]:
    """Every folded text the bot takes as a chat command in the current language, English included."""
    found = set(words("CMD_GET_LINK")) | words("CMD_REMIND_ME")
    for command, name in _WHOLE.items():
        found |= words(name) | _ENGLISH_EXTRA.get(command, frozenset())
    return frozenset(found)


def _command_at_start(cleaned: str, name: str) -> int | None:
    """Where command `name` (in the user's language or English) ends, when the message starts with it."""
    start = _unaccented(cleaned[:_MAX_COMMAND])  # the command is short: only its length is compared
    for pattern in _leading_patterns(current().translations, name):
        match = pattern.match(start)
        if match:
            return match.end()
    return None


def parse_command(text: str | None) -> tuple[str | None, str]:
    """(command, rest) for a chat message: `get link`, `help`, `sign out`, `cancel`, `remind me`, `stop reminders`,
    or (None, text).

    Case, spacing and accents are forgiven (`Get   Link`, `getlink`, `Obtener Enlace`); for `get link` the rest is
    the meeting reference, exactly as typed; for `remind me`, how long before (`reminder_lead`).
    """
    cleaned = clean_text(text)
    if len(cleaned) <= _MAX_COMMAND:
        folded = fold(cleaned) or cleaned
        for command, name in _WHOLE.items():
            if folded in words(name) or folded in _ENGLISH_EXTRA.get(command, frozenset()):
                return command, ""
    for command, name in _LEADING.items():
        end = _command_at_start(cleaned, name)
        if end is not None:
            rest = cleaned[end:].strip(" :：")
            return command, "" if rest.strip(".!?。！？") == "" else rest
    return None, cleaned


def reminder_lead(rest: str) -> int | None:
    """Minutes before the meeting from what follows `remind me`: nothing is the default (15); `10`, `10 min`,
    `10 minutes before` (in the user's language or English) are 10. None when it is not such a number or is outside
    5-60."""
    text = fold(rest)
    if not text:
        return DEFAULT_LEAD_MINUTES
    match = _LEAD.fullmatch(text)
    if match is None:
        return None
    tail, known = match.group(2).strip(), words("CMD_MINUTES_BEFORE")
    if tail and tail not in known and not all(word in known for word in tail.split()):
        return None
    minutes = int(match.group(1))
    return minutes if MIN_LEAD_MINUTES <= minutes <= MAX_LEAD_MINUTES else None
