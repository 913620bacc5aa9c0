"""Compaction and retention: the only code that deletes history files.

Compaction merges a finished day into one file and names the parts it replaced in that
file's metadata, so a crash between writing it and deleting them double-counts nothing.
It also writes, beside each finished day, what the timeline needs of its observations:
only the collections where a source's reachability changed (source_id, collected_at, ok).
A day's file is a few hundred rows where its observations are hundreds of thousands, so the
timeline reads 90 days of them in a blink. It names the observations file it was made from
and is used only while that file is the day's only one; otherwise the day is read raw.

Both run under History.exclusive(): never while a snapshot is open.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from statusgen.history.layout import DATASETS, PARTS, REACHABILITY, TEMPORARIES, Layout
from statusgen.history.parquet import FileKey, file_metadata, identity, parquet_scan, select
from statusgen.history.schema import (
    COLUMNS,
    COMPACTED_KEY,
    MADE_FROM_KEY,
    OBSERVATION_COLUMNS,
    RUNS_DECIDE_SQL,
    VERSION_KEY,
    naive_utc,
    reachability_changes,
    readable,
    runs_as_seen,
    stamped,
)

if TYPE_CHECKING:
    from statusgen.history.store import History


@dataclass(frozen=True)
class Compaction:
    days: list[date]
    files_before: int
    files_after: int


def compact(history: History, now: datetime) -> Compaction:
    """Merge each finished day (before today, UTC) into one file per dataset, and give
    each finished day of observations its reachability file. A day this History left
    settled (one file, its reachability current, no temporary) is not visited again while
    its folders are unchanged: history grows a day at a time, and visiting every day at
    every run was most of a compaction's cost (the demo compacts 200 times)."""
    today = naive_utc(now).date()
    days, before, after = set(), 0, 0
    visited: set[Path] = set()
    with history.database.connect() as db:
        for dataset in DATASETS:
            for folder, day in history.layout.days(dataset):
                if day >= today or folder.is_symlink():
                    continue
                folders = [folder, history.layout.reachability / folder.name] if dataset == "observations" else [folder]
                visited.update(folders)
                stamp = _stamp(folders)
                if history.settled.get(folder) == stamp:
                    before, after = before + 1, after + 1
                    continue
                parts = sorted(folder.glob(PARTS))
                if len(parts) > 1 and _compact_day(history, db, dataset, parts):
                    days.add(day)
                kept = sorted(folder.glob(PARTS))
                before += len(parts)
                after += len(kept)
                if dataset == "observations" and len(kept) == 1:
                    _refresh_reachability(history, db, kept[0])
                swept = [_remove_stale_temporaries(f, now) for f in folders if not f.is_symlink()]
                # Settled only when this visit found nothing to do and nobody wrote meanwhile:
                # a day just merged is visited once more.
                if len(kept) == 1 and all(swept) and _stamp(folders) == stamp:
                    history.settled[folder] = stamp
    for folder in history.layout.written_folders():
        if folder not in visited and not folder.is_symlink():
            _remove_stale_temporaries(folder, now)
    return Compaction(sorted(days), before, after)


def _stamp(folders: list[Path]) -> tuple[int | None, ...]:
    """What changes whenever a file is added to, renamed into or deleted from `folders`."""
    stamps = []
    for folder in folders:
        try:
            stamps.append(folder.stat().st_mtime_ns)
        except FileNotFoundError:
            stamps.append(None)
    return tuple(stamps)


def apply_retention(layout: Layout, now: datetime, retention_days: int) -> list[date]:
    """Delete days older than the retention window; returns the days dropped."""
    oldest = naive_utc(now).date() - timedelta(days=retention_days)
    dropped = set()
    for dataset in [*DATASETS, REACHABILITY]:
        for folder, day in layout.days(dataset):
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


def current_reachability(history: History, db, observations: list[Path], listed: Mapping[Path, FileKey] | None = None) -> dict[Path, Path]:
    """The reachability file standing in for each observations file that has a current one;
    `listed`: the versions of the files just listed (of both), which need no second look."""
    listed = listed or {}
    by_day: dict[Path, list[Path]] = {}
    for path in observations:
        by_day.setdefault(path.parent, []).append(path)
    candidates = {
        files[0]: made
        for folder, files in by_day.items()
        if len(files) == 1 and ((made := history.layout.reachability_of(files[0])) in listed or made.exists())
    }
    # An unreadable or outdated one is not history: the day is read raw, the next compaction redoes it.
    metadata = file_metadata(db, list(candidates.values()), [], history.files, listed)
    return {
        source: made
        for source, made in candidates.items()
        if metadata.get(made, {}).get(MADE_FROM_KEY) == identity(source, listed.get(source))
        and readable(metadata[made].get(VERSION_KEY))  # their columns are the same in every version
    }


def _compact_day(history: History, db, dataset: str, parts: list[Path]) -> bool:
    """Merge a day's live parts and delete the parts merged before; True if it merged."""
    metadata = file_metadata(db, parts, [], history.files)
    replaced = {n for kv in metadata.values() for n in json.loads(kv.get(COMPACTED_KEY, "[]"))}
    live = [p for p in metadata if p.name not in replaced]
    leftovers = [p for p in parts if p.name in replaced]
    if len(live) > 1:
        _merge(history, db, dataset, live)
        leftovers += live
    for path in leftovers:
        path.unlink(missing_ok=True)
    return len(live) > 1


def _refresh_reachability(history: History, db, observations: Path) -> None:
    made = history.layout.reachability_of(observations)
    if observations not in current_reachability(history, db, [observations]):
        _write_reachability(history, db, observations)
    for stale in made.parent.glob(PARTS):
        if stale != made:
            stale.unlink()


def _merge(history: History, db, dataset: str, parts: list[Path]) -> Path:
    columns = ", ".join(COLUMNS[dataset])
    rows = f"({runs_as_seen(parquet_scan(parts))})" if dataset == "runs" else parquet_scan(parts)
    db.execute(f"CREATE OR REPLACE TEMP TABLE merging AS SELECT {columns} FROM {rows} ORDER BY source_id, collected_at")
    target = Layout.compacted(parts)
    history.write(db, dataset, "merging", target, stamped({COMPACTED_KEY: json.dumps([p.name for p in parts if p != target])}))
    return target


def _write_reachability(history: History, db, observations: Path) -> None:
    """The day's collections where a source's reachability changed, and its first of the day:
    with days read in order, that is all the timeline's reachability needs."""
    seen = f"SELECT source_id, collected_at, {RUNS_DECIDE_SQL} AS ok FROM ({select(db, [observations], OBSERVATION_COLUMNS, history.files)})"
    db.execute(f"CREATE OR REPLACE TEMP TABLE changes AS {reachability_changes(seen)} ORDER BY source_id, collected_at, ok")
    history.write(db, REACHABILITY, "changes", history.layout.reachability_of(observations), stamped({MADE_FROM_KEY: identity(observations)}))


def _remove_stale_temporaries(folder: Path, now: datetime) -> bool:
    """Whether `folder` is left without temporaries."""
    # Left by a crashed writer; a day old is far past any writer still running.
    limit = now.timestamp() - 86400
    clean = True
    for path in folder.glob(TEMPORARIES):
        with contextlib.suppress(FileNotFoundError):  # renamed into place meanwhile
            if path.stat().st_mtime < limit:
                path.unlink()
            else:
                clean = False
    return clean
