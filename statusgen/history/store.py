"""The Parquet history: two append-only datasets, runs and observations, partitioned by
day (statusgen/history/layout.py), read with DuckDB.

Every file is written under a hidden temporary name, flushed to disk and renamed, so a
reader sees a whole file or none. Each carries `statusgen.schema_version` in its Parquet
metadata. A run read again by a later collection is written again; readers keep the
newest row of each (source, run id), which makes collecting twice harmless. Compaction
merges a finished day into one file and names the parts it replaced in that file's
metadata, so a crash between writing it and deleting them double-counts nothing.

Compaction also writes, beside each finished day, what the timeline needs of its
observations: only the collections where a source's reachability changed
(source_id, collected_at, ok). A day's file is a few hundred rows where its observations are hundreds of thousands, so the
timeline reads 90 days of them in a blink. It names the observations file it was made from
and is used only while that file is the day's only one; otherwise the day is read raw.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, Sequence

import duckdb

from statusgen import formats
from statusgen.files import reason, write_atomically
from statusgen.history.layout import DAY_PREFIX, PARTS, REACHABILITY, TEMPORARIES, Layout
from statusgen.records import Observation, Run
from statusgen.status import FINISHED_STATES, Freshness, same_instant_rank_sql
from statusgen.urls import public_url

# The columns read are always this version's, which is how older files are upgraded on read
# (statusgen.formats says what each version changed).
SCHEMA_VERSION = formats.HISTORY.version
VERSION_KEY = "statusgen.schema_version"
COMPACTED_KEY = "statusgen.compacted_from"

RUN_COLUMNS = {
    "source_id": "VARCHAR",
    "run_id": "VARCHAR",
    "state": "VARCHAR",
    "started_at": "TIMESTAMP",
    "ended_at": "TIMESTAMP",
    "url": "VARCHAR",
    "rows_loaded": "BIGINT",
    "message": "VARCHAR",
    "collected_at": "TIMESTAMP",
    "collection_id": "VARCHAR",
}
OBSERVATION_COLUMNS = {
    "source_id": "VARCHAR",
    "collection_id": "VARCHAR",
    "collected_at": "TIMESTAMP",
    "latest_state": "VARCHAR",
    "last_success_at": "TIMESTAMP",
    "error": "VARCHAR",
    "message": "VARCHAR",
    "paused": "BOOLEAN",  # the system said the source is switched off (since version 2)
    "latency_ms": "INTEGER",
    "warn_after_s": "BIGINT",
    "error_after_s": "BIGINT",
}
DATASETS = {"runs": RUN_COLUMNS, "observations": OBSERVATION_COLUMNS}
REACHABILITY_COLUMNS = {"source_id": "VARCHAR", "collected_at": "TIMESTAMP", "ok": "BOOLEAN"}
MADE_FROM_KEY = "statusgen.made_from"
# Whether an observation lets the source's runs decide its status: not when the collection
# failed, nor when the system said the source is paused (reached, and unknown by rule).
RUNS_DECIDE_SQL = "error IS NULL AND NOT coalesce(paused, false)"


def is_history(folder: Path) -> bool:
    """Whether `folder` holds a statusgen history: a dataset folder with day partitions."""
    return Layout(folder).is_history()


def new_collection_id(at: datetime) -> str:
    """Sortable by time, unique across concurrent runs and shards."""
    return f"{at.astimezone(timezone.utc):%Y%m%dT%H%M%S}Z-{secrets.token_hex(4)}"


def naive_utc(value: datetime | None) -> datetime | None:
    """History stores UTC without a zone; DuckDB would otherwise apply its session zone."""
    return None if value is None else value.astimezone(timezone.utc).replace(tzinfo=None)


def aware_utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=timezone.utc)


_database: duckdb.DuckDBPyConnection | None = None
_RUN_TIMES = ("started_at", "ended_at")


def _runs_as_seen(relation: str) -> str:
    """Each run of `relation` as its newest sighting saw it (an observation, by contrast, is
    unique per source and collection).

    Files written before statusgen.ingest bounded times hold them as reported, once per
    collection that listed them. Such a time is bounded here as ingest bounds it, by the
    earliest time the run's sightings give, so those files read as if ingest had seen them
    (and compaction, reading through this, writes them bounded). Times written since never
    lie after their own collection: only the few runs that have such a sighting are looked up."""
    earliest = ", ".join(f"min(CASE WHEN {c} IS NOT NULL THEN least({c}, collected_at) END) AS {c}" for c in _RUN_TIMES)
    bounded = ", ".join(f"CASE WHEN n.{c} > n.collected_at THEN b.{c} ELSE n.{c} END AS {c}" for c in _RUN_TIMES)
    later = " OR ".join(f"{c} > collected_at" for c in _RUN_TIMES)
    return f"""
        WITH n AS (SELECT * FROM {relation}
                   QUALIFY row_number() OVER (PARTITION BY source_id, run_id ORDER BY collected_at DESC, collection_id DESC) = 1),
        b AS (SELECT source_id, run_id, {earliest} FROM {relation}
              SEMI JOIN (SELECT source_id, run_id FROM {relation} WHERE {later}) USING (source_id, run_id) GROUP BY ALL)
        SELECT n.* REPLACE ({bounded}) FROM n LEFT JOIN b USING (source_id, run_id)"""


def connect() -> duckdb.DuckDBPyConnection:
    """A fresh session on one shared in-memory database: opening a database costs ~10 ms,
    a cursor microseconds, and each cursor still has its own temp tables."""
    global _database
    if _database is None:
        # Bounded, so years of history fit a small CI runner: DuckDB spills what does not fit
        # to disk. STATUSGEN_MEMORY_LIMIT raises or lowers the bound.
        _database = duckdb.connect(config={
            "memory_limit": os.environ.get("STATUSGEN_MEMORY_LIMIT", "768MB"),
            "temp_directory": str(Path(tempfile.gettempdir()) / "statusgen-duckdb"),
            "preserve_insertion_order": False,
        })
    session = _database.cursor()
    session.execute("SET TimeZone = 'UTC'")
    return session


@dataclass(frozen=True)
class SourceFacts:
    """What history knows of a source: the inputs of the status rule, and when it was last seen."""

    latest_state: str | None
    latest_ended_at: datetime | None
    last_success_at: datetime | None
    last_collected_at: datetime | None


@dataclass
class Snapshot:
    """History as read at one moment: a DuckDB connection with `runs`, `observations` and
    `reachability` views."""

    db: duckdb.DuckDBPyConnection
    warnings: list[str] = field(default_factory=list)
    cache_dir: Path | None = None  # where derived data may be kept between commands
    runs_kept: bool = False
    lock: IO | None = None  # held shared while open, so no file it lists is deleted under it

    def close(self) -> None:
        self.db.close()
        if self.lock is not None:
            self.lock.close()

    def keep_runs(self) -> None:
        """Deduplicate the runs once, for a reader that reads them several times (a render):
        deduplicating is the dearest step of reading them."""
        if not self.runs_kept:
            self.db.execute(f"DROP VIEW runs; CREATE TEMP TABLE runs AS {_runs_as_seen('raw_runs')}")
            self.runs_kept = True

    def source_facts(self) -> dict[str, SourceFacts]:
        finished = ", ".join(f"'{s}'" for s in sorted(FINISHED_STATES))
        rows = self.db.execute(
            f"""
            WITH r AS (
              SELECT source_id,
                     arg_max(state, (ended_at, {same_instant_rank_sql('state')})) AS latest_state,
                     max(ended_at) AS latest_ended_at,
                     max(ended_at) FILTER (WHERE state = 'success') AS last_success_at
              FROM runs WHERE ended_at IS NOT NULL AND state IN ({finished}) GROUP BY source_id),
            o AS (SELECT source_id, max(collected_at) FILTER (WHERE error IS NULL) AS seen FROM observations GROUP BY source_id)
            SELECT source_id, r.latest_state, r.latest_ended_at, r.last_success_at, o.seen
            FROM r FULL JOIN o USING (source_id)
            """
        ).fetchall()
        return {
            sid: SourceFacts(state, aware_utc(ended), aware_utc(success), aware_utc(seen))
            for sid, state, ended, success, seen in rows
        }

    def run_times(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], tuple[datetime | None, datetime | None]]:
        """The start and end history holds for each (source id, run id) of `keys` it has seen."""
        return {key: (row[1], row[2]) for key, row in self._as_seen(keys).items()}

    def unchanged_runs(self, runs: Sequence[Run]) -> set[tuple[str, str]]:
        """The (source id, run id) of each of `runs` whose newest sighting in history says the
        same: writing it again would only grow history, since readers keep the newest row."""
        held = self._as_seen([(r.source_id, r.run_id) for r in runs])
        return {(r.source_id, r.run_id) for r in runs if held.get((r.source_id, r.run_id)) == _as_held(r)}

    def _as_seen(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], tuple]:
        self.db.execute(
            "CREATE OR REPLACE TEMP TABLE wanted AS SELECT unnest($1::VARCHAR[]) AS source_id, unnest($2::VARCHAR[]) AS run_id",
            [[s for s, _ in keys], [r for _, r in keys]],
        )
        # Only the wanted runs' sightings: deduplicating all of history would be the dear part.
        sightings = "(SELECT * FROM raw_runs SEMI JOIN wanted USING (source_id, run_id))"
        rows = self.db.execute(
            f"SELECT source_id, run_id, state, started_at, ended_at, url, rows_loaded, message FROM ({_runs_as_seen(sightings)})"
        ).fetchall()
        return {(source_id, run_id): (state, aware_utc(started), aware_utc(ended), *rest)
                for source_id, run_id, state, started, ended, *rest in rows}

    def declared_promises(self) -> dict[str, Freshness]:
        """The promise each source's system declared last (collections that declared none, such
        as failed ones, left out): a collection that fails must not erase it from history."""
        rows = self.db.execute(
            "SELECT source_id, arg_max([warn_after_s, error_after_s], collected_at) FROM observations "
            "WHERE warn_after_s IS NOT NULL OR error_after_s IS NOT NULL GROUP BY source_id"
        ).fetchall()
        seconds = lambda s: None if s is None else timedelta(seconds=s)  # noqa: E731
        return {source_id: Freshness(seconds(warn), seconds(error)) for source_id, (warn, error) in rows}

    def latest_observations(self) -> dict[str, dict[str, Any]]:
        # An aggregate then a join: much cheaper than a window over every observation.
        cursor = self.db.execute(
            "WITH last AS (SELECT source_id, max(collected_at) AS at FROM observations GROUP BY source_id) "
            "SELECT o.* FROM observations o JOIN last ON o.source_id = last.source_id AND o.collected_at = last.at "
            "QUALIFY row_number() OVER (PARTITION BY o.source_id ORDER BY o.collection_id DESC) = 1"
        )
        return {row["source_id"]: _aware(row) for row in rows_as_dicts(cursor)}

    def recent_runs(self, limit: int) -> dict[str, list[dict[str, Any]]]:
        """Each source's latest `limit` runs, newest first, in one pass over history. Runs of one
        moment go by run id, so which of them are listed, and in what order, never varies."""
        cursor = self.db.execute(
            "SELECT * FROM runs QUALIFY row_number() OVER (PARTITION BY source_id "
            "ORDER BY coalesce(ended_at, started_at, collected_at) DESC, run_id) <= $1 "
            "ORDER BY source_id, coalesce(ended_at, started_at, collected_at) DESC, run_id",
            [limit],
        )
        found: dict[str, list[dict[str, Any]]] = {}
        for row in rows_as_dicts(cursor):
            # Run links lose their credentials as they are collected; rows written before that
            # lose them here, or the page would keep publishing them until they age out.
            row["url"] = row["url"] and public_url(row["url"])
            found.setdefault(row["source_id"], []).append(_aware(row))
        return found

    def last_collected_at(self) -> datetime | None:
        return aware_utc(self.db.execute("SELECT max(collected_at) FROM observations").fetchone()[0])


@dataclass(frozen=True)
class Compaction:
    days: list[date]
    files_before: int
    files_after: int


class History:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.layout = Layout(self.root)

    # -- writing --------------------------------------------------------------------

    def append(self, collection_id: str, collected_at: datetime, runs: Sequence[Run], observations: Sequence[Observation]) -> None:
        """Write one collection. Runs land first: they are facts that a later collection
        would read again anyway, while an observation without its runs would be a lie."""
        day = naive_utc(collected_at).date()
        stamp = naive_utc(collected_at)
        run_rows = [_run_row(run, stamp, collection_id) for run in runs]
        observation_rows = [_observation_row(o) for o in observations]
        with connect() as db:
            for dataset, rows in (("runs", run_rows), ("observations", observation_rows)):
                if rows:
                    self._write(db, dataset, self.layout.part(dataset, day, collection_id), rows)

    def _write(self, db, dataset: str, target: Path, rows: list[tuple]) -> None:
        columns = DATASETS[dataset]
        db.execute(f"CREATE OR REPLACE TEMP TABLE pending ({', '.join(f'{c} {t}' for c, t in columns.items())})")
        placeholders = ", ".join(f"unnest(${i + 1}::{t}[])" for i, t in enumerate(columns.values()))
        db.execute(f"INSERT INTO pending SELECT {placeholders}", [list(v) for v in zip(*rows)])
        self._put(db, "pending", target)

    def _put(self, db, relation: str, target: Path, metadata: dict[str, str] | None = None) -> None:
        write_parquet(db, relation, target, {VERSION_KEY: str(SCHEMA_VERSION), **(metadata or {})})

    # -- reading --------------------------------------------------------------------

    def open(self, move_aside: bool = False) -> Snapshot:
        """A read-only view of all usable files; unusable ones are named in `warnings`.
        With `move_aside` (writers do it), foreign and unreadable files go to quarantine/,
        so they are reported once and never mistaken for history again."""
        db = connect()
        snapshot = Snapshot(db, cache_dir=self.layout.cache, lock=self._lock(fcntl.LOCK_SH))
        usable = {dataset: self._usable_files(db, dataset, snapshot.warnings, move_aside) for dataset in DATASETS}
        for dataset, files in usable.items():
            db.execute(f"CREATE TEMP VIEW raw_{dataset} AS {_select(db, files, DATASETS[dataset])}")
        db.execute(f"CREATE TEMP VIEW runs AS {_runs_as_seen('raw_runs')}")
        db.execute("CREATE TEMP VIEW observations AS SELECT * FROM raw_observations")
        digested = self._reachability_files(db, usable["observations"])
        undigested = [f for f in usable["observations"] if f not in digested]
        db.execute(
            f"CREATE TEMP VIEW reachability AS {_select(db, list(digested.values()), REACHABILITY_COLUMNS)} "
            f"UNION ALL SELECT source_id, collected_at, {RUNS_DECIDE_SQL} FROM ({_select(db, undigested, OBSERVATION_COLUMNS)})"
        )
        return snapshot

    def _reachability_files(self, db, observations: list[Path]) -> dict[Path, Path]:
        """The reachability file standing in for each observations file that has a current one."""
        by_day: dict[Path, list[Path]] = {}
        for path in observations:
            by_day.setdefault(path.parent, []).append(path)
        candidates = {
            files[0]: made
            for folder, files in by_day.items()
            if len(files) == 1 and (made := self.layout.reachability_of(files[0])).exists()
        }
        # An unreadable or outdated one is not history: the day is read raw, the next compaction redoes it.
        metadata = file_metadata(db, list(candidates.values()), [])
        return {
            source: made
            for source, made in candidates.items()
            if metadata.get(made, {}).get(MADE_FROM_KEY) == _identity(source)
            and _readable(metadata[made].get(VERSION_KEY))  # their columns are the same in every version
        }

    def _usable_files(self, db, dataset: str, warnings: list[str], move_aside: bool) -> list[Path]:
        folder = self.layout.dataset(dataset)
        if not folder.exists():
            return []
        candidates: list[Path] = []
        unusable: list[Path] = []
        for path in sorted(folder.rglob("*")):
            if path.is_dir() or path.name.startswith("."):
                continue
            if not self.layout.is_part(dataset, path):
                warnings.append(f"ignored {path}: not a statusgen history file")
                unusable.append(path)
                continue
            candidates.append(path)
        metadata = file_metadata(db, candidates, warnings)
        unusable += [p for p in candidates if p not in metadata and p.exists()]  # unreadable, not deleted meanwhile
        replaced = {
            (path.parent, name)
            for path, kv in metadata.items()
            for name in json.loads(kv.get(COMPACTED_KEY, "[]"))
        }
        usable = []
        for path, kv in metadata.items():
            if (path.parent, path.name) in replaced:
                continue
            version = kv.get(VERSION_KEY)
            if version is None:
                warnings.append(f"ignored {path}: no {VERSION_KEY} in its metadata (not written by statusgen)")
                unusable.append(path)
            elif not _readable(version):
                # Left in place: a newer statusgen wrote it and will read it.
                warnings.append(f"ignored {path}: schema version {version}, this statusgen reads up to {SCHEMA_VERSION}; upgrade statusgen")
            else:
                usable.append(path)
        if move_aside:
            for path in unusable:
                aside = self.layout.quarantine / path.relative_to(self.root)
                aside.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, aside)
                warnings.append(f"moved {path} aside to {aside}")
        return usable

    # -- maintenance ----------------------------------------------------------------

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[bool]:
        """Whether this process may delete files now: no snapshot open anywhere, no other
        compaction. Never waits: a busy history is compacted by a later run."""
        lock = self._lock(fcntl.LOCK_EX | fcntl.LOCK_NB)
        try:
            yield lock is not None
        finally:
            if lock is not None:
                lock.close()

    def _lock(self, mode: int) -> IO | None:
        """The history's lock file taken in `mode`; None when it is held the other way or
        cannot exist (no history yet, or a read-only one: nothing to protect or delete)."""
        if not self.root.is_dir():
            return None
        try:
            # Never through a link: whoever planted one would choose which file gets created.
            handle = os.fdopen(os.open(self.layout.lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644), "r+")
        except OSError:
            return None
        try:
            fcntl.flock(handle, mode)
        except BlockingIOError:
            handle.close()
            return None
        return handle

    def file_count(self) -> int:
        return sum(1 for dataset in DATASETS for _ in self.layout.dataset(dataset).glob(f"{DAY_PREFIX}*/{PARTS}"))

    def compact(self, now: datetime) -> Compaction:
        """Merge each finished day (before today, UTC) into one file per dataset, and give
        each finished day of observations its reachability file."""
        today = naive_utc(now).date()
        days, before, after = set(), 0, 0
        with connect() as db:
            for dataset in DATASETS:
                for folder, day in self.layout.days(dataset):
                    if day >= today or folder.is_symlink():
                        continue
                    parts = sorted(folder.glob(PARTS))
                    if len(parts) > 1 and self._compact_day(db, dataset, parts):
                        days.add(day)
                    kept = sorted(folder.glob(PARTS))
                    before += len(parts)
                    after += len(kept)
                    if dataset == "observations" and len(kept) == 1:
                        self._refresh_reachability(db, kept[0])
        for folder in self.layout.written_folders():
            if not folder.is_symlink():
                self._remove_stale_temporaries(folder, now)
        return Compaction(sorted(days), before, after)

    def _compact_day(self, db, dataset: str, parts: list[Path]) -> bool:
        """Merge a day's live parts and delete the parts merged before; True if it merged."""
        metadata = file_metadata(db, parts, [])
        replaced = {n for kv in metadata.values() for n in json.loads(kv.get(COMPACTED_KEY, "[]"))}
        live = [p for p in metadata if p.name not in replaced]
        leftovers = [p for p in parts if p.name in replaced]
        if len(live) > 1:
            self._merge(db, dataset, live)
            leftovers += live
        for path in leftovers:
            path.unlink(missing_ok=True)
        return len(live) > 1

    def _refresh_reachability(self, db, observations: Path) -> None:
        made = self.layout.reachability_of(observations)
        if observations not in self._reachability_files(db, [observations]):
            self._write_reachability(db, observations)
        for stale in made.parent.glob(PARTS):
            if stale != made:
                stale.unlink()

    def _merge(self, db, dataset: str, parts: list[Path]) -> Path:
        columns = ", ".join(DATASETS[dataset])
        rows = f"({_runs_as_seen(parquet_scan(parts))})" if dataset == "runs" else parquet_scan(parts)
        db.execute(f"CREATE OR REPLACE TEMP TABLE merging AS SELECT {columns} FROM {rows} ORDER BY source_id, collected_at")
        target = Layout.compacted(parts)
        self._put(db, "merging", target, {COMPACTED_KEY: json.dumps([p.name for p in parts if p != target])})
        return target

    def _write_reachability(self, db, observations: Path) -> None:
        """The day's collections where a source's reachability changed, and its first of the day:
        with days read in order, that is all the timeline's reachability needs."""
        seen = f"SELECT source_id, collected_at, {RUNS_DECIDE_SQL} AS ok FROM ({_select(db, [observations], OBSERVATION_COLUMNS)})"
        db.execute(f"CREATE OR REPLACE TEMP TABLE changes AS {reachability_changes(seen)} ORDER BY source_id, collected_at, ok")
        self._put(db, "changes", self.layout.reachability_of(observations), {MADE_FROM_KEY: _identity(observations)})

    @staticmethod
    def _remove_stale_temporaries(folder: Path, now: datetime) -> None:
        # Left by a crashed writer; a day old is far past any writer still running.
        limit = now.timestamp() - 86400
        for path in folder.glob(TEMPORARIES):
            with contextlib.suppress(FileNotFoundError):  # renamed into place meanwhile
                if path.stat().st_mtime < limit:
                    path.unlink()

    def apply_retention(self, now: datetime, retention_days: int) -> list[date]:
        """Delete days older than the retention window; returns the days dropped."""
        oldest = naive_utc(now).date() - timedelta(days=retention_days)
        dropped = set()
        for dataset in [*DATASETS, REACHABILITY]:
            for folder, day in self.layout.days(dataset):
                if day >= oldest:
                    continue
                if folder.is_symlink():
                    folder.unlink()  # the link only: what it points to was never history's
                elif folder.is_dir():
                    shutil.rmtree(folder)
                else:
                    continue  # a stray file: readers name it, writers move it to quarantine/
                dropped.add(day)
        return sorted(dropped)



