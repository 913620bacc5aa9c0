"""The source timeline up to a cutoff, kept between renders in `history/cache/timeline.parquet`.

A source's status after a moment depends on the past only through three values at that
moment: the latest finished run's state, the last success, and whether the source was
reachable. The cache keeps them at a cutoff (midnight UTC, a day before the last
collection), with each source's merged segments before it, so a render replays only the
events after the cutoff.

Runs that ended before the cutoff can still arrive later (overlap windows, re-read run
lists, a collector catching up), so each source's entry carries a fingerprint of what it
was computed from: its promise, and a count and sum of hashes of its finished runs and
reachability changes before the cutoff. A source whose fingerprint no longer matches is
computed from all of history again. The cache is derived data: deleting it changes
nothing but speed, and a render that cannot write it (a read-only history) goes on.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, time, timedelta
from pathlib import Path

import duckdb

from statusgen.errors import HistoryError
from statusgen.history import Snapshot, file_metadata, parquet_scan, write_parquet
from statusgen.status import same_instant_rank_sql

FILE = "timeline.parquet"
CUTOFF_KEY = "statusgen.timeline_cutoff"
WINDOW_KEY = "statusgen.timeline_window_start"
RULES_KEY = "statusgen.timeline_rules"
# Any change to the rules, the timeline or this code makes earlier caches unusable.
_HERE = Path(__file__).parent
RULES = hashlib.sha256(b"".join(path.read_bytes() for path in (_HERE.parent / "status.py", _HERE / "timeline.py", _HERE / "cache.py"))).hexdigest()[:16]


def cutoff_for(covered_until: datetime) -> datetime:
    """Midnight (naive UTC) of the day before the last collection: runs of the last day
    still arrive, so it is replayed each time."""
    return datetime.combine(covered_until.date() - timedelta(days=1), time())


def restore(snapshot: Snapshot, window_start: datetime, covered_until: datetime) -> datetime | None:
    """Create temp tables `carried(source_id, state, last_success, seen_ok)` and
    `carried_segments(source_id, start, stop, sev)` for the sources whose cached entry still
    holds, and return its cutoff; with no usable cache they are empty and it returns None.

    Needs the temp tables `promise`, `finished_runs` and `changes` of the timeline."""
    db = snapshot.db
    db.execute("CREATE OR REPLACE TEMP TABLE carried (source_id VARCHAR, state VARCHAR, last_success TIMESTAMP, seen_ok BOOLEAN)")
    db.execute("CREATE OR REPLACE TEMP TABLE carried_segments (source_id VARCHAR, start TIMESTAMP, stop TIMESTAMP, sev INTEGER)")
    path = _path(snapshot)
    if path is None or not path.exists():
        return None
    try:
        meta = file_metadata(db, [path], []).get(path, {})  # unreadable: no metadata, so no cutoff
        cutoff = datetime.fromisoformat(meta[CUTOFF_KEY])
        usable = (meta.get(RULES_KEY) == RULES and datetime.fromisoformat(meta[WINDOW_KEY]) <= window_start
                  and cutoff <= covered_until)
        if not usable:
            return None
        db.execute(f"CREATE OR REPLACE TEMP TABLE cached AS SELECT * FROM {parquet_scan([path])}")
        _fingerprint(db, cutoff)
        db.execute(
            "INSERT INTO carried SELECT c.source_id, c.state, c.last_success, c.seen_ok FROM cached c "
            "JOIN fingerprint f ON c.source_id = f.source_id AND c.fingerprint = f.fingerprint WHERE c.start IS NULL"
        )
        db.execute(
            "INSERT INTO carried_segments SELECT source_id, start, stop, sev FROM cached "
            "WHERE start IS NOT NULL AND source_id IN (SELECT source_id FROM carried)"
        )
    except (duckdb.Error, KeyError, ValueError):
        db.execute("DELETE FROM carried")  # a damaged cache is no cache
        db.execute("DELETE FROM carried_segments")
        return None
    return cutoff


def save(snapshot: Snapshot, restored: datetime | None, window_start: datetime, covered_until: datetime) -> None:
    """Keep the timeline up to the current cutoff, unless the cache already held for every
    source at that cutoff. Needs the temp table `segments` besides those `restore` needs."""
    db = snapshot.db
    path = _path(snapshot)
    if path is None:
        return
    cutoff = cutoff_for(covered_until)
    if restored == cutoff:
        if db.execute("SELECT count(*) = (SELECT count(*) FROM carried) FROM promise").fetchone()[0]:
            return
    else:  # restore fingerprinted at its own cutoff, if any
        _fingerprint(db, cutoff)
    db.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE timeline_cache AS
        SELECT f.source_id, NULL::TIMESTAMP AS start, NULL::TIMESTAMP AS stop, NULL::INTEGER AS sev,
               r.state, r.last_success, c.seen_ok, f.fingerprint
        FROM fingerprint f
        LEFT JOIN (SELECT source_id, arg_max(state, (ended_at, {same_instant_rank_sql('state')})) AS state,
                          max(ended_at) FILTER (WHERE state = 'success') AS last_success
                   FROM finished_runs WHERE ended_at < $cutoff GROUP BY source_id) r USING (source_id)
        LEFT JOIN (SELECT source_id, arg_max(ok, (t, ok)) AS seen_ok FROM changes WHERE t < $cutoff GROUP BY source_id) c USING (source_id)
        UNION ALL
        SELECT source_id, start, least(stop, $cutoff), sev, NULL, NULL, NULL, NULL FROM segments WHERE start < $cutoff
        """,
        {"cutoff": cutoff},
    )
    metadata = {CUTOFF_KEY: cutoff.isoformat(), WINDOW_KEY: window_start.isoformat(), RULES_KEY: RULES}
    try:
        write_parquet(db, "timeline_cache", path, metadata)
    except HistoryError:
        pass  # a read-only history renders all the same, only slower next time


def _fingerprint(db: duckdb.DuckDBPyConnection, cutoff: datetime) -> None:
    """Temp table `fingerprint(source_id, fingerprint)`: what a source's timeline before
    `cutoff` was computed from."""
    db.execute(
        """
        CREATE OR REPLACE TEMP TABLE fingerprint AS
        SELECT p.source_id,
               concat_ws('|', coalesce(p.warn_s::VARCHAR, '-'), coalesce(p.error_s::VARCHAR, '-'), coalesce(r.n, 0), coalesce(r.h, '0'), coalesce(c.n, 0), coalesce(c.h, '0')) AS fingerprint
        FROM promise p
        LEFT JOIN (SELECT source_id, count(*) AS n, sum(hash(ended_at, state))::VARCHAR AS h
                   FROM finished_runs WHERE ended_at < $cutoff GROUP BY source_id) r USING (source_id)
        LEFT JOIN (SELECT source_id, count(*) AS n, sum(hash(t, ok))::VARCHAR AS h
                   FROM changes WHERE t < $cutoff GROUP BY source_id) c USING (source_id)
        """,
        {"cutoff": cutoff},
    )


def _path(snapshot: Snapshot) -> Path | None:
    return snapshot.cache_dir / FILE if snapshot.cache_dir else None
