"""The one schedule a source is judged against, from the crons its orchestrator starts it by.

`Schedule` holds one cron, so a pipeline its system starts by several (02:00 and 14:00
written as two schedules) is judged against its own schedule only when it has exactly one;
otherwise the report names the crons it has, so its owner writes a promise in sources.yaml.
A cron statusgen cannot follow (six fields, Quartz's `L`, an unknown time zone) gives none
either, and says why. A source with a promise in sources.yaml needs no schedule: that
promise wins, so no collector asks for one then.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from statusgen.config import SourceConfig
from statusgen.deadlines import cron_problem
from statusgen.records import Schedule, SourceReport


def needs_schedule(source: SourceConfig) -> bool:
    """Whether the orchestrator's schedule could be what `source` is judged by."""
    return source.freshness is None


def with_schedule(report: SourceReport, system: str, schedules: Iterable[Schedule]) -> SourceReport:
    """`report` with the one schedule among `schedules` (its system's active ones), or with
    a message saying why there is none to judge it by."""
    found = sorted(set(schedules), key=_spelt)  # the same cron twice starts it once; systems list them in no set order
    if not found:
        return report
    if len(found) > 1:
        listed = "; ".join(_spelt(s) for s in found)
        return noted(report, f"{system} starts it on {len(found)} schedules ({listed}): judged against its own schedule "
                             f"only with one schedule; give it a promise in sources.yaml")
    (schedule,) = found
    problem = cron_problem(schedule.cron) or _zone_problem(schedule.timezone)
    if problem:
        return noted(report, f"{system}'s schedule {_spelt(schedule)} cannot be followed: {problem}")
    return replace(report, schedule=schedule)


def _spelt(schedule: Schedule) -> str:
    return f"{schedule.cron} {schedule.timezone}"


def _zone_problem(name: str) -> str | None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"no time zone named {name!r}"
    return None


def noted(report: SourceReport, message: str) -> SourceReport:
    """`report` with `message` after the one it has."""
    return replace(report, message=f"{report.message}; {message}" if report.message else message)
