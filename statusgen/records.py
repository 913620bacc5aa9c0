"""Plain records passed between the stages: collectors → history → timeline → site.

All datetimes are timezone-aware UTC; history stores them as UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from statusgen.status import Freshness, RunState


@dataclass(frozen=True)
class Run:
    """One execution as an orchestrator reports it, or one load seen in a table."""

    source_id: str
    run_id: str
    state: RunState
    started_at: datetime | None = None
    ended_at: datetime | None = None
    url: str | None = None
    rows_loaded: int | None = None
    message: str | None = None

    @property
    def duration(self) -> timedelta | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.started_at


@dataclass(frozen=True)
class Schedule:
    """When an orchestrator itself starts a pipeline: a cron expression (five fields, or a
    preset such as @daily) in a time zone. A fact its system reports, as a run is; the promise
    it implies (a run finishing within its usual duration after each tick) is history's to
    derive, from the runs it holds."""

    cron: str
    timezone: str = "UTC"
    # Set when the ticks are deadlines rather than starts (Dagster's FreshnessPolicy.cron):
    # by each tick new data must have landed, within this long before it.
    landed_within: timedelta | None = None


@dataclass(frozen=True)
class SourceReport:
    """What a collector saw of one source: its runs, and a note when something is off.

    `error` means the collector could not see the source at all (the status becomes
    unknown). `paused` means it saw the source switched off in its system: unknown too, but
    the collection worked, so the next one still reads only what is new. `freshness` lets a system that declares its own promise (dbt's
    `freshness:` blocks) supply it when sources.yaml gives none; `schedule` is the
    orchestrator's own schedule for it, from which a promise follows when neither gives one.
    """

    source_id: str
    runs: list[Run] = field(default_factory=list)
    error: str | None = None
    message: str | None = None
    freshness: Freshness | None = None
    paused: bool = False
    schedule: Schedule | None = None


@dataclass(frozen=True)
class Observation:
    """One row per source per collection: what statusgen saw there. Facts only: the status
    they lead to is the timeline's to decide (statusgen.timeline), never stored."""

    source_id: str
    collection_id: str
    collected_at: datetime
    latest_state: RunState | None
    last_success_at: datetime | None
    error: str | None
    message: str | None
    latency_ms: int
    paused: bool = False  # the system said the source is switched off: unknown, though reached
    warn_after_s: int | None = None
    error_after_s: int | None = None
    schedule_cron: str | None = None  # the schedule its system reported (Schedule): the promise it implies is derived
    schedule_timezone: str | None = None
    schedule_landed_within_s: int | None = None
