"""Runs + observations → status over time → days on the bars.

A source's status at time t follows from the finished runs before t (the latest one's
state, and the last success against the freshness promise) and from whether statusgen
could reach the source at all. Runs are events, so a collection that was skipped loses
nothing: the next one reads the runs it missed. Time after the last collection, and
before anything was known, is "no data" — never green.

The heavy lifting is DuckDB SQL over the history views; the rule tables in the SQL are
generated from statusgen.status so the timeline and the collect-time status agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from fractions import Fraction
from functools import cached_property
from typing import Mapping, Sequence
from zoneinfo import ZoneInfo

from statusgen.history import Snapshot, aware_utc, naive_utc, reachability_changes
from statusgen.status import FINISHED_STATE_STATUS, SEVERITY, Freshness, Status, same_instant_rank_sql
from statusgen.timeline import cache as timeline_cache

_BY_SEVERITY = {rank: status for status, rank in SEVERITY.items()}
_UNKNOWN = SEVERITY[Status.UNKNOWN]
_DEGRADED = SEVERITY[Status.DEGRADED]
_FAILING = SEVERITY[Status.FAILING]
_MAINTENANCE = SEVERITY[Status.MAINTENANCE]


@dataclass(frozen=True)
class Day:
    """One mark on a bar: seconds spent in each status, and seconds with no data at all."""

    day: date
    seconds: Mapping[Status, int]
    no_data: int
    failed_runs: int = 0
    incidents: tuple[str, ...] = ()

    @cached_property
    def worst(self) -> Status | None:
        """The day's colour; None when nothing at all is known about the day."""
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

    def lengths(self) -> list[tuple[date, int]]:
        """Each day and its seconds (23 or 25 hours' worth on DST days, fewer for today)."""
        return [(day, max(0, int((end - start).total_seconds()))) for day, start, end in self.days]


def state_severity_sql(column: str) -> str:
    """SQL for the severity a finished run state leads to (unknown when there is none)."""
    cases = " ".join(f"WHEN '{state.value}' THEN {SEVERITY[status]}" for state, status in FINISHED_STATE_STATUS.items())
    return f"CASE {column} {cases} ELSE {_UNKNOWN} END"


