"""SDK cost: every outgoing activity is deep-copied, card and all, before it is sent."""

from __future__ import annotations

import copy
from typing import Any

from botbuilder.core import turn_context as sdk_turn_context

from bot.sdk.patch import Patch


def shallow_copy(_stock: Any) -> Any:
    """SDK cost: `TurnContext.send_activities` deep-copies every outgoing activity, Adaptive Card and all, before
    stamping the conversation reference on it, so that the caller's activity object is left as it was. What it
    stamps (channel, conversation, from, recipient, replyToId, locale, type, inputHint, id) are top-level attribute
    assignments, which a shallow copy keeps off the caller's object just as well; the card is only read after that.
    Ours are built fresh for each reply anyway. The SDK's module uses `deepcopy` for nothing else."""
    return copy.copy


PATCHES = (Patch(sdk_turn_context, "deepcopy", shallow_copy),)
