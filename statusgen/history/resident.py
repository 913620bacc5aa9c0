"""The rows of history files a History has read, kept in its in-memory database.

DuckDB pays a fraction of a millisecond for each file it scans, however few rows the file
holds, and history is a file a day per dataset: at 90 days, every question asked of it paid
tens of milliseconds before it read a row, at every mention of every view. A process asks
history many questions (a collection asks before and after it writes, `statusgen run`
renders after collecting, the demo runs 200 collections), so a History reads each file
once and keeps its rows, and its snapshots query those.

Files are immutable once renamed into place: rows loaded from one stay right while its
(path, mtime, size) is the same, and leave when it is deleted or rewritten. A history whose
rows would pass the budget is scanned from its files, as before, so memory stays bounded
whatever the history's size.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from pathlib import Path
from typing import Mapping

from statusgen.history.parquet import FileFacts, FileKey, file_key, row_counts, select

# Far above a small team's 90 days (the demo's are 15,000 rows), far below what would weigh
# on a CI runner's memory: larger histories are scanned from their files.
ROW_BUDGET = 500_000


class Resident:
    """Rows loaded so far, in one table per kind of file, and the version of each file they
    came from. Threads may share a History (two collections at one moment): the tables are
    changed under a lock, and a snapshot's view reads only the files it listed."""

    def __init__(self, budget: int = ROW_BUDGET) -> None:
        self.budget = budget
        self._held: dict[str, dict[Path, FileKey]] = {}  # kind → file loaded → its version then
        # Of each file version held, the `file` of its rows: one id when its rows were loaded,
        # its parts' when it merges files held (see alias). An id's rows go with its last file.
        self._ids: dict[FileKey, tuple[int, ...]] = {}
        self._rows: dict[int, int] = {}  # of each id held
        self._owners: Counter[int] = Counter()  # of each id held: the file versions holding it
        # Of each kind, ids whose rows together are known to hold no two rows of one thing (for
        # runs: each run seen once, schema.seen_once): checked once, then kept as rows come and
        # go, so a reader that needs to know (every collection) does not ask again.
        self._distinct: dict[str, set[int]] = {}
        self._next_id = itertools.count()
        self._lock = threading.Lock()

    @property
    def files(self) -> set[Path]:
        """The files whose rows are held."""
        return {path for held in self._held.values() for path in held}

    def holds(self, kind: str, files: list[Path]) -> bool:
        """Whether the rows of every one of `files` (some, at least) are held as `kind`'s."""
        return self.ids(kind, files) is not None

    def ids(self, kind: str, files: list[Path]) -> frozenset[int] | None:
        """The ids of the rows of `files`, if every one (some, at least) is held as `kind`'s."""
        with self._lock:
            return self._ids_of(kind, files)

    def _ids_of(self, kind: str, files: list[Path]) -> frozenset[int] | None:
        held = self._held.get(kind, {})
        if not files or any(path not in held for path in files):
            return None
        return frozenset(id_ for path in files for id_ in self._ids[held[path]])

    def distinct(self, kind: str, ids: frozenset[int]) -> bool:
        """Whether the rows of `ids` are known to be distinct (see mark_distinct)."""
        with self._lock:
            return ids <= self._distinct.get(kind, set())

    def mark_distinct(self, kind: str, ids: frozenset[int]) -> None:
        """The rows of `ids` were found distinct: any part of them is, as long as they are held."""
        with self._lock:
            self._distinct[kind] = set(ids & self._owners.keys())

    def relation(self, db, kind: str, files: list[Path], columns: dict[str, str], known: FileFacts,
                 listed: Mapping[Path, FileKey] | None = None) -> str | None:
        """A query over the rows of `files` with exactly `columns`, from memory; None when
        they would pass the budget or one of them just went: then the files must be scanned.
        `listed`: the versions of files just listed, which need no second look."""
        with self._lock:
            return self._relation(db, kind, files, columns, known, listed or {})

    def _relation(self, db, kind: str, files: list[Path], columns: dict[str, str], known: FileFacts,
                  listed: Mapping[Path, FileKey]) -> str | None:
        keys = {path: listed.get(path) or file_key(path) for path in files}
        # Another snapshot open now may list files this one does not (a day's parts before
        # it was compacted): only files deleted or rewritten leave.
        held = self._held.get(kind, {})
        self._forget(db, kind, [path for path, key in held.items() if (keys.get(path) or file_key(path)) != key])
        if not files or None in keys.values():
            return None  # for no files, their own query reads nothing
        table = self._table(db, kind, columns)
        held = self._held[kind]
        new = [path for path in files if path not in held]
        if new:
            rows = row_counts(db, [keys[path] for path in new], known)
            if self._held_rows() + sum(rows.values()) > self.budget:
                return None
            ids = {path: next(self._next_id) for path in new}
            db.execute(
                f"INSERT INTO {table} SELECT id, {', '.join(columns)} FROM ({select(db, new, columns, known, with_file=True)}) "
                "JOIN (SELECT unnest($1::VARCHAR[]) AS file, unnest($2::INTEGER[]) AS id) USING (file)",
                [[str(path) for path in new], list(ids.values())],
            )
            for path in new:  # none held at these paths: no rows to let go
                self._hold(kind, keys[path], (ids[path],))
                self._rows[ids[path]] = rows[keys[path]]
        # The ids of its files, not their paths, and as stretches of the ids held: DuckDB binds
        # a view that lists a hundred paths or ids measurably slower, and every snapshot binds several.
        wanted = {id_ for key in keys.values() for id_ in self._ids[key]}
        stretches = _stretches(wanted, sorted({id_ for key in held.values() for id_ in self._ids[key]}))
        return f"SELECT {', '.join(columns)} FROM {table} WHERE " + " OR ".join(f"file BETWEEN {first} AND {last}" for first, last in stretches)

    def adopt(self, db, kind: str, key: FileKey, rows: str, count: int, columns: dict[str, str], parameters: list | None = None,
              distinct_from: frozenset[int] | None = None) -> None:
        """Hold the file of `key` with `rows` (a table or a query in brackets, of exactly
        `columns`, `count` rows; `parameters` its values): what this History just wrote to it,
        so no snapshot reads the file back. `distinct_from`: ids whose rows none of these
        repeats, nor do these repeat each other: they stay known distinct with these rows
        when every id known distinct is among them."""
        with self._lock:
            table = self._table(db, kind, columns)
            self._forget(db, kind, [key[0]] if key[0] in self._held[kind] else [])  # renamed over
            if self._held_rows() + count > self.budget:
                return
            id_ = next(self._next_id)
            db.execute(f"INSERT INTO {table} SELECT {id_}, {', '.join(columns)} FROM {rows}", parameters)
            self._hold(kind, key, (id_,))
            self._rows[id_] = count
            known = self._distinct.setdefault(kind, set())
            if distinct_from is not None and known <= distinct_from:
                known.add(id_)

    def alias(self, db, kind: str, key: FileKey, files: list[Path]) -> bool:
        """Hold the file of `key` as holding exactly the rows of `files`, held as `kind`'s (the
        parts of a day it merges): no row is loaded, its rows are theirs and stay when they go.
        False when they are not all held."""
        with self._lock:
            if (ids := self._ids_of(kind, files)) is None:
                return False
            self._delete(db, kind, self._hold(kind, key, tuple(sorted(ids))))
            return True

    def _hold(self, kind: str, key: FileKey, ids: tuple[int, ...]) -> list[int]:
        """Hold the file of `key` with the rows of `ids`; returns the ids no file holds any more
        (those of a version it was renamed over), whose rows must go."""
        before = self._held[kind].get(key[0])
        self._owners.update(ids)  # first: the version it replaces may hold the same rows
        dead = self._release(before) if before is not None else []
        self._held[kind][key[0]] = key
        self._ids[key] = ids
        return dead

    def _table(self, db, kind: str, columns: dict[str, str]) -> str:
        table = f"resident_{kind}"
        if kind not in self._held:
            db.execute(f"CREATE TABLE {table} (file INTEGER, {', '.join(f'{c} {t}' for c, t in columns.items())})")
            self._held[kind] = {}
        return table

    def _held_rows(self) -> int:
        return sum(self._rows.values())

    def _forget(self, db, kind: str, gone: list[Path]) -> None:
        self._delete(db, kind, [id_ for path in gone for id_ in self._release(self._held[kind].pop(path))])

    def _delete(self, db, kind: str, ids: list[int]) -> None:
        if ids:
            db.execute(f"DELETE FROM resident_{kind} WHERE file IN (SELECT unnest($1::INTEGER[]))", [ids])

    def _release(self, version: FileKey) -> list[int]:
        """The ids whose rows no file holds once `version` is no longer held."""
        dead = []
        for id_ in self._ids.pop(version):
            self._owners[id_] -= 1
            if not self._owners[id_]:
                del self._owners[id_], self._rows[id_]
                for known in self._distinct.values():
                    known.discard(id_)
                dead.append(id_)
        return dead


def _stretches(wanted: set[int], held: list[int]) -> list[tuple[int, int]]:
    """`wanted` as stretches (first, last) of the sorted `held` ids: the table has no row of an
    id not held, so a stretch may pass over one (ids only grow: none is made inside it later)."""
    stretches: list[tuple[int, int]] = []
    first = last = None
    for id_ in held:
        if id_ in wanted:
            first, last = (id_ if first is None else first), id_
        elif first is not None:
            stretches.append((first, last))
            first = None
    if first is not None:
        stretches.append((first, last))
    return stretches
