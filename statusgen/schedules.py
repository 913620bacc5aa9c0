"""The promise an orchestrator's own schedule implies, so most sources need none written.

A schedule of deadlines (Dagster's FreshnessPolicy.cron: `landed_within`) is one: by each tick
new data must have landed, within that long before it. A schedule of starts is below.

A run its schedule starts at a tick is expected to be done within its usual duration (the
90th percentile of its last 20 successful runs, none: zero), plus GRACE. So the schedule
becomes a Deadline whose ticks fall that long after the schedule's, and only a success that
ended after the schedule's own tick counts for it: late (degraded) from the expected moment,
failing once the next tick's expected moment has passed unmet too (at most a week later).

Which promise wins (sources.yaml's, a system's declared ages, then this) is
statusgen.promises' to say; history derives this one from what it holds (Snapshot).
"""

from __future__ import annotations

import math
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from statusgen.deadlines import Deadline, cron_problem
from statusgen.records import Schedule

GRACE = timedelta(minutes=15)  # a run rarely starts on the second its tick falls, nor takes its exact usual time
USUAL_RUNS = 20  # the latest successful runs a schedule's usual duration is read from
USUAL_QUANTILE = 0.9  # of their durations: one slow run in ten is still usual


def implied_deadline(schedule: Schedule, usual: timedelta) -> Deadline | None:
    """The deadline `schedule` implies for runs that usually take `usual`; None for one that
    statusgen cannot follow (a cron it cannot read, a time zone it does not know)."""
    if cron_problem(schedule.cron):
        return None
    try:
        zone = ZoneInfo(schedule.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    if schedule.landed_within is not None:  # its ticks are deadlines already: no run to wait for
        return Deadline(schedule.cron, zone, since=schedule.landed_within or None, grace=None)
    # Whole minutes: the expected moment is said in words, and a second's change in the usual
    # duration would make every cached timeline of the source stale (its key names the shift).
    shift = timedelta(minutes=math.ceil((usual + GRACE).total_seconds() / 60))
    return Deadline(schedule.cron, zone, since=shift, grace=None, shift=shift)