def build_source_segments(
    snapshot: Snapshot, promises: Mapping[str, Freshness], window: Window, covered_until: datetime, keep_cache: bool = True
) -> None:
    """Create temp table `segments(source_id, start, stop, sev)`: each source's status over time.

    Sources whose timeline up to the cache's cutoff still holds start from their state there
    (statusgen.timeline.cache); the others are computed from all of history. `keep_cache`
    writes the cache for the next render; a collection of one shard's sources must not."""
    db = snapshot.db
    ids = list(promises)
    cover, window_start = naive_utc(covered_until), naive_utc(window.start)
    db.execute("CREATE OR REPLACE TEMP TABLE promise (source_id VARCHAR, warn_s BIGINT, error_s BIGINT)")
    db.execute(
        "INSERT INTO promise SELECT unnest($1::VARCHAR[]), unnest($2::BIGINT[]), unnest($3::BIGINT[])",
        [ids, [_seconds(promises[i].warn_after) for i in ids], [_seconds(promises[i].error_after) for i in ids]],
    )
    finished = ", ".join(f"'{state.value}'" for state in FINISHED_STATE_STATUS)
    # Kept for failed_runs and the cache: reading the runs is worth doing once.
    db.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE finished_runs AS SELECT source_id, ended_at, state FROM runs
        WHERE ended_at IS NOT NULL AND ended_at <= $cover AND state IN ({finished}) AND source_id IN (SELECT source_id FROM promise)
        """,
        {"cover": cover},
    )
    # Only the collections where reachability changed matter.
    seen = "SELECT * FROM reachability WHERE collected_at <= $cover AND source_id IN (SELECT source_id FROM promise)"
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE changes AS SELECT source_id, collected_at AS t, ok FROM ({reachability_changes(seen)})",
        {"cover": cover},
    )
    cutoff = timeline_cache.restore(snapshot, window_start, cover)
    state_sev = state_severity_sql("state")
    # Ties at one instant: runs by the one order statusgen.status gives them, collections by
    # whether they reached the source, as the cache and reachability_changes order them.
    in_time = f"t, ord, {same_instant_rank_sql('state')}, seen_ok"
    db.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE segments AS
        -- Clipped to the window, so that where a stretch began before it does not depend on
        -- how much of the past this render read. A stretch that ended before the window is
        -- dropped, not clipped: clipped, it would end before it starts.
        SELECT source_id, greatest(start, $window_start) AS start, stop, sev FROM (
        WITH events AS (
            -- A source the cache holds starts from its state at the cutoff; one nothing was known
            -- of before it has no state there: read raw, its timeline begins at its first event.
            SELECT source_id, $cutoff AS t, -1 AS ord, state, last_success AS success_at, seen_ok FROM carried
            WHERE state IS NOT NULL OR seen_ok IS NOT NULL
            UNION ALL
            SELECT r.source_id, r.ended_at, 0, r.state, CASE WHEN r.state = 'success' THEN r.ended_at END, NULL
            FROM finished_runs r LEFT JOIN carried c USING (source_id) WHERE c.source_id IS NULL OR r.ended_at >= $cutoff
            UNION ALL
            SELECT h.source_id, h.t, 1, NULL, NULL, h.ok
            FROM changes h LEFT JOIN carried c USING (source_id) WHERE c.source_id IS NULL OR h.t >= $cutoff
        ),
        ordered AS (
            SELECT source_id, t AS start,
                   last_value(state IGNORE NULLS) OVER w AS state,
                   max(success_at) OVER w AS last_success,
                   coalesce(last_value(seen_ok IGNORE NULLS) OVER w, true) AS seen_ok,
                   coalesce(lead(t) OVER (PARTITION BY source_id ORDER BY {in_time}), $cover) AS stop,
                   lead(t) OVER (PARTITION BY source_id ORDER BY {in_time}) IS NULL AS last
            FROM events
            WINDOW w AS (PARTITION BY source_id ORDER BY {in_time} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
        ),
        aged AS (
            -- When the last success gets too old: past warn_after (t1), then error_after (t2).
            SELECT o.*, {state_sev} AS state_sev,
                   last_success + to_seconds(coalesce(warn_s, error_s)) AS t1, last_success + to_seconds(error_s) AS t2
            FROM ordered o JOIN promise USING (source_id)
            -- Of several events at the moment of the last collection, only the last holds on.
            WHERE (stop > start OR (start = $cover AND last)) AND stop > $window_start
        ),
        pieces AS (
            SELECT *, CASE WHEN seen_ok THEN state_sev ELSE {_UNKNOWN} END AS fresh,
                      CASE WHEN seen_ok THEN greatest(state_sev, {_DEGRADED}) ELSE {_UNKNOWN} END AS late,
                      CASE WHEN seen_ok THEN {_FAILING} ELSE {_UNKNOWN} END AS overdue,
                      CASE WHEN t1 IS NULL THEN stop ELSE least(stop, greatest(start, t1)) END AS p1,
                      CASE WHEN t2 IS NULL THEN stop ELSE least(stop, greatest(start, t2)) END AS p2
            FROM aged
        ),
        split AS (
            SELECT source_id, start, p1 AS stop, fresh AS sev FROM pieces WHERE p1 > start
            UNION ALL
            SELECT source_id, p1, p2, late FROM pieces WHERE p2 > p1
            UNION ALL
            SELECT source_id, p2, stop, overdue FROM pieces WHERE stop > p2
            UNION ALL
            -- What an event at the very moment of the last collection made the status: it
            -- lasts no time on the bars, but it is the status the source has now.
            SELECT source_id, start, stop, CASE WHEN t1 IS NULL OR start <= t1 THEN fresh WHEN t2 IS NULL OR start <= t2 THEN late
                                                ELSE overdue END
                FROM pieces WHERE stop = start
            UNION ALL
            SELECT * FROM carried_segments WHERE stop > $window_start
        ),
        {_merged("split", "source_id")})
        WHERE stop > $window_start
        """,
        {"cover": cover, "window_start": window_start, "cutoff": cutoff},
    )
    if keep_cache:
        timeline_cache.save(snapshot, cutoff, window_start, cover)


