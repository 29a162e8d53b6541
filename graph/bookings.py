"""The signed-in staff member's own online Bookings appointments, read within the caller's deadline.

Bookings has no "my appointments" call. The user's staff member id differs per business, so: who the user is
(`GET /me`: mail and UPN) and the tenant's businesses, then each business's staff (matched by e-mail, case-
insensitively) and its calendarView, in parallel; appointments assigned to that staff member and held online are
kept. Which businesses the user is staff in is cached per user for a few minutes, so a warm `get link` costs one
parallel round of calendarView calls. At most `max_probe` businesses are looked at and `max_businesses` used.

A 403 (no Bookings licence or no consent to `Bookings.Read.All`) is not the user's problem: the result says
FORBIDDEN, the choices come from the calendar, and the log says why once per user.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from graph.errors import Forbidden, GraphError, GraphTimeout, NotFound, Unauthorized
from graph.models import BookingAppointment, BookingBusiness, BookingStaffMember, Me

if TYPE_CHECKING:
    from graph.client import GraphClient

log = logging.getLogger(__name__)


class BookingsStatus(StrEnum):
    OK = "ok"  # every business the user is staff in was read (possibly none)
    FORBIDDEN = "forbidden"  # no licence or consent: say nothing, use the calendar
    TIMED_OUT = "timed_out"  # not all read before the deadline: what was ready is used, and the user is told
    FAILED = "failed"  # Graph failed otherwise: same for the user as TIMED_OUT


@dataclass(frozen=True, slots=True)
class BookingsResult:
    appointments: tuple[BookingAppointment, ...]
    status: BookingsStatus
    me: Me | None = None

    @property
    def incomplete(self) -> bool:
        """True when some appointments may be missing and the user should be told."""
        return self.status in (BookingsStatus.TIMED_OUT, BookingsStatus.FAILED)


@dataclass(frozen=True, slots=True)
class Membership:
    """Where the user is staff: (business, their staff member id) pairs; `forbidden` when Bookings said 403."""

    me: Me | None
    staff: tuple[tuple[BookingBusiness, str], ...]
    forbidden: bool = False


def staff_id_for(me: Me, staff: Sequence[BookingStaffMember]) -> str | None:
    """The user's staff member id in one business: the member whose e-mail is the user's mail or UPN."""
    addresses = me.addresses
    return next((m.id for m in staff if m.email and m.id and m.email.casefold() in addresses), None)


def own_online(appointments: Sequence[BookingAppointment], staff_id: str) -> list[BookingAppointment]:
    """The appointments assigned to this staff member and held online (a link makes no sense otherwise)."""
    return [a for a in appointments if a.is_online and staff_id in a.staff_member_ids]


def _status_of(exc: BaseException) -> BookingsStatus:
    return BookingsStatus.TIMED_OUT if isinstance(exc, GraphTimeout | TimeoutError) else BookingsStatus.FAILED


class BookingsDirectory:
    """One per process: reads Bookings for any user through the GraphClient it is given, and remembers where each
    user is staff (by `user_key`, e.g. the Entra object id) for `ttl` seconds. Bounded in users it remembers."""

    def __init__(
        self,
        *,
        ttl: float = 300.0,
        max_businesses: int = 5,
        max_probe: int = 8,
        max_users: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max_businesses = max_businesses
        self._max_probe = max_probe
        self._max_users = max_users
        self._clock = clock
        self._cache: OrderedDict[str, tuple[float, Membership]] = OrderedDict()
        self._told: set[str] = set()

    def forget(self, user_key: str) -> None:
        """Drop what is remembered about a user (sign-out)."""
        self._cache.pop(user_key, None)

    def cached(self, user_key: str) -> Membership | None:
        entry = self._cache.get(user_key)
        if entry is None or entry[0] <= self._clock():
            self._cache.pop(user_key, None)
            return None
        self._cache.move_to_end(user_key)
        return entry[1]

    def _remember(self, user_key: str, membership: Membership) -> None:
        self._cache[user_key] = (self._clock() + self._ttl, membership)
        self._cache.move_to_end(user_key)
        while len(self._cache) > self._max_users:
            self._cache.popitem(last=False)

    def _tell_forbidden_once(self, user_key: str, exc: GraphError) -> None:
        if user_key in self._told:
            return
        if len(self._told) >= self._max_users:
            self._told.clear()
        self._told.add(user_key)
        log.info(
            "Bookings not readable for this user (%s %s: no Bookings licence or no Bookings.Read.All consent); "
            "choices come from the calendar only",
            exc.status,
            exc.code,
        )

    async def appointments(
        self,
        graph: GraphClient,
        user_key: str,
        *,
        start: datetime,
        end: datetime,
        deadline: float,
    ) -> BookingsResult:
        """The user's own online appointments in [start, end), soonest first. Never raises but Unauthorized (the
        token is refused: the caller signs the user out); any other failure is a status, with what was ready."""
        try:
            membership = self.cached(user_key)
            if membership is None:
                return await self._discover(graph, user_key, start=start, end=end, deadline=deadline)
        except Unauthorized:
            raise
        except GraphError as exc:
            log.info("Bookings not read: %s %s", type(exc).__name__, exc.status)
            return BookingsResult((), _status_of(exc))
        if membership.forbidden:
            return BookingsResult((), BookingsStatus.FORBIDDEN, membership.me)
        views = await asyncio.gather(
            *(graph.booking_calendar_view(b, start=start, end=end, deadline=deadline) for b, _ in membership.staff),
            return_exceptions=True,
        )
        found: list[BookingAppointment] = []
        status = BookingsStatus.OK
        for (_, staff_id), view in zip(membership.staff, views, strict=True):
            if isinstance(view, BaseException):
                status = self._failed(user_key, view, status)
            else:
                found.extend(own_online(view, staff_id))
        return BookingsResult(tuple(_soonest_first(found)), status, membership.me)

    def _failed(self, user_key: str, exc: BaseException, status: BookingsStatus) -> BookingsStatus:
        """The status after one business's call failed: "not there" (no longer staff) is forgotten, not shown."""
        if isinstance(exc, Unauthorized) or not isinstance(exc, GraphError):
            raise exc
        if isinstance(exc, Forbidden | NotFound):
            self.forget(user_key)  # look again next time
            return status
        return _status_of(exc)

    async def _first_round(
        self, graph: GraphClient, user_key: str, *, deadline: float
    ) -> tuple[Me, list[BookingBusiness]] | None:
        """Who the user is and the businesses to look at, in parallel; None when Bookings is forbidden for them
        (remembered, and logged once). Other failures raise."""
        me, businesses = await asyncio.gather(
            graph.me(deadline=deadline), graph.booking_businesses(deadline=deadline), return_exceptions=True
        )
        for outcome in (me, businesses):
            if isinstance(outcome, Unauthorized):
                raise outcome
        if isinstance(businesses, Forbidden):
            self._tell_forbidden_once(user_key, businesses)
            self._remember(user_key, Membership(me if isinstance(me, Me) else None, (), forbidden=True))
            return None
        if isinstance(me, BaseException):
            raise me
        if isinstance(businesses, BaseException):
            raise businesses
        if len(businesses) > self._max_probe:
            log.info("Bookings: %d businesses, only the first %d looked at", len(businesses), self._max_probe)
        return me, businesses[: self._max_probe]

    def _match(
        self, me: Me, probed: Sequence[BookingBusiness], staff_lists: Sequence[list[BookingStaffMember] | BaseException]
    ) -> tuple[list[tuple[int, BookingBusiness, str]], GraphError | None]:
        """(index, business, staff id) where the user is staff, at most `max_businesses`, and the first failure of
        a staff list other than 403/404 (a business that refuses its staff list does not have the user)."""
        found: list[tuple[int, BookingBusiness, str]] = []
        failure: GraphError | None = None
        for index, (business, members) in enumerate(zip(probed, staff_lists, strict=True)):
            if isinstance(members, Unauthorized) or (
                isinstance(members, BaseException) and not isinstance(members, GraphError)
            ):
                raise members
            if isinstance(members, GraphError):
                if not isinstance(members, Forbidden | NotFound):
                    failure = failure or members
                continue
            staff_id = staff_id_for(me, members)
            if staff_id is not None and len(found) < self._max_businesses:
                found.append((index, business, staff_id))
        return found, failure

    async def _discover(
        self, graph: GraphClient, user_key: str, *, start: datetime, end: datetime, deadline: float
    ) -> BookingsResult:
        """First call for a user: `_first_round`, then each business's staff and calendarView together (a second
        round). Remembered only when every staff list answered; what was ready is returned either way."""
        first = await self._first_round(graph, user_key, deadline=deadline)
        if first is None:
            return BookingsResult((), BookingsStatus.FORBIDDEN)
        me, probed = first
        staff_lists, views = await asyncio.gather(
            asyncio.gather(
                *(graph.booking_staff_members(b.id, deadline=deadline) for b in probed), return_exceptions=True
            ),
            asyncio.gather(
                *(graph.booking_calendar_view(b, start=start, end=end, deadline=deadline) for b in probed),
                return_exceptions=True,
            ),
        )
        matched, failure = self._match(me, probed, staff_lists)
        status = BookingsStatus.OK if failure is None else _status_of(failure)
        if failure is None:
            self._remember(user_key, Membership(me, tuple((b, staff_id) for _, b, staff_id in matched)))
        found: list[BookingAppointment] = []
        for index, _, staff_id in matched:
            view = views[index]
            if isinstance(view, BaseException):
                status = self._failed(user_key, view, status)
            else:
                found.extend(own_online(view, staff_id))
        return BookingsResult(tuple(_soonest_first(found)), status, me)

    async def find_appointment(
        self, graph: GraphClient, user_key: str, appointment_id: str, *, deadline: float
    ) -> BookingAppointment | None:
        """A pasted appointment id, looked for in the businesses the user is staff in; None when it is not there
        (or Bookings is forbidden). Any other failure raises its GraphError, so the user can be told to retry."""
        membership = self.cached(user_key)
        if membership is None:
            first = await self._first_round(graph, user_key, deadline=deadline)
            if first is None:
                return None
            me, probed = first
            staff_lists = await asyncio.gather(
                *(graph.booking_staff_members(b.id, deadline=deadline) for b in probed), return_exceptions=True
            )
            matched, unread = self._match(me, probed, staff_lists)
            if unread is not None and not matched:
                raise unread
            membership = Membership(me, tuple((b, staff_id) for _, b, staff_id in matched))
            if unread is None:
                self._remember(user_key, membership)
        if membership.forbidden:
            return None
        results = await asyncio.gather(
            *(graph.booking_appointment(b, appointment_id, deadline=deadline) for b, _ in membership.staff),
            return_exceptions=True,
        )
        failure: GraphError | None = None
        for result in results:
            if isinstance(result, BookingAppointment):
                return result
            if isinstance(result, Unauthorized) or not isinstance(result, GraphError):
                raise result
            if not isinstance(result, Forbidden | NotFound):
                failure = result
        if failure is not None:
            raise failure
        return None


def _soonest_first(appointments: list[BookingAppointment]) -> list[BookingAppointment]:
    return sorted(appointments, key=lambda a: (a.start is None, a.start.timestamp() if a.start else 0.0))
