"""Keeps the reminder polling benchmark (`python -m bench.reminders`) working: a tiny run produces every figure and
announces exactly the meetings that fall due. No speed is asserted."""

from __future__ import annotations

from bench.reminders import run


async def test_a_small_run_reports_every_figure_and_announces_each_due_meeting_once() -> None:
    result = await run(users=5, hours=1.0)
    assert result["meetings"] == 15 and result["reminders_sent"] == 15  # all start within the hour + 10 minutes
    calls = result["graph_calls_by_kind_per_user_hour"]
    assert calls["join link"] + calls["meeting lookup"] == 6  # two calls a reminder, three reminders a user
    assert 12 <= calls["calendarView"] <= 20  # every 5 minutes, plus a check at each reminder's due time
    for figure in ("cpu_ms_per_user_hour", "anchor_plain_get_cpu_us", "cpu_per_call_vs_anchor"):
        assert result[figure] > 0
