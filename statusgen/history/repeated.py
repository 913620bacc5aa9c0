"""The runs seen on more than one of history's finished days, in one file, so that reading the
runs as their newest sightings saw them (schema.runs_as_seen) sorts only those runs and the
runs of the files the file does not cover, instead of counting every run's sightings first.

A compacted day holds each run once, so a run seen more than once is either in a file of
several sightings (a day still in parts) or in two days. Counting every run's sightings was the
dearest step of reading the runs: a GROUP BY of 2.2 M keys at 1,000 sources × 90 days.

The file names each runs file it covers, at its version. The runs it holds are those seen in
two or more of them; a covered file gone since (retention, or a history pulled from S3 that
starts later) leaves runs in it that may now be seen once, which costs a sort and changes
nothing. A covered file rewritten since is not covered: a reader counts its runs among the
uncovered files', which may repeat anything. Each compaction adds the days it finished.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from statusgen.history import digests
from statusgen.history.layout import REPEATED
from statusgen.history.parquet import FileKey, identity, select

if TYPE_CHECKING:
    from statusgen.history.store import History

RULE = "1"  # changed whenever what the file keeps changes, so that an older one is made again
COLUMNS = {"source_id": "VARCHAR", "run_id": "VARCHAR"}  # also the runs' columns it reads


@dataclass(frozen=True)
class Repeated:
    file: Path
    covered: frozenset[Path]  # the runs files it stands for


def current(history: History, db, runs: list[Path], listed: Mapping[Path, FileKey] | None = None) -> Repeated | None:
    """The file that covers the most of `runs` (history's usable files), if any covers one."""
    listed = listed or {}
    present = {digests.covered_name(path): (path, identity(path, listed.get(path))) for path in runs}
    best: Repeated | None = None
    for path, covers in digests.standing_in(history, db, REPEATED, RULE, listed).items():
        covered = frozenset(present[name][0] for name, version in covers.items() if present.get(name, (None, None))[1] == version)
        if covered and (best is None or len(covered) > len(best.covered)):
            best = Repeated(path, covered)
    return best


def again(history: History, db, found: Repeated, runs: list[Path], keys: Mapping[Path, FileKey] | None = None) -> str:
    """SQL of (source_id, run_id) holding every run of `runs` seen more than once (and maybe
    others): the file's, and every run of the files it does not cover."""
    uncovered = [path for path in runs if path not in found.covered]
    return (f"SELECT source_id, run_id FROM ({history.rows_of(db, REPEATED, [found.file], COLUMNS, keys)}) "
            f"UNION ALL SELECT source_id, run_id FROM ({select(db, uncovered, COLUMNS, history.files)})")


def refresh(history: History, db, finished: list[Path]) -> None:
    """Make the file cover also each of `finished` (each finished day's only runs file) that it
    does not and that holds DIGESTED_FROM runs or more, and delete every other file of
    repeated/. A smaller day is read as an uncovered one: counting its runs costs less than
    writing the file again (the demo's days hold a few hundred)."""
    found = current(history, db, finished)
    covered = found.covered if found is not None else frozenset()
    new = digests.large_enough(history, db, [path for path in finished if path not in covered])
    target = found.file if found is not None else None
    if new:
        kept = [*covered, *new]
        # A run seen twice among them has a sighting in a new day, or is in the file already:
        # only those runs' sightings are counted, in one scan of the keys of every day, and the
        # runs the file held that are no longer seen twice leave it.
        among = ""
        if found is not None:
            candidates = f"{select(db, new, COLUMNS, history.files)} UNION ALL {history.rows_of(db, REPEATED, [found.file], COLUMNS)}"
            among = f"SEMI JOIN ({candidates}) USING (source_id, run_id)"
        db.execute(f"""
            CREATE OR REPLACE TEMP TABLE repeated AS
            SELECT source_id, run_id FROM ({select(db, kept, COLUMNS, history.files)}) {among}
            GROUP BY ALL HAVING count(*) > 1 ORDER BY source_id, run_id""")
        target = digests.write_standing_in(history, db, REPEATED, COLUMNS, "repeated", kept, RULE)
    digests.keep_only(history, REPEATED, target)
