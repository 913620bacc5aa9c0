"""Deadlines: "ready by 06:00 on weekdays", as a cron schedule of ticks.

At each tick new data must have landed since the tick's lower bound (the previous tick, or
`since` before the tick). This module only knows the calendar: when the ticks fall, which
are public holidays, and how to say the schedule in words. Whether a tick was met is the
timeline's to decide (statusgen/timeline), from the runs in history.

Ticks follow cronsim, which follows Debian's cron across clock changes: a tick inside the
hour a spring change skips falls at the first minute after it (02:30 on a night that jumps
from 02:00 to 03:00 becomes 03:00), and a tick inside the hour an autumn change repeats
falls once, at its first occurrence.

A deadline can follow an orchestrator's own schedule (statusgen.schedules): its ticks then fall
`shift` after the schedule's (the time a run started by it usually takes), and with no
`grace` a missed tick stays late until the next one falls due too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import cached_property
from importlib.metadata import version
from itertools import takewhile
from zoneinfo import ZoneInfo

import holidays as holiday_calendars
from cronsim import CronSim, CronSimError

CRONSIM_VERSION = version("cronsim")  # how ticks fall is part of what a cached timeline was computed from

# Airflow and crontab spell common schedules as presets; cronsim reads only the five fields.
PRESETS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

# The longest a missed tick stays late: the timeline reads ticks a week back (and config
# refuses a longer grace), so one missed before that is failing whichever it was.
MAX_GRACE = timedelta(days=7)

_DAY_NAMES = ["Sundays", "Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays"]
_ORDINAL = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd", 31: "st"}


def cron_problem(expression: str) -> str | None:
    """Why `expression` is not a schedule statusgen can follow; None when it is."""
    try:
        CronSim(PRESETS.get(expression, expression), datetime(2000, 1, 1))
    except CronSimError as exc:
        return f"not a cron schedule ({exc}); use five fields such as '0 6 * * 1-5', or @daily"
    return None


def holidays_problem(code: str) -> str | None:
    """Why `code` (a country, or country-subdivision such as DE-BY) names no holiday calendar."""
    country, _, subdivision = code.partition("-")
    supported = holiday_calendars.list_supported_countries()
    if country not in supported:
        return f"no public holidays known for country {country!r} (ISO 3166 codes such as NL, US, DE-BY)"
    if subdivision and subdivision not in supported[country]:
        return f"no subdivision {subdivision!r} of {country} (known: {', '.join(supported[country])})"
    return None


@dataclass(frozen=True)
class Deadline:
    """A schedule of ticks, each a moment by which new data must have landed."""

    cron: str
    zone: ZoneInfo
    since: timedelta | None = None  # only a landing this long before a tick counts for it
    # Late (degraded) for this long after a missed tick, then failing; None: late until the
    # next tick is missed too (at most MAX_GRACE), as a schedule's run is due again then.
    grace: timedelta | None = timedelta(0)
    holidays: str | None = None  # no tick on this calendar's public holidays
    shift: timedelta = timedelta(0)  # each tick falls this long after the cron's (elapsed time)

    @cached_property
    def _expression(self) -> str:
        return PRESETS.get(self.cron, self.cron)

    def ticks(self, start: datetime, end: datetime) -> list[datetime]:
        """The ticks in (start, end], in UTC, without those on public holidays."""
        return [tick for tick, _ in self.schedule(start, end) if tick > start]

    def latest_tick(self, at: datetime) -> datetime | None:
        """The last tick at or before `at` that is not on a holiday (within ten years).

        Stepping backwards, cron skips the second pass through an hour an autumn change
        repeats, so each tick found backwards is followed forwards up to `at`."""
        cron_tick = self._latest_cron_tick(at - self.shift)
        return None if cron_tick is None else cron_tick + self.shift

    def _latest_cron_tick(self, at: datetime) -> datetime | None:
        for candidate in CronSim(self._expression, at.astimezone(self.zone) + timedelta(minutes=1), reverse=True):
            if candidate > at:
                continue
            if at - candidate > timedelta(days=3660):
                return None
            following = takewhile(lambda tick: tick <= at, CronSim(self._expression, candidate))
            for tick in reversed([candidate, *following]):
                if not self._holiday(tick.date()):
                    return tick.astimezone(timezone.utc)
        return None

    def next_tick(self, at: datetime) -> datetime | None:
        """The first tick after `at` that is not on a holiday (within ten years)."""
        at = at - self.shift
        for tick in CronSim(self._expression, at.astimezone(self.zone)):
            if tick - at > timedelta(days=3660):
                return None
            if tick > at and not self._holiday(tick.date()):
                return tick.astimezone(timezone.utc) + self.shift
        return None

    def lower_bound(self, tick: datetime) -> datetime | None:
        """The moment after which a landing counts for `tick`: `since` before it, else the
        tick before it (holidays included: what lands on a holiday counts for the next day)."""
        if self.since is not None:
            return tick.astimezone(timezone.utc) - self.since  # elapsed time, not the wall clock's across a change
        cron_tick = tick - self.shift
        for earlier in CronSim(self._expression, cron_tick.astimezone(self.zone), reverse=True):
            if earlier < cron_tick:
                return earlier.astimezone(timezone.utc) + self.shift
        return None

    def schedule(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime | None]]:
        """Each tick from the last one at or before `start` to `end`, with its lower bound,
        in UTC: what the timeline judges a source against. One pass over the calendar, as a
        render asks this for every source over every day of its bars."""
        first = self.latest_tick(start)
        if first is None:
            return []
        previous = self.lower_bound(first) if self.since is None else None
        found = []
        for tick in CronSim(self._expression, (first - self.shift).astimezone(self.zone) - timedelta(minutes=1)):
            at = tick.astimezone(timezone.utc) + self.shift
            if at > end:
                break
            if at < first:
                continue
            if not self._holiday(tick.date()):
                found.append((at, at - self.since if self.since is not None else previous))
            previous = at
        return found

    def due(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime | None, datetime]]:
        """The schedule from `start` to `end`, each tick with the moment a miss turns from
        late to failing: `grace` after it; with no grace, when the next tick falls (at most
        MAX_GRACE after it)."""
        found = self.schedule(start, end)
        if self.grace is not None:
            return [(tick, bound, tick + self.grace) for tick, bound in found]
        following = [tick for tick, _ in found[1:]] + [self.next_tick(found[-1][0]) if found else None]
        return [(tick, bound, min(after or tick + MAX_GRACE, tick + MAX_GRACE)) for (tick, bound), after in zip(found, following)]

    @property
    def key(self) -> str:
        """What the ticks follow from, as text: a timeline cached under another key is stale.
        A new release of the holiday calendars can move past ticks, so its version is part of it."""
        calendars = f"holidays {holiday_calendars.__version__}:{self.holidays}" if self.holidays else ""
        return "|".join([f"cronsim {CRONSIM_VERSION}", self._expression, str(self.zone), str(self.since), str(self.grace), calendars,
                         str(self.shift)])

    def _holiday(self, day: date) -> bool:
        return self._calendar is not None and day in self._calendar

    @cached_property
    def _calendar(self) -> holiday_calendars.HolidayBase | None:
        """The holiday calendar; it fills in each year as a day of that year is asked about."""
        if self.holidays is None:
            return None
        country, _, subdivision = self.holidays.partition("-")
        return holiday_calendars.country_holidays(country, subdiv=subdivision or None)

    def in_words(self) -> str:
        """The promise as a business user reads it: "ready by 06:00 on weekdays, not on
        public holidays in NL"; one that follows a system's schedule: "runs at 02:00 every day
        (UTC), usually done within 25 min"."""
        if self.shift:
            # The schedule is the system's, in its own zone: the page's zone may differ.
            runs = _schedule_in_words(self._expression, "runs", "at") or f"runs on the schedule {self.cron!r}"
            words = f"{runs} ({self.zone}), usually done within {_duration(self.shift)}"
        else:
            words = _schedule_in_words(self._expression, "ready", "by") or f"ready by each tick of the schedule {self.cron!r}"
        if self.holidays:
            words += f", not on public holidays in {self.holidays}"
        if self.grace is None:
            words += " (late until the next one is due too, then failing)"
        elif self.grace:
            words += f" (late for {_duration(self.grace)}, then failing)"
        return words


