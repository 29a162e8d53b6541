"""Local mode's stand-ins for Azure: the Graph simulator served in-process and simulator-token sign-in.

Each new user gets a small, realistic week: meetings they organise, invitations from a colleague (which the bot
must not offer: only the organiser can get their link), and a Bookings business where they are staff, with two
online appointments of theirs, so the Agents Playground shows the calendar filter and Bookings choices at work.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from graph.simulator import GraphSimulator, SimBusiness

SAMPLE_EVENTS = (
    ("Mortgage review", 1, 30, ("Jordan Lee", "Sam Patel")),
    ("Follow-up call", 3, 15, ("Alex Morgan",)),
    ("New client introduction", 26, 45, ("Priya Shah", "Chris Doe", "Robin Fox", "Kim Ng")),
)
SAMPLE_INVITATIONS = (("Team stand-up", 2, 15), ("Compliance training", 5, 60))
COLLEAGUE = ("local-colleague", "Megan Bowen")


class LocalGraph:
    """Issues simulator tokens; each new user gets a few upcoming meetings so the whole flow can be tried."""

    def __init__(self, simulator: GraphSimulator | None = None) -> None:
        self.simulator = simulator or GraphSimulator(seed=False)
        self._seeded: set[str] = set()
        self._lock = threading.Lock()
        self._business: SimBusiness | None = None

    def issue_token(self, user_id: str) -> str:
        with self._lock:
            first_time = user_id not in self._seeded
            self._seeded.add(user_id)
        if first_time:
            now = datetime.now(UTC).replace(second=0, microsecond=0)
            for subject, hours, minutes, attendees in SAMPLE_EVENTS:
                start = now + timedelta(hours=hours)
                end = start + timedelta(minutes=minutes)
                self.simulator.add_event(user_id, subject, start, end, attendees=attendees)
            colleague_id, colleague_name = COLLEAGUE
            self.simulator.add_user(colleague_id, colleague_name)
            for subject, hours, minutes in SAMPLE_INVITATIONS:
                start = now + timedelta(hours=hours)
                self.simulator.add_event(
                    user_id, subject, start, start + timedelta(minutes=minutes), organizer_id=colleague_id
                )
            self._business = self.simulator.seed_bookings(user_id, now, business=self._business)
        return self.simulator.issue_token(user_id)

    def revoke_token(self, token: str) -> None:
        self.simulator.revoke_token(token)
