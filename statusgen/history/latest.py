"""Each source's latest observations over history's finished days, in one file that readers
read instead of those days' hundreds of thousands of rows each.

Every read of the observations but the timeline's (Snapshot's facts, promises, schedules,
latest observations, last collection) asks for the latest of one of three: a source's
observations at its latest instant, at the latest that reached it (schema's REACHED_SQL) and
at the latest that declared a promise (DECLARED_SQL). Over several files those are the latest
of each file's, so one file of them stands for every finished day it was made from; a reader
adds the rows of the files it does not cover (today's parts, a day still in several files).

The file names each observations file it covers, at its version, and is used while each of
them is still history at that version, or is gone with a day older than every day left:
retention drops the oldest days, and a history pulled from S3 starts at the page's first day.
Its rows from the days left are then the latest of what is left, as nothing later had any of
those three. Otherwise the days are read raw, and the next compaction makes the file again.
Each compaction adds the days it finished: the latest of the file's rows and theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from statusgen.history import digests
from statusgen.history.layout import LATEST, day_of
from statusgen.history.parquet import FileKey, identity, select
from statusgen.history.schema import (
    DECLARED_SQL,
    OBSERVATION_COLUMNS,
    REACHED_SQL,
)

if TYPE_CHECKING:
    from statusgen.history.store import History

# Changed whenever what the file keeps changes, so that an older one is made again. "1" was a
# file per day (statusgen before 2026-12): this one reads none of them, and its compaction
# deletes them.
RULE = "2"


@dataclass(frozen=True)
class Latest:
    file: Path
    covered: frozenset[Path]  # the observations files it stands for
    since: datetime | None  # its rows before it are of days gone; None when none is gone


def latest_rows(observations: str) -> str:
    """Of `observations` (SQL of a query of them), the rows at each source's latest instant, at
    its latest that reached it and at its latest that declared a promise."""
    latest = " OR ".join(
        f"({where} AND collected_at = max(collected_at) FILTER (WHERE {where}) OVER (PARTITION BY source_id))"
        for where in ("true", REACHED_SQL, DECLARED_SQL)
    )
    return f"SELECT * FROM ({observations}) QUALIFY {latest}"


def current(history: History, db, observations: list[Path], listed: Mapping[Path, FileKey] | None = None) -> Latest | None:
    """The file standing in for most of `observations` (history's usable files), if one can."""
    listed = listed or {}
    made = digests.standing_in(history, db, LATEST, RULE, listed)
    if not made:
        return None
    present = {digests.covered_name(path): (path, identity(path, listed.get(path))) for path in observations}
    first_day = min(filter(None, (day_of(path.parent) for path in observations)), default=None)
    best: Latest | None = None
    for path, covers in made.items():
        gone = {name for name, version in covers.items() if present.get(name, (None, None))[1] != version}
        if any(name in present or not _older(name, first_day) for name in gone):
            continue  # a day it covers was merged again, or is gone from amid history: not the latest of what is left
        found = Latest(path, frozenset(present[name][0] for name in covers.keys() - gone),
                       datetime.combine(first_day, time()) if gone else None)
        if best is None or len(found.covered) > len(best.covered):
            best = found
    return best


def rows(history: History, db, latest: Latest, keys: Mapping[Path, FileKey] | None = None) -> str:
    """The rows of `latest`'s file that stand for the files it covers (SQL)."""
    return _from(history.rows_of(db, LATEST, [latest.file], OBSERVATION_COLUMNS, keys), latest.since)


def refresh(history: History, db, finished: list[Path]) -> None:
    """Make the file stand also for each of `finished` (each finished day's only file) that it
    does not cover and that holds DIGESTED_FROM observations or more, and delete every other
    file of latest/. A smaller day is read raw, as for digests (statusgen/history/digests.py):
    the demo's 90 days of 11 sources would otherwise write the file again at each of its
    92 compactions, and the reads it spares cost less than that."""
    found = current(history, db, finished)
    covered = found.covered if found is not None else frozenset()
    new = digests.large_enough(history, db, [path for path in finished if path not in covered])
    target = found.file if found is not None else None
    if new:
        # One scan of the files and the file that is, not a union of two: DuckDB then finds the
        # windowed maxima by a GROUP BY and a join (a day of 1,000 sources: 23 ms of CPU, 115
        # through a union). Every day in `new` is one of those left: the filter keeps them whole.
        files = [*_holding(history, db, new), *([found.file] if found is not None else [])]
        together = _from(select(db, files, OBSERVATION_COLUMNS, history.files), found.since if found is not None else None)
        db.execute(f"CREATE OR REPLACE TEMP TABLE latest AS {latest_rows(together)} ORDER BY source_id, collected_at")
        target = digests.write_standing_in(history, db, LATEST, OBSERVATION_COLUMNS, "latest", [*covered, *new], RULE)
    digests.keep_only(history, LATEST, target)


def _from(observations: str, since: datetime | None) -> str:
    """Of `observations` (SQL), those of the days from `since` on."""
    return observations if since is None else f"SELECT * FROM ({observations}) WHERE collected_at >= TIMESTAMP '{since.isoformat()}'"


def _holding(history: History, db, new: list[Path]) -> list[Path]:
    """Of `new`, the files that hold one of a source's latest among them. Most hold none, as
    most sources are collected every day; found by a pass that reads only the columns the
    latest are found by, and the files that hold them are then read whole. At the first
    compaction of 90 days (bench/history_scale.py's), 1.0 s of CPU against 2.0 for reading
    every day whole."""
    if len(new) == 1:
        return new
    found = db.execute(f"SELECT DISTINCT file FROM ({latest_rows(select(db, new, OBSERVATION_COLUMNS, history.files, with_file=True))})")
    return [Path(file) for (file,) in found.fetchall()]


def _older(name: str, first_day: date | None) -> bool:
    """Whether the file `name`d (as digests.covered_name gives it) is of a day before `first_day`."""
    day = day_of(Path(name).parent)
    return day is not None and first_day is not None and day < first_day