def build_component_segments(
    snapshot: Snapshot, members: Mapping[str, Sequence[str]], maintenance: Mapping[str, Sequence[tuple[datetime, datetime]]] | None = None
) -> None:
    """Create temp table `component_segments`: each component's status is the worst of its
    sources'. Where some sources have data and others none, it is at least unknown; during
    a declared maintenance window it is maintenance, whatever its sources say."""
    db = snapshot.db
    windows = [(c, start, stop) for c, spans in (maintenance or {}).items() for start, stop in spans]
    db.execute("CREATE OR REPLACE TEMP TABLE maintenance (component_id VARCHAR, start TIMESTAMP, stop TIMESTAMP)")
    db.execute(
        "INSERT INTO maintenance SELECT unnest($1::VARCHAR[]), unnest($2::TIMESTAMP[]), unnest($3::TIMESTAMP[])",
        [[c for c, _, _ in windows], [naive_utc(a) for _, a, _ in windows], [naive_utc(b) for _, _, b in windows]],
    )
    pairs = [(c, s) for c, sources in members.items() for s in sources]
    db.execute("CREATE OR REPLACE TEMP TABLE members (component_id VARCHAR, source_id VARCHAR)")
    db.execute(
        "INSERT INTO members SELECT unnest($1::VARCHAR[]), unnest($2::VARCHAR[])",
        [[c for c, _ in pairs], [s for _, s in pairs]],
    )
    db.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE component_segments AS
        WITH bounds AS (
            SELECT DISTINCT m.component_id, b.t
            FROM members m JOIN (SELECT source_id, start AS t FROM segments
                                 UNION ALL SELECT source_id, stop FROM segments) b USING (source_id)
            UNION SELECT component_id, start FROM maintenance
            UNION SELECT component_id, stop FROM maintenance
        ),
        pieces AS (
            SELECT component_id, t AS start, lead(t) OVER (PARTITION BY component_id ORDER BY t) AS stop FROM bounds
            UNION ALL
            -- The moment of the last collection, which lasts no time: the status the component has now.
            SELECT m.component_id, max(s.stop), max(s.stop) FROM members m JOIN segments s USING (source_id) GROUP BY ALL
        ),
        per_source AS (
            SELECT p.component_id, p.start, p.stop, m.source_id FROM pieces p JOIN members m USING (component_id)
            WHERE p.stop IS NOT NULL
        ),
        hits AS (
            SELECT ps.component_id, ps.start, ps.stop,
                   CASE WHEN s.stop > ps.start OR (ps.stop = ps.start AND s.stop = ps.start) THEN s.sev END AS sev
            FROM per_source ps ASOF LEFT JOIN segments s ON ps.source_id = s.source_id AND ps.start >= s.start
        ),
        worst_of AS (
            SELECT component_id, start, stop,
                   CASE WHEN count(sev) < count(*) THEN greatest(max(sev), {_UNKNOWN}) ELSE max(sev) END AS sev
            FROM hits GROUP BY component_id, start, stop HAVING count(sev) > 0
        ),
        maintained AS (
            SELECT w.component_id, w.start, w.stop,
                   CASE WHEN EXISTS (SELECT 1 FROM maintenance m WHERE m.component_id = w.component_id
                                     AND m.start <= w.start AND m.stop >= w.stop) THEN {_MAINTENANCE} ELSE w.sev END AS sev
            FROM worst_of w
        ),
        {_merged("maintained", "component_id")}
        """
    )


def _merged(table: str, key: str) -> str:
    """The tail of a query turning `table`'s touching pieces with one status into one segment,
    so the last segment of each key tells since when its status has held. Only the first and
    last piece of each stretch survive the first pass, which keeps the second one small."""
    return f"""
        marked AS (
            SELECT *, coalesce(sev = lag(sev) OVER w AND start = lag(stop) OVER w, false) AS continues,
                      coalesce(sev = lead(sev) OVER w AND stop = lead(start) OVER w, false) AS continued
            FROM {table} WINDOW w AS (PARTITION BY {key} ORDER BY start)
        ),
        ends AS (SELECT * FROM marked WHERE NOT (continues AND continued))
        SELECT {key}, start, CASE WHEN continued THEN lead(stop) OVER (PARTITION BY {key} ORDER BY start) ELSE stop END AS stop, sev
        FROM ends QUALIFY NOT continues"""


def status_since(snapshot: Snapshot, table: str, key: str) -> dict[str, tuple[Status, datetime]]:
    """Each key's latest status on the timeline and when that stretch began."""
    rows = snapshot.db.execute(f"SELECT {key}, arg_max(sev, start), max(start) FROM {table} GROUP BY {key}").fetchall()
    return {owner: (_BY_SEVERITY[sev], aware_utc(start)) for owner, sev, start in rows}


