"""How the source timeline up to a cutoff is kept between renders: a strategy the Timeline takes.

A source's status after a moment depends on the past only through three values at that
moment: the latest finished run's state, the last success, and whether the source was
reachable. ParquetCache keeps them at a cutoff (midnight UTC, a day before the last
collection) in `history/cache/timeline.parquet`, with each source's merged segments before
it, so a render replays only the events after the cutoff. NoCache keeps nothing.

Runs that ended before the cutoff can still arrive later (overlap windows, re-read run
lists, a collector catching up), so each source's entry carries a fingerprint of what it
was computed from: its promise, and a count and sum of hashes of its finished runs (each
in the state it counts as, by the source's min_rows) and reachability changes before the
cutoff. A source whose fingerprint no longer matches is
computed from all of history again. The cache is derived data: deleting it changes
nothing but speed, and a render that cannot write it (a read-only history) goes on.

Both work on the Timeline's session: they read its temp tables `promise`, `finished_runs`,
`changes` and `segments`, and fill `carried` and `carried_segments`, which it creates empty.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Protocol

import duckdb

from statusgen.errors import HistoryError
from statusgen.history import Snapshot, file_metadata, parquet_scan, write_parquet
from statusgen.timeline.queries import query

FILE = "timeline.parquet"
CUTOFF_KEY = "statusgen.timeline_cutoff"
WINDOW_KEY = "statusgen.timeline_window_start"
RULES_KEY = "statusgen.timeline_rules"
_HERE = Path(__file__).parent
# Any change to the rules, the deadlines' calendar, the timeline's code or its SQL makes
# earlier caches unusable.
RULES = hashlib.sha256(b"".join(
    path.read_bytes() for path in [_HERE.parent / "status.py", _HERE.parent / "deadlines.py", *sorted(_HERE.glob("*.py")),
                                   *sorted(_HERE.glob("sql/*.sql"))]
)).hexdigest()[:16]


class Cache(Protocol):
    def restore(self, db: duckdb.DuckDBPyConnection, window_start: datetime, covered_until: datetime) -> datetime | None:
        """Fill `carried` and `carried_segments` with the sources whose kept state still
        holds and return the cutoff it holds at; None when nothing is carried."""

    def save(self, db: duckdb.DuckDBPyConnection, restored: datetime | None, window_start: datetime, covered_until: datetime) -> None:
        """Keep the timeline just computed for the next time."""


class NoCache:
    """Every timeline from all of history."""

    def restore(self, db: duckdb.DuckDBPyConnection, window_start: datetime, covered_until: datetime) -> datetime | None:
        return None

    def save(self, db: duckdb.DuckDBPyConnection, restored: datetime | None, window_start: datetime, covered_until: datetime) -> None:
        pass


class ParquetCache:
    """The state at a cutoff in `folder`/timeline.parquet; `write=False` reads it but leaves it
    as it is (a collection of one shard's sources must not replace every source's entry)."""

    def __init__(self, folder: Path, write: bool = True):
        self.path = folder / FILE
        self.write = write

    def restore(self, db: duckdb.DuckDBPyConnection, window_start: datetime, covered_until: datetime) -> datetime | None:
        if not self.path.exists():
            return None
        try:
            meta = file_metadata(db, [self.path], []).get(self.path, {})  # unreadable: no metadata, so no cutoff
            cutoff = datetime.fromisoformat(meta[CUTOFF_KEY])
            usable = (meta.get(RULES_KEY) == RULES and datetime.fromisoformat(meta[WINDOW_KEY]) <= window_start
                      and cutoff <= covered_until)
            if not usable:
                return None
            db.execute(query("cache_read", scan=parquet_scan([self.path])))
            db.execute(query("cache_fingerprint"), {"cutoff": cutoff})
            db.execute(query("cache_carry"))
            db.execute(query("cache_carry_segments"))
        except (duckdb.Error, KeyError, ValueError):
            db.execute(query("cache_forget"))
            db.execute(query("cache_forget_segments"))
            return None
        return cutoff

    def save(self, db: duckdb.DuckDBPyConnection, restored: datetime | None, window_start: datetime, covered_until: datetime) -> None:
        """Keep the timeline up to the current cutoff, unless the cache already held for every
        source at that cutoff."""
        if not self.write:
            return
        cutoff = cutoff_for(covered_until)
        if restored == cutoff:
            if db.execute(query("cache_held")).fetchone()[0]:
                return
        else:  # restore fingerprinted at its own cutoff, if any
            db.execute(query("cache_fingerprint"), {"cutoff": cutoff})
        db.execute(query("cache_rows"), {"cutoff": cutoff})
        metadata = {CUTOFF_KEY: cutoff.isoformat(), WINDOW_KEY: window_start.isoformat(), RULES_KEY: RULES}
        try:
            write_parquet(db, "timeline_cache", self.path, metadata)
        except HistoryError:
            pass  # a read-only history renders all the same, only slower next time


def kept_by(snapshot: Snapshot, write: bool = True) -> Cache:
    """The cache the snapshot's history keeps, if it keeps one."""
    return ParquetCache(snapshot.cache_dir, write) if snapshot.cache_dir else NoCache()


def cutoff_for(covered_until: datetime) -> datetime:
    """Midnight (naive UTC) of the day before the last collection: runs of the last day
    still arrive, so it is replayed each time."""
    return datetime.combine(covered_until.date() - timedelta(days=1), time())
