"""A turn's objects freed by reference counting when the turn ends, not left for the cyclic garbage collector.

SDK cost (botbuilder 4.17.1): every turn left about a hundred objects in reference cycles, so they piled up until a
full collection walked them all on the event loop (long pauses under load: README, Benchmarks). The cycles form in
three places, each broken here where it forms:

- `DialogContext.__init__` builds a `DialogStateManager(self)` that points back at the context: one cycle per dialog
  context, and every waterfall step context is one (about five a turn). The manager (the adaptive dialogs' memory
  paths: `dc.state`) is not used by our dialogs nor by the waterfall, prompt and component dialogs; building it
  also registers nine memory scopes and five path resolvers in `turn_state` for nothing. `PATCHES` make `state`
  built on first use, as the stock class would have built it.
- `TurnContext._emit` (every send, update and delete) runs the `on_send_activities` handlers through a closure
  that calls itself, a function-to-cell cycle holding the context and the replies. Here the chain is run by a
  module function, the same handlers in the same order, with no self-reference.
- Our own `dialogs.turn.Turn`, kept in the turn's `turn_state`, points at the `TurnContext`: `end_turn` (run by
  the adapter when the turn's pipeline, error handler included, is done) drops it.

`tests/test_turn_cycles.py` counts what a warm turn leaves to the collector through the real app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import DialogContext, DialogSet, DialogState
from botbuilder.dialogs.memory import DialogStateManager

from bot.sdk.patch import Patch
from dialogs.turn import Turn

SendHandler = Callable[[TurnContext, Any, Callable[[], Awaitable[Any]]], Awaitable[Any]]


def _dialog_context_init(self: DialogContext, dialog_set: DialogSet, turn_context: TurnContext,
                         state: DialogState) -> None:
    """The stock `DialogContext.__init__` (same checks, same attributes) without building the state manager."""
    if dialog_set is None:
        raise TypeError("DialogContext(): dialog_set cannot be None.")
    if turn_context is None:
        raise TypeError("DialogContext(): turn_context cannot be None.")
    self._turn_context = turn_context
    self._dialogs = dialog_set
    self._stack = state.dialog_stack
    self.services = {}
    self.parent = None


class _StateOnFirstUse:
    """`DialogContext.state`: the stock `DialogStateManager(dc)`, built when first read (that one does form a cycle,
    which only the adaptive-dialog memory paths ask for) and settable as before."""

    def __get__(self, dc: DialogContext | None, owner: type | None = None) -> Any:
        if dc is None:
            return self
        manager = dc.__dict__.get("state")
        if manager is None:
            manager = dc.__dict__["state"] = DialogStateManager(dc)
        return manager

    def __set__(self, dc: DialogContext, value: Any) -> None:
        dc.__dict__["state"] = value


async def _run_send_handlers(context: TurnContext, handlers: Sequence[SendHandler], arg: Any, index: int) -> None:
    if index < len(handlers):

        async def next_handler() -> None:
            await _run_send_handlers(context, handlers, arg, index + 1)

        await handlers[index](context, arg, next_handler)


async def _emit(self: TurnContext, plugins: Sequence[SendHandler], arg: Any, logic: Awaitable[Any]) -> Any:
    """The stock `TurnContext._emit`: each handler in turn, then `logic`; without the self-calling closure."""
    await _run_send_handlers(self, tuple(plugins), arg, 0)
    return await logic


PATCHES = (
    Patch(DialogContext, "__init__", lambda _stock: _dialog_context_init),
    Patch(DialogContext, "state", lambda _stock: _StateOnFirstUse()),
    Patch(TurnContext, "_emit", lambda _stock: _emit),
)


def end_turn(context: TurnContext) -> None:
    """The turn is over: drop what points back at its context from its `turn_state`."""
    Turn.forget(context)
