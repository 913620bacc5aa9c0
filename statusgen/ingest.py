"""Times as history counts them: never later than the collection that saw them.

An API that once answers `finished_at: 2099-01-01` (a clock, a bug, a placeholder) would
otherwise give history a run that stays the latest run and last success for every
collection after it, so no later failure ever shows. Every time a run carries is bounded
here, once, before the run enters history; the status rule and the timeline read bounded
times and keep no guard of their own.

A run listed again by a later collection (an orchestrator lists a run ending after the last
collection every time) keeps the time history already gave it: bounding it by each new
collection would move its end later at every sighting.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Mapping

from statusgen.records import Run

if TYPE_CHECKING:
    from statusgen.collect import Collected
    from statusgen.history import Snapshot

Times = tuple[datetime | None, datetime | None]  # (started_at, ended_at)


def bounded(run: Run, seen_at: datetime, known: Times = (None, None)) -> Run:
    """`run` with each time later than `seen_at` replaced by the time history already has
    for it, or by `seen_at`, and its message saying what was reported."""
    changes: dict[str, datetime] = {}
    notes: list[str] = []
    for name, what, earlier in (("started_at", "start", known[0]), ("ended_at", "end", known[1])):
        reported = getattr(run, name)
        if reported is None or reported <= seen_at:
            continue
        changes[name] = min(seen_at, earlier) if earlier else seen_at
        notes.append(f"reported {what}ing {_utc(reported)}, later than the collection that saw it; counted as {what}ing {_utc(changes[name])}")
    if not changes:
        return run
    return replace(run, **changes, message="; ".join(filter(None, [run.message, *notes])))


def bounded_reports(reports: Mapping[str, Collected], seen_at: datetime, snapshot: Snapshot) -> dict[str, Collected]:
    """Every report's runs bounded to `seen_at`; history is read only when some time needs it."""
    later = [(r.source_id, r.run_id) for c in reports.values() for r in c.report.runs if bounded(r, seen_at) is not r]
    if not later:
        return dict(reports)
    known = snapshot.run_times(later)
    return {
        source_id: replace(c, report=replace(c.report, runs=[
            bounded(r, seen_at, known.get((r.source_id, r.run_id), (None, None))) for r in c.report.runs
        ]))
        for source_id, c in reports.items()
    }


def _utc(value: datetime) -> str:
    return f"{value.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC"
