"""LocalTokens (local mode): one simulator token per user, reused across turns, for a bounded number of users."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from dialogs.signin.tokens import LocalTokens
from graph.simulator import GraphSimulator


def turn(user: str) -> Any:
    """The little of a TurnContext that LocalTokens reads: the sender and the per-turn state."""
    return SimpleNamespace(activity=SimpleNamespace(from_property=SimpleNamespace(id=user, aad_object_id=None)),
                           turn_state={})


async def test_tokens_are_reused_and_bounded_and_evicted_ones_revoked() -> None:
    sim = GraphSimulator(seed=False)
    tokens = LocalTokens(sim.issue_token, sim.revoke_token, max_users=3)
    first = await tokens.get_token(turn("u0"))
    for _ in range(50):  # many turns of one user: one token
        assert await tokens.get_token(turn("u0")) == first
    for n in range(1, 200):  # many users: at most three tokens alive
        await tokens.get_token(turn(f"u{n}"))
    assert len(tokens._issued) == 3
    assert len(sim._tokens) == 3  # the simulator's table is bounded too: evicted tokens are revoked
    assert first not in sim._tokens
    await tokens.sign_out(turn("u199"))
    assert len(sim._tokens) == 2