# Files are immutable once renamed into place, so their metadata and columns can be
# remembered for as long as the process lives (the demo and benchmarks open history
# hundreds of times).
_metadata_cache: dict[tuple[Path, int, int], dict[str, str]] = {}
_columns_cache: dict[tuple[Path, int, int], tuple] = {}


def _file_key(path: Path) -> tuple[Path, int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None  # removed by a compaction since it was listed
    return (path, stat.st_mtime_ns, stat.st_size)


def file_metadata(db, files: list[Path], warnings: list[str]) -> dict[Path, dict[str, str]]:
    """Each readable file's key-value metadata; unreadable files are named in `warnings`."""
    found: dict[Path, dict[str, str]] = {}
    keys = {}
    for path in files:
        if (key := _file_key(path)) is None:
            continue
        keys[path] = key
        if keys[path] in _metadata_cache:
            found[path] = _metadata_cache[keys[path]]
    unknown = [p for p in keys if p not in found]
    if not unknown:
        return found
    try:
        rows = _kv_rows(db, unknown)
    except duckdb.Error:
        # One bad file fails the whole scan: look at them one by one to name it.
        rows = []
        for path in unknown:
            try:
                rows += _kv_rows(db, [path])
            except duckdb.Error as exc:
                warnings.append(f"ignored {path}: unreadable Parquet ({reason(exc)})")
                keys.pop(path)
    fresh: dict[Path, dict[str, str]] = {p: {} for p in unknown if p in keys}
    for file_name, key, value in rows:
        fresh[Path(file_name)][key.decode()] = value.decode()
    for path, kv in fresh.items():
        _metadata_cache[keys[path]] = kv
    found.update(fresh)
    return found


def same_columns(db, files: list[Path]) -> bool:
    """Whether every file has the same columns, of the same types, in the same order. Then a
    scan of them binds from one file's schema: with union_by_name DuckDB reads every file's
    at each mention of the scan, which was most of the cost of opening history."""
    schemas = _schemas(db, files)
    return schemas is not None and len(set(schemas)) <= 1


def _schemas(db, files: list[Path]) -> list[tuple[tuple, ...]] | None:
    """Each file's columns (name first), remembered per immutable file; None when one cannot be read."""
    keys = [_file_key(path) for path in files]
    if None in keys:
        return None
    unknown = [key for key in keys if key not in _columns_cache]
    if unknown:
        try:
            rows = db.execute(
                "SELECT file_name, name, type, type_length, num_children, converted_type, scale, precision, logical_type "
                f"FROM parquet_schema({_listing([path for path, _, _ in unknown])})"
            ).fetchall()
        except duckdb.Error:
            return None
        columns: dict[str, list[tuple]] = {}
        for file_name, *column in rows:
            columns.setdefault(file_name, []).append(tuple(column))
        if any(str(path) not in columns for path, _, _ in unknown):
            return None  # a file DuckDB named otherwise: unknown is not the same
        for key in unknown:
            _columns_cache[key] = tuple(columns[str(key[0])])
    return [_columns_cache[key] for key in keys]


def _kv_rows(db, files: list[Path]) -> list[tuple[str, bytes, bytes]]:
    return db.execute(f"SELECT file_name, key, value FROM parquet_kv_metadata({_listing(files)})").fetchall()


def reachability_changes(seen: str) -> str:
    """SQL for the rows of the query `seen` (source_id, collected_at, ok) where a source's
    reachability changed. Of collections at one instant, one that reached the source counts
    last (reachable if any did): in any other order the outcome would vary between reads."""
    return f"""
        SELECT source_id, collected_at, ok FROM (
            SELECT source_id, collected_at, ok, lag(ok) OVER (PARTITION BY source_id ORDER BY collected_at, ok) AS was_ok FROM ({seen}))
        WHERE was_ok IS DISTINCT FROM ok"""


def write_parquet(db, relation: str, target: Path, metadata: dict[str, str]) -> None:
    """Write `relation` to `target` so that readers see the whole file or none of it."""
    kv = ", ".join(f"'{k}': '{v.replace(chr(39), chr(39) * 2)}'" for k, v in metadata.items())

    def copy(temporary: Path) -> None:
        quoted = str(temporary).replace("'", "''")
        db.execute(f"COPY {relation} TO '{quoted}' (FORMAT parquet, COMPRESSION zstd, KV_METADATA {{{kv}}})")

    write_atomically(target, copy, failures=(duckdb.Error,))


def _listing(files: Sequence[Path]) -> str:
    return "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"


def parquet_scan(files: Sequence[Path], by_name: bool = True) -> str:
    return f"read_parquet({_listing(files)}{', union_by_name = true' if by_name else ''})"


def _select(db, files: list[Path], columns: dict[str, str]) -> str:
    """A query over `files` with exactly `columns`, whichever statusgen version wrote them."""
    if not files:
        return "SELECT " + ", ".join(f"NULL::{t} AS {c}" for c, t in columns.items()) + " WHERE false"
    schemas = _schemas(db, files)
    # A column no file has (one added since they were written) reads as NULL: that is how
    # files of an older version are read as this one.
    present = None if schemas is None else {column[0] for schema in schemas for column in schema}
    scan = parquet_scan(files, by_name=schemas is None or len(set(schemas)) > 1)
    return "SELECT " + ", ".join(f"CAST({c} AS {t}) AS {c}" if present is None or c in present else f"NULL::{t} AS {c}"
                                 for c, t in columns.items()) + f" FROM {scan}"


def _identity(path: Path) -> str:
    return f"{path.name} {path.stat().st_size}"


def _as_held(run: Run) -> tuple:
    """What a run's row says besides when it was seen, as Snapshot._as_seen reads it back."""
    return (run.state.value, run.started_at, run.ended_at, run.url, run.rows_loaded, run.message)


def _run_row(run: Run, collected_at: datetime, collection_id: str) -> tuple:
    return (
        run.source_id,
        run.run_id,
        run.state.value,
        naive_utc(run.started_at),
        naive_utc(run.ended_at),
        run.url,
        run.rows_loaded,
        run.message,
        collected_at,
        collection_id,
    )


def _observation_row(o: Observation) -> tuple:
    return (
        o.source_id,
        o.collection_id,
        naive_utc(o.collected_at),
        o.latest_state.value if o.latest_state else None,
        naive_utc(o.last_success_at),
        o.error,
        o.message,
        o.paused,
        o.latency_ms,
        o.warn_after_s,
        o.error_after_s,
    )


def _readable(version: str | None) -> bool:
    return version is not None and version.isdigit() and int(version) <= SCHEMA_VERSION


def _aware(row: dict[str, Any]) -> dict[str, Any]:
    return {k: aware_utc(v) if isinstance(v, datetime) else v for k, v in row.items()}


def rows_as_dicts(cursor: Any) -> Iterable[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    for row in cursor.fetchall():
        yield dict(zip(names, row))
