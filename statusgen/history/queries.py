"""History as read at one moment (a Snapshot) and the questions every stage asks of it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import IO, Any, Iterable, Mapping, Sequence

import duckdb

from statusgen.history.schema import DECLARED_SQL, REACHED_SQL, aware_utc, records, runs_as_seen, seen_once
from statusgen.records import Observation, Run, Schedule
from statusgen.schedules import USUAL_QUANTILE, USUAL_RUNS, implied_deadline
from statusgen.status import FINISHED_STATES, Freshness, RunState, counted_state_sql, run_order_sql
from statusgen.urls import public_url


@dataclass(frozen=True)
class SourceFacts:
    """What history knows of a source: the inputs of the status rule, and when it was last seen."""

    latest_state: str | None
    latest_ended_at: datetime | None
    last_success_at: datetime | None
    last_collected_at: datetime | None


@dataclass(frozen=True)
class _Observed:
    seen: datetime | None  # the last collection that reached the source
    declared: bool  # whether its system ever declared a promise
    warn_s: int | None
    error_s: int | None
    schedule: Schedule | None  # the one its system reported at the last collection that reached it


@dataclass
class Snapshot:
    """History as read at one moment: a DuckDB connection (`db`) with `runs`, `observations`
    and the digests' views, `reachability` and `latest` (statusgen/history/digests.py)."""

    session: duckdb.DuckDBPyConnection
    warnings: list[str] = field(default_factory=list)
    cache_dir: Path | None = None  # where derived data may be kept between commands
    runs_kept: bool = False
    lock: IO | None = None  # held shared while open, so no file it lists is deleted under it
    # Views defined but not yet made, by name, in the order they may be made: DuckDB binds a
    # view as it makes it (≈ 1 ms each), and a collection reads two of the five.
    views: dict[str, str] = field(default_factory=dict)
    # The ids of the rows of runs it read, when its History holds them (history/resident.py):
    # runs new to these, written, keep what is known of the runs held.
    runs_read: frozenset[int] | None = None
    # SQL of the runs of `raw_runs` seen more than once, and maybe others, where history keeps
    # a file of them (statusgen/history/repeated.py); None: found by counting every run's sightings.
    runs_again: str | None = None

    @property
    def db(self) -> duckdb.DuckDBPyConnection:
        """The session with every view made: what readers outside this class query."""
        return self._with(*self.views)

    def _with(self, *views: str) -> duckdb.DuckDBPyConnection:
        """The session with `views` made, if they were not."""
        for name in views:
            if (definition := self.views.pop(name, None)) is not None:
                self.session.execute(f"CREATE TEMP VIEW {name} AS {definition}")
        return self.session

    def _with_runs(self) -> duckdb.DuckDBPyConnection:
        """The session with `runs` made, and `raw_runs` where `runs` reads it."""
        return self._with("raw_runs", "runs")

    def close(self) -> None:
        self.session.close()
        if self.lock is not None:
            self.lock.close()

    def keep_runs(self, held: str | None = None, once: bool = False) -> bool:
        """Deduplicate the runs once, for a reader that reads them several times (a render):
        deduplicating is the dearest step of reading them. `held`: a query of the raw runs,
        rows held in memory; when each is seen once (`once`: known to be) they are read as
        they are, not copied. Whether they were found each seen once."""
        if self.runs_kept:
            return False
        self.views.pop("runs", None)  # made here, as a view of what is held or as a table
        each_once = held is not None and (once or self.session.execute(f"SELECT {seen_once(f'({held})')}").fetchone()[0])
        if each_once:
            self.session.execute(f"CREATE OR REPLACE TEMP VIEW runs AS SELECT * EXCLUDE (collection_id) FROM ({held})")
        else:
            kept = runs_read(f"({held})") if held else runs_read("raw_runs", self.runs_again)
            self._with("raw_runs").execute(f"DROP VIEW IF EXISTS runs; CREATE TEMP TABLE runs AS {kept}")
        self.runs_kept = True
        return each_once

    def source_facts(self, min_rows: Mapping[str, int | None] | None = None) -> dict[str, SourceFacts]:
        """Each source's facts; its last success is the last run that counts as one by its
        `min_rows` (statusgen.status.counted_state), as the timeline counts it, while its
        latest state is the one its system reported."""
        wanted = {source_id: rows for source_id, rows in (min_rows or {}).items() if rows is not None}
        finished = ", ".join(f"'{s}'" for s in sorted(FINISHED_STATES))
        # Joined to the sources' minimums only when some source has one (most have none).
        minimums = "LEFT JOIN (SELECT unnest($1::VARCHAR[]) AS source_id, unnest($2::BIGINT[]) AS min_rows) w USING (source_id)"
        rows = self._with_runs().execute(
            f"""
            SELECT source_id,
                   arg_max(state, {run_order_sql('ended_at', 'state')}) AS latest_state,
                   max(ended_at) AS latest_ended_at,
                   max(ended_at) FILTER (WHERE {counted_state_sql('state', 'rows_loaded', 'w.min_rows' if wanted else 'NULL')} = '{RunState.SUCCESS.value}')
                       AS last_success_at
            FROM runs {minimums if wanted else ''}
            WHERE ended_at IS NOT NULL AND state IN ({finished}) GROUP BY source_id
            """,
            [list(wanted), list(wanted.values())] if wanted else None,
        ).fetchall()
        ran = {sid: (state, ended, success) for sid, state, ended, success in rows}
        facts = {}
        for sid in ran.keys() | self._observed.keys():
            state, ended, success = ran.get(sid, (None, None, None))
            observed = self._observed.get(sid)
            facts[sid] = SourceFacts(state, aware_utc(ended), aware_utc(success), aware_utc(observed.seen) if observed else None)
        return facts

    def run_times(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], tuple[datetime | None, datetime | None]]:
        """The start and end history holds for each (source id, run id) of `keys` it has seen."""
        return {key: (run.started_at, run.ended_at) for key, run in self._as_seen(keys).items()}

    def seen_runs(self, runs: Sequence[Run]) -> dict[tuple[str, str], Run]:
        """Each of `runs` history has seen, by (source id, run id), as its newest sighting says."""
        return self._as_seen([(r.source_id, r.run_id) for r in runs])

    def _as_seen(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Run]:
        wanted = "(SELECT unnest($1::VARCHAR[]) AS source_id, unnest($2::VARCHAR[]) AS run_id)"
        if self.runs_kept:
            found = f"SELECT * FROM runs SEMI JOIN {wanted} USING (source_id, run_id)"
        else:
            # Only the wanted runs' sightings: deduplicating all of history would be the dear part.
            found = runs_read(f"(SELECT * FROM raw_runs SEMI JOIN {wanted} USING (source_id, run_id))")
        runs = records(Run, rows_as_dicts(self._with_runs().execute(found, [[s for s, _ in keys], [r for _, r in keys]])))
        return {(run.source_id, run.run_id): run for run in runs}

    def declared_promises(self) -> dict[str, Freshness]:
        """The promise each source's system gives: the ages it declared last (collections that
        declared none, such as failed ones, left out: a collection that fails must not erase
        them from history), else the deadline its reported schedule implies (statusgen.schedules)."""
        seconds = lambda s: None if s is None else timedelta(seconds=s)  # noqa: E731
        found = {sid: Freshness(seconds(o.warn_s), seconds(o.error_s)) for sid, o in self._observed.items() if o.declared}
        scheduled = {sid: o.schedule for sid, o in self._observed.items() if o.schedule and sid not in found}
        usual = self._usual_durations(list(scheduled))
        for sid, schedule in scheduled.items():
            if deadline := implied_deadline(schedule, usual.get(sid, timedelta(0))):
                found[sid] = Freshness(deadline=deadline)
        return found

    def _usual_durations(self, source_ids: list[str]) -> dict[str, timedelta]:
        """Each source's usual run: the USUAL_QUANTILE of the durations of its latest
        USUAL_RUNS successful runs; sources with none are left out."""
        if not source_ids:
            return {}  # most histories hold no schedule: no read of the runs for them
        rows = self._with_runs().execute(
            f"""
            SELECT source_id, quantile_disc(epoch(ended_at) - epoch(started_at), {USUAL_QUANTILE}) FROM (
                SELECT source_id, started_at, ended_at FROM runs
                WHERE state = '{RunState.SUCCESS.value}' AND ended_at >= started_at AND source_id IN (SELECT unnest($1::VARCHAR[]))
                QUALIFY row_number() OVER (PARTITION BY source_id ORDER BY ended_at DESC, run_id) <= {USUAL_RUNS})
            GROUP BY source_id
            """,
            [source_ids],
        ).fetchall()
        return {sid: timedelta(seconds=seconds) for sid, seconds in rows}

    @cached_property
    def _observed(self) -> dict[str, _Observed]:
        """What the facts and the promises need of the observations, in one read of the
        latest ones, done once per snapshot."""
        rows = self._with("latest").execute(
            f"SELECT source_id, max(collected_at) FILTER (WHERE {REACHED_SQL}), "
            f"arg_max([warn_after_s, error_after_s], collected_at) FILTER (WHERE {DECLARED_SQL}), "
            # A source whose system stops reporting a schedule has none; one it could not reach keeps its last.
            f"arg_max({{cron: schedule_cron, zone: schedule_timezone, within: schedule_landed_within_s}}, collected_at) FILTER (WHERE {REACHED_SQL}) "
            "FROM latest GROUP BY source_id"
        ).fetchall()
        return {sid: _Observed(seen, promise is not None, *(promise or (None, None)), _schedule(schedule)) for sid, seen, promise, schedule in rows}

    def latest_observations(self) -> dict[str, Observation]:
        # An aggregate then a join: much cheaper than a window over every observation.
        cursor = self._with("latest").execute(
            "WITH last AS (SELECT source_id, max(collected_at) AS at FROM latest GROUP BY source_id) "
            "SELECT o.* FROM latest o JOIN last ON o.source_id = last.source_id AND o.collected_at = last.at "
            "QUALIFY row_number() OVER (PARTITION BY o.source_id ORDER BY o.collection_id DESC) = 1"
        )
        return {o.source_id: o for o in records(Observation, rows_as_dicts(cursor))}

    def recent_runs(self, limit: int) -> dict[str, list[Run]]:
        """Each source's latest `limit` runs, newest first, in one pass over history. Runs of one
        moment go by run id, so which of them are listed, and in what order, never varies."""
        # Newest first, then by run id, as one key: with one ORDER BY expression DuckDB keeps
        # the top `limit` of each source as it reads, with two it sorts every run (8× the CPU).
        moment = "coalesce(ended_at, started_at, collected_at)"
        newest = f"{{moment: -epoch_us({moment}), run_id: run_id}}"
        latest = f"QUALIFY row_number() OVER (PARTITION BY source_id ORDER BY {newest}) <= $limit"
        # A run's moment is never after its collection (ingest bounds its times, runs_as_seen
        # those of older files). So of the runs collected since a moment, a source's `limit`
        # latest are its latest of all when the last of them is from that moment on; only the
        # other sources' runs are read whole. The moment leaves room for `limit` daily runs:
        # at 1,000 sources of hourly runs over 90 days, ≈ 0.1 s of CPU against 0.6 for all runs.
        cursor = self._with_runs().execute(
            f"""
            WITH since AS (SELECT max(collected_at) - to_days($limit + 1) AS t FROM runs),
            recent AS (SELECT * FROM runs WHERE collected_at >= (FROM since) {latest}),
            settled AS (SELECT source_id FROM recent GROUP BY source_id HAVING min({moment}) >= (FROM since) AND count(*) = $limit)
            SELECT * FROM (
                SELECT * FROM recent SEMI JOIN settled USING (source_id)
                UNION ALL
                (SELECT * FROM runs ANTI JOIN settled USING (source_id) {latest}))
            ORDER BY source_id, {newest}
            """,
            {"limit": limit},
        )
        found: dict[str, list[Run]] = {}
        for run in records(Run, rows_as_dicts(cursor)):
            # Run links lose their credentials as they are collected; rows written before that
            # lose them here, or the page would keep publishing them until they age out.
            # (Copied only then: at 1,000 sources the page lists 15,000 runs.)
            if run.url and (public := public_url(run.url)) != run.url:
                run = replace(run, url=public)
            found.setdefault(run.source_id, []).append(run)
        return found

    def last_collected_at(self) -> datetime | None:
        return aware_utc(self._with("latest").execute("SELECT max(collected_at) FROM latest").fetchone()[0])

    def first_collected_at(self) -> dict[str, datetime]:
        """When each source was first collected. Reachability holds each source's first
        collection (its reachability changes from none) in a few rows a day, so this reads no
        observation; retention moves it forward as days are dropped."""
        rows = self._with("reachability").execute("SELECT source_id, min(collected_at) FROM reachability GROUP BY source_id").fetchall()
        return {source_id: aware_utc(at) for source_id, at in rows}


def runs_read(relation: str, again: str | None = None) -> str:
    """The runs of `relation` as readers read them: each as its newest sighting saw it
    (statusgen.history.schema.runs_as_seen, which `again` is given to), without the collection
    that saw it, which no reader asks for and which, kept for a render at 2 M runs, was 30 MB of its peak."""
    return f"SELECT * EXCLUDE (collection_id) FROM ({runs_as_seen(relation, again)})"


def rows_as_dicts(cursor: Any) -> Iterable[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    for row in cursor.fetchall():
        yield dict(zip(names, row))


def _schedule(found: dict[str, Any] | None) -> Schedule | None:
    if not found or not found["cron"]:
        return None
    within = found["within"]
    return Schedule(found["cron"], found["zone"], None if within is None else timedelta(seconds=within))
