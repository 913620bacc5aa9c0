"""History's Parquet files through DuckDB: the database they are read in, whole-or-nothing
writes, and what is known of each file (its key-value metadata, its columns and its rows).

Files are immutable once renamed into place, so what is learnt of one is kept in a
FileFacts for as long as its owner lives: a History keeps one, as the demo and the
benchmarks open the same history hundreds of times.
"""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import duckdb

from statusgen.files import reason, write_atomically

FileKey = tuple[Path, int, int]


class Database:
    """An in-memory DuckDB database, opened on first use, handing out sessions: opening a
    database costs ~10 ms, a cursor microseconds, and each cursor still has its own temp tables."""

    def __init__(self) -> None:
        self._database: duckdb.DuckDBPyConnection | None = None
        # Threads may share one (two collections at one moment): each must get a session of
        # the same database, which holds the rows a History keeps (statusgen/history/resident.py).
        self._opening = threading.Lock()

    def connect(self) -> duckdb.DuckDBPyConnection:
        with self._opening:
            if self._database is None:
                # Bounded, so years of history fit a small CI runner: DuckDB spills what does not fit
                # to disk. STATUSGEN_MEMORY_LIMIT raises or lowers the bound.
                self._database = duckdb.connect(config={
                    "memory_limit": os.environ.get("STATUSGEN_MEMORY_LIMIT", "768MB"),
                    "temp_directory": str(Path(tempfile.gettempdir()) / "statusgen-duckdb"),
                    "preserve_insertion_order": False,
                })
                # For every session: history's timestamps are UTC, whatever the machine's zone.
                # (Not in the config above: DuckDB loads the zones only after it starts.)
                self._database.execute("SET GLOBAL TimeZone = 'UTC'")
        return self._database.cursor()


@dataclass
class FileFacts:
    """The metadata, columns and row counts of files already read or written, by (path, mtime, size)."""

    metadata: dict[FileKey, dict[str, str]] = field(default_factory=dict)
    columns: dict[FileKey, tuple] = field(default_factory=dict)
    rows: dict[FileKey, int] = field(default_factory=dict)


def file_key(path: Path) -> FileKey | None:
    """What identifies one version of a file (they are immutable once in place); None when it is gone."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None  # removed by a compaction since it was listed
    return (path, stat.st_mtime_ns, stat.st_size)


def file_metadata(db, files: list[Path], warnings: list[str], known: FileFacts | None = None,
                  listed: Mapping[Path, FileKey] | None = None) -> dict[Path, dict[str, str]]:
    """Each readable file's key-value metadata; unreadable files are named in `warnings`.
    `listed`: the versions of files just listed, which need no second look."""
    cache = (known or FileFacts()).metadata
    found: dict[Path, dict[str, str]] = {}
    keys = {}
    for path in files:
        if (key := (listed or {}).get(path) or file_key(path)) is None:
            continue
        keys[path] = key
        if keys[path] in cache:
            found[path] = cache[keys[path]]
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
        cache[keys[path]] = kv
    found.update(fresh)
    return found


def same_columns(db, files: list[Path], known: FileFacts | None = None) -> bool:
    """Whether every file has the same columns, of the same types, in the same order. Then a
    scan of them binds from one file's schema: with union_by_name DuckDB reads every file's
    at each mention of the scan, which was most of the cost of opening history."""
    schemas = _schemas(db, files, known or FileFacts())
    return schemas is not None and len(set(schemas)) <= 1


def _schemas(db, files: list[Path], known: FileFacts) -> list[tuple[tuple, ...]] | None:
    """Each file's columns (name first), remembered per immutable file; None when one cannot be read."""
    keys = [file_key(path) for path in files]
    if None in keys:
        return None
    unknown = [key for key in keys if key not in known.columns]
    if unknown:
        try:
            rows = db.execute(
                "SELECT file_name, name, type, type_length, num_children, converted_type, scale, precision, logical_type "
                f"FROM parquet_schema({listing([path for path, _, _ in unknown])})"
            ).fetchall()
        except duckdb.Error:
            return None
        columns: dict[str, list[tuple]] = {}
        for file_name, *column in rows:
            columns.setdefault(file_name, []).append(tuple(column))
        if any(str(path) not in columns for path, _, _ in unknown):
            return None  # a file DuckDB named otherwise: unknown is not the same
        for key in unknown:
            known.columns[key] = tuple(columns[str(key[0])])
    return [known.columns[key] for key in keys]


def row_counts(db, keys: Sequence[FileKey], known: FileFacts) -> dict[FileKey, int]:
    """The rows of each file version, read from its footer once (a history past the resident
    budget is asked at every snapshot); a file gone meanwhile counts none."""
    unknown = [key for key in keys if key not in known.rows]
    if unknown:
        found = dict(db.execute(f"SELECT file_name, num_rows FROM parquet_file_metadata({listing([p for p, _, _ in unknown])})").fetchall())
        for key in unknown:
            known.rows[key] = found.get(str(key[0]), 0)
    return {key: known.rows[key] for key in keys}


def _kv_rows(db, files: list[Path]) -> list[tuple[str, bytes, bytes]]:
    return db.execute(f"SELECT file_name, key, value FROM parquet_kv_metadata({listing(files)})").fetchall()


def write_parquet(db, relation: str, target: Path, metadata: dict[str, str], parameters: list | None = None) -> int:
    """Write `relation` (a table, or a query in brackets with `parameters` its values) to
    `target` so that readers see the whole file or none of it; returns the rows written (COPY
    counts them: no query of its own for it)."""
    kv = ", ".join(f"'{k}': '{v.replace(chr(39), chr(39) * 2)}'" for k, v in metadata.items())

    def copy(temporary: Path) -> int:
        quoted = str(temporary).replace("'", "''")
        return db.execute(f"COPY {relation} TO '{quoted}' (FORMAT parquet, COMPRESSION zstd, KV_METADATA {{{kv}}})", parameters).fetchone()[0]

    return write_atomically(target, copy, failures=(duckdb.Error,))


def listing(files: Sequence[Path]) -> str:
    return "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"


def parquet_scan(files: Sequence[Path], by_name: bool = True, with_file: bool = False) -> str:
    return f"read_parquet({listing(files)}{', union_by_name = true' if by_name else ''}{', filename = true' if with_file else ''})"


def select(db, files: list[Path], columns: dict[str, str], known: FileFacts, with_file: bool = False) -> str:
    """A query over `files` with exactly `columns`, whichever statusgen version wrote them;
    `with_file` puts first the path of the file each row comes from, as `file`."""
    if not files:
        return "SELECT " + ", ".join(f"NULL::{t} AS {c}" for c, t in columns.items()) + " WHERE false"
    schemas = _schemas(db, files, known)
    # A column no file has (one added since they were written) reads as NULL: that is how
    # files of an older version are read as this one.
    present = None if schemas is None else {column[0] for schema in schemas for column in schema}
    scan = parquet_scan(files, by_name=schemas is None or len(set(schemas)) > 1, with_file=with_file)
    return "SELECT " + ("filename AS file, " if with_file else "") + ", ".join(f"CAST({c} AS {t}) AS {c}" if present is None or c in present else f"NULL::{t} AS {c}"
                                 for c, t in columns.items()) + f" FROM {scan}"


def identity(path: Path, key: FileKey | None = None) -> str:
    """What a derived file records of the file it was made from (`key`: its version, if
    known): a rewritten one differs."""
    return f"{path.name} {key[2] if key else path.stat().st_size}"