def _schedule_in_words(expression: str, lead: str, at: str) -> str | None:
    """Words for the schedules people write for data ("0 6 * * 1-5"), after `lead` ("ready")
    with `at` ("by") before the times; None for the rest, which the page then quotes as written."""
    minute, hour, day_of_month, month, day_of_week = expression.split()
    if not (minute.isdigit() and month == "*"):
        return None
    if hour == "*":
        times = f"at {int(minute):02d} minutes past every hour"
    elif all(part.isdigit() for part in hour.split(",")):
        times = f"{at} " + _and([f"{int(h):02d}:{int(minute):02d}" for h in hour.split(",")])
    else:
        return None
    if day_of_month == "*":
        days = _days_of_week(day_of_week)
    elif day_of_month.isdigit() and day_of_week == "*":
        number = int(day_of_month)
        days = f"on the {number}{_ORDINAL.get(number, 'th')} of each month"
    else:
        return None
    return f"{lead} {times} {days}" if days else None


def _days_of_week(field: str) -> str | None:
    if field == "*":
        return "every day"
    numbers = set()
    for part in field.split(","):
        first, _, last = part.partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            return None
        numbers.update(n % 7 for n in range(int(first), int(last or first) + 1))
    if numbers == {1, 2, 3, 4, 5}:
        return "on weekdays"
    if numbers == {0, 6}:
        return "on weekends"
    if len(numbers) == 7:
        return "every day"
    return "on " + _and([_DAY_NAMES[n] for n in sorted(numbers, key=lambda n: (n + 6) % 7)])


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    if seconds % 60:
        return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60} s"
    minutes = seconds // 60
    if minutes % 1440 == 0:
        return f"{minutes // 1440} d"
    if minutes % 60 == 0:
        return f"{minutes // 60} h"
    return f"{minutes} min"
