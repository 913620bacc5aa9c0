"""The Parquet history: two append-only datasets, runs and observations, partitioned by
day (statusgen/history/layout.py), written and read with DuckDB.

Every file is written under a hidden temporary name, flushed to disk and renamed, so a
reader sees a whole file or none. Each carries `statusgen.schema_version` in its Parquet
metadata. A run read again by a later collection is written again; readers keep the
newest row of each (source, run id), which makes collecting twice harmless. Days are
merged and dropped by statusgen/history/compaction.py.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
from datetime import date, datetime, timezone
from pathlib import Path
from typing import IO, Collection, Iterator, Sequence

from statusgen.history import compaction, digests, latest, repeated
from statusgen.history.compaction import Compaction
from statusgen.history.layout import DATASETS, DAY_PREFIX, DIGESTS, LATEST, PARTS, Layout
from statusgen.history.listing import Folder, Listing
from statusgen.history.parquet import Database, FileFacts, FileKey, file_key, file_metadata, select, write_parquet
from statusgen.history.queries import Snapshot, runs_read
from statusgen.history.resident import Resident
from statusgen.history.schema import (
    COLUMNS,
    COMPACTED_KEY,
    OBSERVATION_COLUMNS,
    RUN_COLUMNS,
    SCHEMA_VERSION,
    VERSION_KEY,
    column_values,
    naive_utc,
    readable,
    stamped,
)
from statusgen.records import Observation, Run


def is_history(folder: Path) -> bool:
    """Whether `folder` holds a statusgen history: a dataset folder with day partitions."""
    return Layout(folder).is_history()


def new_collection_id(at: datetime) -> str:
    """Sortable by time, unique across concurrent runs and shards."""
    return f"{at.astimezone(timezone.utc):%Y%m%dT%H%M%S}Z-{secrets.token_hex(4)}"


class History:
    """The history under `root`. It owns the DuckDB database it is read in, what it has
    learnt of its files and the rows it has read of them, so two histories (or two tests)
    never share any of it."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.layout = Layout(self.root)
        self.database = Database()
        self.files = FileFacts()
        self.resident = Resident()
        self.listing = Listing()
        self._usable: dict[str, tuple[int, list[Path]]] = {}  # day folder → its time and usable files, when it warned of none
        self.settled: dict[Path, tuple] = {}  # day folders compaction left with nothing to do: their stamps then, and their file

    # -- writing --------------------------------------------------------------------

    def append(self, collection_id: str, collected_at: datetime, runs: Sequence[Run], observations: Sequence[Observation],
               new_to: frozenset[int] | None = None) -> None:
        """Write one collection. Runs land first: they are facts that a later collection
        would read again anyway, while an observation without its runs would be a lie.
        `new_to`: a Snapshot's runs_read none of `runs` was seen in (and none is seen twice or
        after `collected_at`): what is known of the runs held stays known."""
        day = naive_utc(collected_at).date()
        values = {
            "runs": column_values(runs, RUN_COLUMNS, collected_at=naive_utc(collected_at), collection_id=collection_id),
            "observations": column_values(observations, OBSERVATION_COLUMNS),
        }
        with self.database.connect() as db:
            for dataset, records in (("runs", runs), ("observations", observations)):
                if records:
                    self._write(db, dataset, self.layout.part(dataset, day, collection_id), values[dataset],
                                new_to if dataset == "runs" else None)

    def _write(self, db, dataset: str, target: Path, values: list[list], new_to: frozenset[int] | None) -> None:
        columns = COLUMNS[dataset]
        unnested = ", ".join(f"unnest(${i + 1}::{t}[]) AS {c}" for i, (c, t) in enumerate(columns.items()))
        # Written and held from the values themselves: a table of them first cost a statement more.
        self.write(db, dataset, columns, f"(SELECT {unnested})", target, stamped(), parameters=values, distinct_from=new_to)

    def write(self, db, kind: str, columns: dict[str, str], table: str, target: Path, metadata: dict[str, str],
              parameters: list | None = None, same_as: list[Path] | None = None, distinct_from: frozenset[int] | None = None) -> None:
        """Write `table` (or a query in brackets, with `parameters` its values), which has
        `columns`, those of `kind`'s files, to `target` whole or not at all. What was written is
        known: no snapshot reads its footer or its rows back. `same_as`: files whose rows are
        exactly those written; `distinct_from`: as Resident.adopt's."""
        count = write_parquet(db, table, target, metadata, parameters)
        if (key := file_key(target)) is not None:
            self.files.metadata[key] = metadata
            self.files.rows[key] = count
            if not (same_as and self.resident.alias(db, kind, key, same_as)):
                self.resident.adopt(db, kind, key, table, count, columns, parameters, distinct_from)

    # -- reading --------------------------------------------------------------------

    def open(self, move_aside: bool = False) -> Snapshot:
        """A read-only view of all usable files; unusable ones are named in `warnings`.
        With `move_aside` (writers do it), foreign and unreadable files go to quarantine/,
        so they are reported once and never mistaken for history again."""
        db = self.database.connect()
        snapshot = Snapshot(db, cache_dir=self.layout.cache, lock=self._lock(fcntl.LOCK_SH))
        keys: dict[Path, FileKey] = {}  # the version of each file listed
        usable = {dataset: self._usable_files(db, dataset, snapshot.warnings, move_aside, keys) for dataset in DATASETS}
        rows = {dataset: self.rows_of(db, dataset, files, COLUMNS[dataset], keys) for dataset, files in usable.items()}
        snapshot.views["observations"] = rows["observations"]
        if (ids := self.resident.ids("runs", usable["runs"])) is not None:
            # Held in memory, so small: every reader of it reads each run's newest sighting, most
            # of them more than once (a collection for its facts and the runs it holds), so the
            # runs are kept as read once, now (Snapshot.keep_runs). Past the budget, a reader
            # keeps them if it needs to. Whether each is seen once is checked once while they are
            # held: a collection's runs new to them keep it so (History.append).
            known = self.resident.distinct("runs", ids)
            if snapshot.keep_runs(held=rows["runs"], once=known) and not known:
                self.resident.mark_distinct("runs", ids)
            snapshot.runs_read = ids
        for digested in DIGESTS:
            for folder in self.listing.walk(self.layout.dataset(digested)):
                keys.update(folder.keys)
        if ids is None:
            if (found := repeated.current(self, db, usable["runs"], keys)) is not None:
                snapshot.runs_again = repeated.again(self, db, found, usable["runs"], keys)
            snapshot.views.update(raw_runs=rows["runs"], runs=runs_read("raw_runs", snapshot.runs_again))
        # Each digest's view: its files for the days that have a current one, the rows it reads
        # of the others' observations (statusgen/history/digests.py, latest.py). Those others
        # are most often the same days for every digest, or every day: their query is made once
        # (the demo opens 200 snapshots).
        raw = {tuple(usable["observations"]): rows["observations"]}

        def undigested(digested: Collection[Path]) -> str:
            files = tuple(f for f in usable["observations"] if f not in digested)
            if files not in raw:
                raw[files] = self.rows_of(db, "observations", list(files), OBSERVATION_COLUMNS, keys)
            return raw[files]
        for digest, digested in digests.current(self, db, usable["observations"], keys).items():
            snapshot.views[digest.folder] = (f"{self.rows_of(db, digest.folder, list(digested.values()), digest.columns, keys)} "
                                             f"UNION ALL {digest.seen(undigested(digested))}")
        found = latest.current(self, db, usable["observations"], keys)
        snapshot.views[LATEST] = undigested(()) if found is None else f"{latest.rows(self, db, found, keys)} UNION ALL {undigested(found.covered)}"
        return snapshot

    def rows_of(self, db, kind: str, files: list[Path], columns: dict[str, str], keys: dict[Path, FileKey] | None = None) -> str:
        """A query over the rows of `files`, of `kind`'s `columns`: from memory while they fit its
        budget, else from the files. `keys`: the versions of files just listed."""
        return self.resident.relation(db, kind, files, columns, self.files, keys) or select(db, files, columns, self.files)

    def _usable_files(self, db, dataset: str, warnings: list[str], move_aside: bool, keys: dict[Path, FileKey]) -> list[Path]:
        """The usable files of `dataset`, with their versions put in `keys`. A day folder that
        is unchanged since all its files were found usable or replaced is not checked again."""
        folder = self.layout.dataset(dataset)
        if not folder.exists():
            return []
        listed = self.listing.walk(folder)
        found: dict[str, list[Path]] = {}
        fresh: list[Folder] = []
        for each in listed:
            keys.update(each.keys)
            kept = self._usable.get(each.path)
            if each.stamp is not None and kept is not None and kept[0] == each.stamp:
                found[each.path] = kept[1]
            else:
                fresh.append(each)
        if fresh:
            usable, troubled = self._check(db, dataset, [path for each in fresh for path in each.files], warnings, move_aside, keys)
            for each in fresh:
                found[each.path] = [path for path in each.files if path in usable]
                # Only a folder without warnings is kept: a warning is said at every open.
                if each.stamp is not None and troubled.isdisjoint(each.files):
                    self._usable[each.path] = (each.stamp, found[each.path])
        return [path for each in listed for path in found[each.path]]

    def _check(self, db, dataset: str, files: list[Path], warnings: list[str], move_aside: bool,
               keys: dict[Path, FileKey]) -> tuple[set[Path], set[Path]]:
        """Which of `files` are usable, and which gave a warning."""
        candidates: list[Path] = []
        unusable: list[Path] = []
        for path in files:
            if not self.layout.is_part(dataset, path):
                warnings.append(f"ignored {path}: not a statusgen history file")
                unusable.append(path)
                continue
            candidates.append(path)
        metadata = file_metadata(db, candidates, warnings, self.files, keys)
        unusable += [p for p in candidates if p not in metadata and p.exists()]  # unreadable, not deleted meanwhile
        troubled = {p for p in candidates if p not in metadata}
        replaced = {
            (path.parent, name)
            for path, kv in metadata.items()
            for name in json.loads(kv.get(COMPACTED_KEY, "[]"))
        }
        usable = set()
        for path, kv in metadata.items():
            if (path.parent, path.name) in replaced:
                continue
            version = kv.get(VERSION_KEY)
            if version is None:
                warnings.append(f"ignored {path}: no {VERSION_KEY} in its metadata (not written by statusgen)")
                unusable.append(path)
            elif not readable(version):
                # Left in place: a newer statusgen wrote it and will read it.
                warnings.append(f"ignored {path}: schema version {version}, this statusgen reads up to {SCHEMA_VERSION}; upgrade statusgen")
                troubled.add(path)
            else:
                usable.add(path)
        if move_aside:
            for path in unusable:
                aside = self.layout.quarantine / path.relative_to(self.root)
                aside.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, aside)
                warnings.append(f"moved {path} aside to {aside}")
        return usable, troubled.union(unusable)

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
        return compaction.compact(self, now)

    def apply_retention(self, now: datetime, retention_days: int) -> list[date]:
        return compaction.apply_retention(self.layout, now, retention_days)

