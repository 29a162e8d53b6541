"""The commands the bot understands, in one place: the dialogs route on them, the manifest declares them.

Pure data (no botbuilder import), so the app-package validator can check the manifest against it.
"""

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
