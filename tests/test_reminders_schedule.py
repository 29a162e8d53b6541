"""The pure part of reminders (bot/reminders/schedule.py): what is due and when to look again, given a clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.reminders import schedule
from bot.reminders.records import ConversationRef, Subscription, UnreadableRecord
from bot.reminders.schedule import Occurrence, announcement_key, plan_check
from dialogs.commands import MAX_LEAD_MINUTES, MIN_LEAD_MINUTES

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def at(minutes: float, key: str = "m1") -> Occurrence:
    return Occurrence(key, NOW + timedelta(minutes=minutes))


def test_a_meeting_inside_the_lead_time_and_not_started_is_due_at_once() -> None:
    plan = plan_check(NOW, "u", 15, [at(10), at(14.99, "m2"), at(15, "m3")])
    assert [o.meeting_key for o in plan.due] == ["m1", "m2", "m3"]


def test_started_meetings_and_ones_beyond_the_lead_time_are_not_due() -> None:
    plan = plan_check(NOW, "u", 15, [at(0, "now"), at(-5, "past"), at(15.01, "later")])
    assert plan.due == ()


def test_the_next_check_is_when_the_next_reminder_falls_due_if_that_is_sooner() -> None:
    slot = schedule.next_regular_check(NOW, "u")  # just at a slot, the next regular check is five minutes away
    plan = plan_check(slot, "u", 15, [Occurrence("m1", slot + 17 * MIN)])
    assert plan.next_check == slot + 2 * MIN
    far = plan_check(slot, "u", 15, [Occurrence("m1", slot + 60 * MIN)])
    assert far.next_check == slot + 5 * MIN


def test_regular_checks_are_at_most_five_minutes_apart_and_strictly_later() -> None:
    moment = NOW
    for _ in range(50):
        nxt = schedule.next_regular_check(moment, "user-a")
        assert moment < nxt <= moment + timedelta(seconds=schedule.POLL_INTERVAL_S)
        moment = nxt
    # once on the grid, exactly one interval apart
    assert schedule.next_regular_check(moment, "user-a") - moment == timedelta(seconds=schedule.POLL_INTERVAL_S)


def test_users_are_spread_over_the_interval_and_first_checks_over_a_minute() -> None:
    users = [f"user-{i}" for i in range(1000)]
    offsets = [(schedule.next_regular_check(NOW, u) - NOW).total_seconds() for u in users]
    buckets = [0] * 10
    for offset in offsets:
        buckets[min(int(offset / 30), 9)] += 1
    assert min(buckets) > 60, buckets  # roughly 100 a bucket: no thundering herd at one instant
    firsts = [(schedule.first_check(NOW, u) - NOW).total_seconds() for u in users]
    assert all(0 <= f < schedule.FIRST_CHECK_S for f in firsts)
    assert max(firsts) - min(firsts) > 0.9 * (schedule.FIRST_CHECK_S - schedule.DISCOVERY_S)


def test_a_moved_meeting_gets_a_new_key_and_the_same_start_the_same_key() -> None:
    first = announcement_key("u", "m", NOW)
    assert announcement_key("u", "m", NOW.astimezone(schedule.UTC)) == first
    assert announcement_key("u", "m", NOW + 30 * MIN) != first
    assert announcement_key("v", "m", NOW) != first
    assert announcement_key("u", "m2", NOW) != first


def test_the_same_meeting_from_two_sources_is_due_once() -> None:
    plan = plan_check(NOW, "u", 15, [at(5), at(5)])
    assert len(plan.due) == 1


def test_the_window_covers_every_reminder_due_before_the_next_regular_check() -> None:
    start, end = schedule.poll_window(NOW, 60)
    assert start == NOW
    assert end >= NOW + 60 * MIN + timedelta(seconds=schedule.POLL_INTERVAL_S)
    assert end <= NOW + timedelta(hours=2)  # one short page, never the 48 hours of `get link`


def test_throttling_is_honoured_and_never_sooner_than_a_minute() -> None:
    assert schedule.after_throttling(NOW, 120) == NOW + 2 * MIN
    assert schedule.after_throttling(NOW, 1) == NOW + MIN
    assert schedule.after_throttling(NOW, None) == NOW + MIN


@given(
    lead=st.integers(MIN_LEAD_MINUTES, MAX_LEAD_MINUTES),
    starts=st.lists(st.integers(-120, 24 * 60), max_size=8),
    step=st.integers(1, 600),
)
def test_walking_the_clock_announces_every_meeting_exactly_in_its_lead_window(
    lead: int, starts: list[int], step: int
) -> None:
    """Checking whenever plan_check says, each future meeting becomes due first at start - lead exactly (or at once
    when already inside), and never after it started."""
    meetings = [at(m, f"m{i}") for i, m in enumerate(starts)]
    now = NOW
    first_due: dict[str, datetime] = {}
    end = NOW + timedelta(hours=26)
    while now < end:
        plan = plan_check(now, "u", lead, meetings)
        for o in plan.due:
            first_due.setdefault(o.meeting_key, now)
            assert now < o.start
        assert plan.next_check > now
        now = min(plan.next_check, now + timedelta(seconds=step * 60))
    for o in meetings:
        if o.start <= NOW:
            assert o.meeting_key not in first_due
        else:
            assert first_due[o.meeting_key] == max(NOW, o.start - timedelta(minutes=lead))


def test_subscription_records_round_trip_and_refuse_what_we_did_not_write() -> None:
    ref = ConversationRef(service_url="https://smba.example/", conversation_id="a:1", user_id="29:1", bot_id="28:b")
    sub = Subscription(version=1, user_key="29:1", conversation=ref, lead_minutes=10)
    assert Subscription.from_json(sub.to_json()) == sub
    body = sub.to_json()
    for bad in (
        body.replace(b'"version":1', b'"version":2'),
        body.replace(b'"lead_minutes":10', b'"lead_minutes":61'),
        body.replace(b'"lead_minutes":10', b'"lead_minutes":10,"py/object":"os.system"'),
        body.replace(b"https://smba.example/", b"javascript:alert(1)"),
        b"[]",
        b"{",
        b'{"version":1}',
        b" " * 20000,
    ):
        try:
            Subscription.from_json(bad)
        except UnreadableRecord:
            continue
        raise AssertionError(f"accepted {bad[:80]!r}")
