"""The days a bar covers, what each day of a bar holds, and uptime from the time in each status."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from fractions import Fraction
from functools import cached_property
from typing import Mapping, NamedTuple, Sequence
from zoneinfo import ZoneInfo

from statusgen.status import SEVERITY, Status


# A NamedTuple: as immutable as a frozen dataclass, without a __dict__, and made in a third of
# the time (a frozen dataclass sets each field through object.__setattr__). A render makes a
# Day for every day of every bar: 108,000 at 1,000 sources × 90 days.
class Day(NamedTuple):
    """One mark on a bar: seconds spent in each status, and seconds with no data at all."""

    day: date
    seconds: Mapping[Status, int]
    no_data: int
    failed_runs: int = 0
    incidents: tuple[str, ...] = ()

    @property
    def worst(self) -> Status | None:
        """The day's colour; None when nothing at all is known about the day."""
        # Worked out when asked, not kept: a day's colour is read about once.
        found, rank = None, -1
        for status, seconds in self.seconds.items():  # a loop: this runs for every mark on every page
            if seconds > 0 and SEVERITY[status] > rank:
                found, rank = status, SEVERITY[status]
        return found


@dataclass(frozen=True)
class Window:
    """The days a bar covers, as UTC instants of local midnights in the site's zone."""

    days: list[tuple[date, datetime, datetime]]

    @classmethod
    def ending(cls, now: datetime, count: int, zone: ZoneInfo) -> Window:
        today = now.astimezone(zone).date()
        days = []
        for offset in range(count - 1, -1, -1):
            day = today - timedelta(days=offset)
            # In UTC: arithmetic between two times of one zone ignores DST changes.
            start = datetime.combine(day, time(), zone).astimezone(timezone.utc)
            end = min(datetime.combine(day + timedelta(days=1), time(), zone).astimezone(timezone.utc), now)
            days.append((day, start, end))
        return cls(days)

    @property
    def start(self) -> datetime:
        return self.days[0][1]

    @property
    def end(self) -> datetime:
        return self.days[-1][2]

    @cached_property
    def lengths(self) -> tuple[tuple[date, int], ...]:
        """Each day and its seconds (23 or 25 hours' worth on DST days, fewer for today),
        worked out once: a render makes a bar of every source and component from them."""
        return tuple((day, max(0, int((end - start).total_seconds()))) for day, start, end in self.days)

    def bar(self, seconds: Mapping[date, Mapping[Status, int]], failed_runs: Mapping[date, int] | None = None) -> list[Day]:
        """A mark for every day, from the seconds spent in each status on the days that have
        any, and the failed runs of the days that had some."""
        failed = failed_runs or {}
        return [Day(day, spent := seconds.get(day, {}), max(0, length - sum(spent.values())), failed.get(day, 0))
                for day, length in self.lengths]


def time_in(days: Sequence[Day]) -> dict[Status, int]:
    """Seconds in each status over `days`, for uptime over some of a bar's days (a month)."""
    spent: dict[Status, int] = {}
    for day in days:
        for status, seconds in day.seconds.items():
            spent[status] = spent.get(status, 0) + seconds
    return spent


def uptime(time_in: Mapping[Status, int], weights: Mapping[Status, float]) -> float | None:
    """Percent of known time that counts as up, rounded down to two decimals, from the time
    spent in each status (in any one unit: the timeline gives microseconds).

    Unknown, maintenance and no-data time are left out rather than counted as up.
    """
    spent = {**dict.fromkeys(Status, 0), **time_in}
    known = spent[Status.OPERATIONAL] + spent[Status.DEGRADED] + spent[Status.FAILING]
    if known == 0:
        return None
    # Exact fractions: floating point would round 99.99 down to 99.98 now and then.
    lost = sum(spent[s] * Fraction(str(w)) for s, w in weights.items())
    return math.floor((known - lost) * 10000 / known) / 100
