"""Compaction and retention: the only code that deletes history files.

Compaction merges a finished day into one file and names the parts it replaced in that
file's metadata, so a crash between writing it and deleting them double-counts nothing.
It also writes, beside each finished day of many observations, the digests of them that
readers read instead (statusgen/history/digests.py): a few hundred rows where the day's
observations are hundreds of thousands; the one file of every source's latest
observations over the finished days (statusgen/history/latest.py); and the one file of the
runs those days hold more than once (statusgen/history/repeated.py).

Both run under History.exclusive(): never while a snapshot is open.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from statusgen.history import digests, latest, repeated
from statusgen.history.layout import DATASETS, DIGESTS, PARTS, TEMPORARIES, Layout
from statusgen.history.parquet import file_metadata, select
from statusgen.history.schema import COLUMNS, COMPACTED_KEY, naive_utc, runs_as_seen, seen_once, stamped

if TYPE_CHECKING:
    from statusgen.history.store import History


@dataclass(frozen=True)
class Compaction:
    days: list[date]
    files_before: int
    files_after: int


def compact(history: History, now: datetime) -> Compaction:
    """Merge each finished day (before today, UTC) into one file per dataset, and give each
    finished day of observations its digests and a place in the latest file, if it has enough
    observations for them. A day this History left settled (one file, its digests current, no
    temporary) is not visited again while its folders are unchanged: history grows a day at a
    time, and visiting every day at every run was most of a compaction's cost (the demo
    compacts 200 times)."""
    today = naive_utc(now).date()
    days, before, after = set(), 0, 0
    visited: set[Path] = set()
    digested = [history.layout.dataset(d.folder) for d in digests.DIGESTS]
    unsettled: list[tuple[str, Path, list[Path], tuple[int | None, ...], list[Path]]] = []
    settled_files: dict[str, list[Path]] = {dataset: [] for dataset in DATASETS}
    with history.database.connect() as db:
        for dataset in DATASETS:
            for folder, day in history.layout.days(dataset):
                if day >= today or folder.is_symlink():
                    continue
                folders = [folder, *(history.layout.child(d, folder.name) for d in digested)] if dataset == "observations" else [folder]
                visited.update(folders)
                stamp = _stamp(folders)
                settled = history.settled.get(folder)
                if settled is not None and settled[0] == stamp:
                    before, after = before + 1, after + 1
                    settled_files[dataset].append(settled[1])
                    continue
                parts = sorted(folder.glob(PARTS))
                if len(parts) > 1 and _compact_day(history, db, dataset, parts):
                    days.add(day)
                kept = sorted(folder.glob(PARTS))
                before += len(parts)
                after += len(kept)
                unsettled.append((dataset, folder, folders, stamp, kept))
        # Every day's digests at once: a fresh History (each scheduled run's) looks at the
        # digests of every finished day, and one look at all their footers costs a third of
        # a look per day (20 days: 16 → 6 ms of CPU).
        alone = {dataset: [kept[0] for of, _, _, _, kept in unsettled if of == dataset and len(kept) == 1] for dataset in DATASETS}
        digests.refresh(history, db, alone["observations"])
        latest.refresh(history, db, settled_files["observations"] + alone["observations"])
        repeated.refresh(history, db, settled_files["runs"] + alone["runs"])
        for _, folder, folders, stamp, kept in unsettled:
            swept = [_remove_stale_temporaries(f, now) for f in folders if not f.is_symlink()]
            # Settled only when this visit found nothing to do and nobody wrote meanwhile:
            # a day just merged is visited once more.
            if len(kept) == 1 and all(swept) and _stamp(folders) == stamp:
                history.settled[folder] = (stamp, kept[0])
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
    for dataset in [*DATASETS, *DIGESTS]:
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


def _merge(history: History, db, dataset: str, parts: list[Path]) -> Path:
    columns = ", ".join(COLUMNS[dataset])
    target = Layout.compacted(parts)
    metadata = stamped({COMPACTED_KEY: json.dumps([p.name for p in parts if p != target])})
    # The parts' rows as the History holds them, when it does (it wrote them, or read them for
    # this run's collection): reading the parts again was most of a small day's merge (the demo
    # merges 178). Parts it does not hold are read from their files, not loaded to be deleted.
    held = history.resident.ids(dataset, parts)  # the ids of their rows, if all are held
    rows = f"({history.rows_of(db, dataset, parts, COLUMNS[dataset]) if held else select(db, parts, COLUMNS[dataset], history.files)})"
    # A day whose runs are each seen once (most days; known, where the History holds runs it
    # knows to be) merges them as they are: checking costs less than deduplicating. Rows merged
    # as they are and held are written from memory, and held as the parts' rows, not loaded again.
    known = dataset == "runs" and held and history.resident.distinct(dataset, held)
    if dataset == "runs" and not known and not db.execute(f"SELECT {seen_once(rows)}").fetchone()[0]:
        rows = f"({runs_as_seen(rows)})"
    elif held:
        history.write(db, dataset, COLUMNS[dataset], f"(SELECT {columns} FROM {rows} ORDER BY source_id, collected_at)", target, metadata,
                      same_as=parts)
        return target
    db.execute(f"CREATE OR REPLACE TEMP TABLE merging AS SELECT {columns} FROM {rows} ORDER BY source_id, collected_at")
    history.write(db, dataset, COLUMNS[dataset], "merging", target, metadata)
    return target


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
