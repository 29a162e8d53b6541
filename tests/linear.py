"""Linear-time checks that compare a function with a baseline measured in the same test, never with a clock budget.

A quadratic pattern is caught at the smallest size that shows it: the sizes grow by 8x, and each is checked before
the next is tried, so a regression fails in seconds instead of hanging on a megabyte.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

REPEATS = 3


def best_time(func: Callable[[], object], repeats: int = REPEATS) -> float:
    """The least CPU time (this thread's, so other processes on a shared machine count little) of `repeats` runs."""
    best = float("inf")
    for _ in range(repeats):
        start = time.thread_time()
        func()
        best = min(best, time.thread_time() - start)
    return best


def assert_growth_is_linear(func: Callable[[str], object], make: Callable[[int], str], *, n: int = 4_000,
                            steps: int = 2, factor: float = 3.0) -> None:
    """Time `func(make(size))` at n, 8n, 64n...: each 8x step may cost at most `factor` x 8 times the step before
    (linear: ~8x, quadratic: ~64x). A floor of 0.2 ms keeps timer noise on tiny inputs from deciding; a step that
    looks too slow is measured once more, both sizes, because the machine is shared."""
    size = n
    for _ in range(steps):
        small, large = make(size), make(size * 8)
        for attempt in (REPEATS, 2 * REPEATS):
            before = max(best_time(partial(func, small), attempt), 2e-4)
            took = best_time(partial(func, large), attempt)
            if took <= before * 8 * factor:
                break
        assert took <= before * 8 * factor, f"{size * 8} chars took {took:.4f} s, {size} took {before:.4f} s"
        size *= 8


def assert_costs_like_a_scan(func: Callable[[str], object], make: Callable[[int], str], *, size: int,
                             ratio: float) -> None:
    """`func` on `make(s)` for s = size/64, size/8, size costs at most `ratio` times `str.replace` on the same text."""
    for step in (size // 64, size // 8, size):
        text = make(step)
        baseline = max(best_time(partial(text.replace, "\x00\x01", ""), 5), 1e-5)
        took = best_time(partial(func, text), 2)
        if took > baseline * ratio:  # once more: the machine is shared
            took = best_time(partial(func, text), 3)
        assert took <= baseline * ratio, f"{step} chars: {took:.4f} s, {took / baseline:.0f}x str.replace"
