"""The stages the commands run: collect into history, then render history into a site."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

from statusgen import alerts, catalog, discovery
from statusgen.collect import Collected, collect_all
from statusgen.config import Config, SourceConfig
from statusgen.history import Compaction, History, Snapshot, SourceFacts, naive_utc, new_collection_id
from statusgen.history import catalog as catalog_file
from statusgen.ingest import bounded_reports
from statusgen.promises import promises
from statusgen.records import Observation, Run, SourceReport
from statusgen.site import SiteModel, SiteSummary, build_model, write_site
from statusgen.status import FINISHED_STATES, RunState, Status, counted_state, run_order
from statusgen.timeline import statuses_at


@dataclass(frozen=True)
class SourceLine:
    """One line of the collect summary."""

    source_id: str
    status: Status
    age: timedelta | None
    latency_ms: int
    runs: int
    note: str | None


@dataclass(frozen=True)
class CollectSummary:
    collection_id: str
    lines: list[SourceLine]
    requests: dict[str, int]  # API requests per connection
    warnings: list[str]


@dataclass(frozen=True)
class Recorded:
    """A collection as appended to history, before anything is judged of it."""

    collection_id: str
    observations: list[Observation]
    runs: dict[str, int]  # runs read per source
    config: Config  # as collected: with what discovery found, of the shard's sources only
    requests: dict[str, int]  # API requests per connection
    warnings: list[str]


def collect(
    config: Config,
    history: History,
    now: datetime,
    on_done: Callable[[Collected], None] = lambda c: None,
    shard: tuple[int, int] | None = None,
) -> CollectSummary:
    """Record a collection (see `record`), then each source's status after it, from the
    timeline's rule at `now`: what the page will say."""
    recorded = record(config, history, now, on_done, shard)
    current = statuses_now(recorded.config, history, now)
    lines = [
        SourceLine(o.source_id, current.get(o.source_id, Status.UNKNOWN), now - o.last_success_at if o.last_success_at else None,
                   o.latency_ms, recorded.runs[o.source_id], o.error or o.message)
        for o in recorded.observations
    ]
    return CollectSummary(recorded.collection_id, lines, recorded.requests, recorded.warnings)


def record(
    config: Config,
    history: History,
    now: datetime,
    on_done: Callable[[Collected], None] = lambda c: None,
    shard: tuple[int, int] | None = None,
    on_answered: Callable[[], None] = lambda: None,
) -> Recorded:
    """Discover, ask every source, and append what each said to history with what history
    already knew of it; nothing is judged. With `shard` (I, N), only slice I is collected, and only slice 1
    refreshes the catalog: the other slices collect what the last discovery found.
    `on_answered` is told once no system is asked anything more."""
    # One snapshot for the whole collection: what history held before it is all it asks
    # (facts, times of runs seen before, runs held as they are), and nothing is written
    # until it closes. It holds the shared lock while the systems are asked, so a compaction
    # by another process meanwhile skips its turn, as it does beside any reader.
    snapshot = history.open(move_aside=True)
    try:
        facts = snapshot.source_facts({s.id: s.min_rows for s in config.sources})
        warnings = list(snapshot.warnings)
        known = catalog_file.read(history.layout, config)
        warnings += list(known.problems)
        found = discovery.discover(config, known, now, history.root / "cache") if shard is None or shard[0] == 1 else discovery.Discovered(known)
        if found.catalog != known:
            catalog_file.write(history.layout, found.catalog)
        warnings += [f"connection {name!r}: could not discover: {reason}; kept what it found before" for name, reason in found.failures.items()]
        config = catalog.apply(config, found.catalog)
        if shard is not None:
            config = config.shard(*shard)
        unsure = discovery.unreachable(config, found.catalog, found.failures)
        collection = collect_all(replace(config, sources=[s for s in config.sources if s.id not in unsure]), now,
                                 {sid: f.last_collected_at for sid, f in facts.items() if f.last_collected_at},
                                 on_done, cache_dir=history.layout.cache, not_before=now - timedelta(days=config.history.retention_days))
        on_answered()
        collected = bounded_reports(collection.reports, now, snapshot)
        for source_id, reason in unsure.items():
            collected[source_id] = Collected(SourceReport(source_id, error=reason), 0)
            on_done(collected[source_id])
        collection_id = new_collection_id(now)
        observations = [
            observe(s, collected[s.id].report, facts.get(s.id), now, collection_id, collected[s.id].latency_ms)
            for s in config.sources
        ]
        runs, new = _not_held(snapshot, [run for s in config.sources for run in collected[s.id].report.runs], now)
    finally:
        snapshot.close()
    history.append(collection_id, now, runs, observations, new_to=snapshot.runs_read if new else None)
    requests = {name: collection.requests.get(name, 0) + found.requests.get(name, 0) for name in config.connections}
    return Recorded(collection_id, observations, {s.id: len(collected[s.id].report.runs) for s in config.sources}, config,
                    requests, warnings)


def statuses_now(config: Config, history: History, now: datetime) -> dict[str, Status]:
    """Each source's status at `now`, the collection just written: what the page will say,
    from the timeline's rule at that instant, and the promises the page reads (history holds
    what the collection's systems declared, and their schedules)."""
    snapshot = history.open()
    try:
        return statuses_at(snapshot, promises(config, snapshot), now)
    finally:
        snapshot.close()


