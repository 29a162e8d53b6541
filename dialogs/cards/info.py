"""Cards that explain rather than ask: welcome, help, notices and errors.

Buttons are plain ``Action.Submit`` with ``data: {"action": ...}`` rather than Teams ``messageBack`` (which would
post "get link" as if typed). Every card then routes the same way (by ``data["action"]``), the bot has one code path
for button presses, and the cards behave the same in Teams, the Agents Playground and the Emulator, which ignore the
``msteams`` action extensions. The cost is that the chat shows no echoed "get link" line, which nobody needs.
"""

from . import actions, strings
from .elements import Card, Element, action_set, adaptive_card, container, fact_set, heading, submit, text
from .language import SOURCE, current


def welcome_card() -> Card:
    """Shown once, when the app is installed: what the bot does and how to start."""
    body = [
        heading(strings.WELCOME_TITLE),
        text(strings.WELCOME_WHAT),
        text(strings.WELCOME_HOW),
        text(strings.WELCOME_REMINDERS),
        text(strings.WELCOME_PRIVACY, subtle=True, size="small"),
    ]
    buttons = [
        submit(strings.BUTTON_GET_LINK, actions.GET_LINK, primary=True),
        submit(strings.BUTTON_REMIND_ME, actions.REMIND_ME),
        submit(strings.BUTTON_HELP, actions.HELP),
    ]
    return adaptive_card(body, buttons)


def help_commands() -> list[tuple[str, str]]:
    """(command as typed, what it does), in the user's language: the words the command parser understands."""
    get_link, remind_me = strings.command("CMD_GET_LINK"), strings.command("CMD_REMIND_ME")
    return [
        (get_link, strings.HELP_GET_LINK),
        (f"{get_link} {strings.HELP_MEETING_ARGUMENT}", strings.HELP_GET_LINK_WITH_MEETING),
        (strings.command("CMD_HELP"), strings.HELP_HELP),
        (strings.command("CMD_SIGN_OUT"), strings.HELP_SIGN_OUT),
        (strings.command("CMD_CANCEL"), strings.HELP_CANCEL),
        (strings.command("CMD_SKIP"), strings.HELP_SKIP),
        (remind_me, strings.HELP_REMIND_ME),
        (f"{remind_me} {strings.HELP_REMIND_ME_ARGUMENT}", strings.HELP_REMIND_ME_WITH_LEAD),
        (strings.command("CMD_STOP_REMINDERS"), strings.HELP_STOP_REMINDERS),
    ]


def help_card() -> Card:
    """The commands and every accepted way of naming a meeting, with the one that does not work."""
    body: list[Element] = [
        heading(strings.HELP_TITLE),
        text(strings.WELCOME_WHAT),
        text(strings.HELP_COMMANDS_HEADING, weight="bolder", spacing="medium"),
        fact_set(help_commands()),
    ]
    if current().catalog != SOURCE:
        body.append(text(strings.HELP_ENGLISH_TOO, subtle=True, size="small", spacing="small"))
    body += [
        text(strings.HELP_MEETING_HEADING, weight="bolder", spacing="medium"),
        text("\r".join(f"- {form}" for form in strings.HELP_MEETING_FORMS)),
        container([text(strings.HELP_CHAT_ID_TIP, size="small")], style="warning", spacing="medium"),
    ]
    return adaptive_card(body, [submit(strings.BUTTON_GET_LINK, actions.GET_LINK, primary=True)])


def notice_card(message: str) -> Card:
    """One plain sentence, where only a card can be shown (a task module): done, cancelled, or why not."""
    return adaptive_card([text(message)], full_width=False, fallback_text=message)


def error_card(message: str, *, retry_action: str | None = None) -> Card:
    """One plain sentence saying what to do, and optionally a button that repeats ``retry_action``."""
    body = [text(message)]
    if retry_action:
        body.append(action_set([submit(strings.BUTTON_TRY_AGAIN, retry_action, inputs=False)]))
    return adaptive_card(body, full_width=False, fallback_text=message)