def daily(snapshot: Snapshot, table: str, key: str, window: Window) -> dict[str, list[Day]]:
    """Seconds per status per local day for every key of `table` (segments or component_segments)."""
    db = snapshot.db
    db.execute("CREATE OR REPLACE TEMP TABLE days (day DATE, day_start TIMESTAMP, day_end TIMESTAMP)")
    db.execute(
        "INSERT INTO days SELECT unnest($1::DATE[]), unnest($2::TIMESTAMP[]), unnest($3::TIMESTAMP[])",
        [[d for d, _, _ in window.days], [naive_utc(s) for _, s, _ in window.days], [naive_utc(e) for _, _, e in window.days]],
    )
    rows = db.execute(
        f"""
        SELECT t.{key}, d.day, t.sev,
               sum(epoch(least(t.stop, d.day_end) - greatest(t.start, d.day_start)))::BIGINT AS seconds
        FROM {table} t JOIN days d ON t.start < d.day_end AND t.stop > d.day_start
        WHERE t.stop > t.start
        GROUP BY ALL
        """
    ).fetchall()
    spent: dict[str, dict[date, dict[Status, int]]] = {}
    for owner, day, sev, seconds in rows:
        spent.setdefault(owner, {}).setdefault(day, {})[_BY_SEVERITY[sev]] = seconds
    lengths = window.lengths()
    return {owner: [_day(day, length, by_day.get(day, {})) for day, length in lengths] for owner, by_day in spent.items()}


def failed_runs(snapshot: Snapshot) -> dict[str, dict[date, int]]:
    """Failed runs per source per local day of the `days` table that `daily` made, among
    the runs that build_source_segments read."""
    rows = snapshot.db.execute(
        "SELECT r.source_id, d.day, count(*) FROM finished_runs r JOIN days d ON r.ended_at >= d.day_start AND r.ended_at < d.day_end "
        "WHERE r.state = 'failed' GROUP BY ALL"
    ).fetchall()
    found: dict[str, dict[date, int]] = {}
    for source_id, day, count in rows:
        found.setdefault(source_id, {})[day] = count
    return found


def empty_bar(window: Window) -> list[Day]:
    return [_day(day, length, {}) for day, length in window.lengths()]


def _day(day: date, length: int, seconds: dict[Status, int]) -> Day:
    return Day(day, seconds, max(0, length - sum(seconds.values())))


def uptime(days: Sequence[Day], weights: Mapping[Status, float]) -> float | None:
    """Percent of known time that counts as up, rounded down to two decimals.

    Unknown, maintenance and no-data time are left out rather than counted as up.
    """
    spent = dict.fromkeys(Status, 0)
    for day in days:
        for status, seconds in day.seconds.items():
            spent[status] += seconds
    known = spent[Status.OPERATIONAL] + spent[Status.DEGRADED] + spent[Status.FAILING]
    if known == 0:
        return None
    # Exact fractions: floating point would round 99.99 down to 99.98 now and then.
    lost = sum(spent[s] * Fraction(str(w)) for s, w in weights.items())
    return math.floor((known - lost) * 10000 / known) / 100


def _seconds(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())
