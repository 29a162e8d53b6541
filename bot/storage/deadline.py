"""How long storage may take: per call, and in total per turn, sized to what Teams waits for.

Teams gives a message turn 15 s and an invoke 5 s, and a turn makes several storage calls one after another (the
personal chat reference, the dialog state read, the state write) around its Graph calls. So each call has a deadline,
and the calls of one turn share a total: a storage account that stops answering costs a turn one call's deadline
(the first call fails, the turn says so), and one that is merely slow cannot add its delays past the total. An
invoke's storage total leaves room for its Graph budget (dialogs: 3.5 s) inside Teams' 5 s.

The budget of the turn being handled is a context variable set by the adapter around the turn; calls outside a turn
(the reminder poller, readiness) get the message-sized per-call deadline and no total.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

MESSAGE_CALL_S = 2.5  # one storage call of a message turn, the poller or readiness
MESSAGE_TURN_S = 6.0  # every storage call of a message turn together
INVOKE_CALL_S = 0.8  # one storage call of an invoke turn
INVOKE_TURN_S = 1.2  # every storage call of an invoke turn together (plus Graph's 3.5 s: inside Teams' 5 s)


@dataclass(slots=True)
class StorageBudget:
    """What one turn may still spend on storage. Calls in parallel each count their own time (a safe overcount)."""

    call_s: float
    total_s: float
    spent_s: float = 0.0

    def next_call_s(self) -> float:
        """The deadline of the next call: its own bound, or what is left of the turn's total if less."""
        return max(0.0, min(self.call_s, self.total_s - self.spent_s))

    def spend(self, seconds: float) -> None:
        self.spent_s += seconds


_BUDGET: ContextVar[StorageBudget | None] = ContextVar("storage_budget", default=None)


def current() -> StorageBudget:
    """The running turn's budget; outside a turn, a fresh per-call one without a total."""
    return _BUDGET.get() or StorageBudget(MESSAGE_CALL_S, float("inf"))


@contextmanager
def turn_budget(*, invoke: bool) -> Iterator[StorageBudget]:
    """Give the turn run inside this block (and the tasks it starts) its storage budget."""
    budget = StorageBudget(INVOKE_CALL_S, INVOKE_TURN_S) if invoke else StorageBudget(MESSAGE_CALL_S, MESSAGE_TURN_S)
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)