def _not_held(snapshot: Snapshot, runs: list[Run], now: datetime) -> tuple[list[Run], bool]:
    """The runs history does not already hold as they are (an orchestrator lists a run again
    at every collection that overlaps it, and storage should not grow with each), and whether
    each is new to history, seen once and no later than `now` (then history's runs stay each
    seen once: see History.append)."""
    if not runs:
        return runs, True
    seen = snapshot.seen_runs(runs)
    written = [run for run in runs if seen.get((run.source_id, run.run_id)) != run]
    keys = {(run.source_id, run.run_id) for run in written}
    new = (len(keys) == len(written) and keys.isdisjoint(seen)
           and all(time is None or time <= now for run in written for time in (run.started_at, run.ended_at)))
    return written, new


def observe(
    source: SourceConfig, report: SourceReport, known: SourceFacts | None, now: datetime, collection_id: str, latency_ms: int,
) -> Observation:
    """What this collection saw of `source`, with what history knew: the facts the timeline
    turns into a status (it alone decides one)."""
    ended = [run for run in report.runs if run.state in FINISHED_STATES and run.ended_at is not None]
    finished = [(run.ended_at, run.state) for run in ended]
    successes = [run.ended_at for run in ended if counted_state(run.state, run.rows_loaded, source.min_rows) is RunState.SUCCESS]
    if known is not None:
        if known.latest_state:
            finished.append((known.latest_ended_at, RunState(known.latest_state)))
        successes += [known.last_success_at] if known.last_success_at else []
    latest_state = max(finished, key=lambda run: run_order(*run))[1] if finished else None
    last_success = max(successes, default=None)
    return Observation(
        source_id=source.id,
        collection_id=collection_id,
        collected_at=now,
        latest_state=latest_state,
        last_success_at=last_success,
        error=report.error,
        message=report.message,
        paused=report.paused,
        latency_ms=latency_ms,
        # What the system declared (a fact), not the promise in force: sources.yaml's may change.
        warn_after_s=_seconds(report.freshness.warn_after) if report.freshness else None,
        error_after_s=_seconds(report.freshness.error_after) if report.freshness else None,
        schedule_cron=report.schedule.cron if report.schedule else None,
        schedule_timezone=report.schedule.timezone if report.schedule else None,
        schedule_landed_within_s=_seconds(report.schedule.landed_within) if report.schedule else None,
    )


def maintain(config: Config, history: History, now: datetime) -> tuple[Compaction, list] | None:
    """Compact finished days and drop days past retention; None when another statusgen is
    reading or compacting this history (files are never deleted under a reader)."""
    with history.exclusive() as mine:
        if not mine:
            return None
        compaction = history.compact(now)
        dropped = history.apply_retention(now, config.history.retention_days)
        return compaction, dropped


def alert(config: Config, history: History, site: SiteSummary) -> tuple[list, list[str]]:
    """Announce status changes, when alerts are configured."""
    if not config.alerts.urls and config.alerts.github_issues is None:
        return [], []
    return alerts.notify(config.alerts, site.model, history.root)


def model(config: Config, history: History, now: datetime) -> SiteModel:
    """What the page says, from history alone: the catalog says what discovery last found,
    so this asks no system and gives the same answer on a machine with no network."""
    found = catalog_file.read(history.layout, config)
    snapshot = history.open()
    try:
        applied = catalog.apply(config, found)
        model = build_model(applied, snapshot, now, catalog.upstream(applied, found))
    finally:
        snapshot.close()
    return replace(model, warnings=list(found.problems) + model.warnings)


def render(config: Config, history: History, out: Path, now: datetime) -> SiteSummary:
    return write_site(model(config, history, now), out)


@dataclass(frozen=True)
class RunResult:
    collected: CollectSummary
    maintained: tuple[Compaction, list] | None
    site: SiteSummary
    transitions: list
    warnings: list[str]


def run(
    config: Config,
    history: History,
    now: datetime,
    out: Path,
    on_done: Callable[[Collected], None] = lambda c: None,
) -> RunResult:
    """The scheduled job, the sequence `statusgen run` and the demo's last collection share:
    collect, compact finished days, then render to `out` and alert."""
    collected = collect(config, history, now, on_done)
    maintained = maintain(config, history, now)
    site = render(config, history, out, now)
    transitions, warnings = alert(config, history, site)
    return RunResult(collected, maintained, site, transitions, warnings)


def advance(config: Config, history: History, now: datetime, previous: datetime | None = None,
            on_answered: Callable[[], None] = lambda: None) -> None:
    """A run that shows nothing: record a collection and maintain history, as `run` does,
    without judging or rendering what nobody reads (the demo's collections before its last).
    `previous`: the moment of the run before it, when this process made it and nobody else
    writes this history; then maintenance waits for a new day (UTC), since only a day that
    finishes gives it something to do: a day to compact, retention's window moved.
    `on_answered`: as `record`'s."""
    record(config, history, now, on_answered=on_answered)
    if previous is None or naive_utc(previous).date() != naive_utc(now).date():
        maintain(config, history, now)


def _seconds(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())
