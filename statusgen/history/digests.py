"""What compaction writes beside a finished day of observations, so that readers need not
scan the day's hundreds of thousands of rows: a few rows per source that answer, for that day,
what the timeline asks of the observations.

- reachability: the collections where a source's reachability changed, and its first of
  the day; with days read in order, that is all the timeline's reachability needs.

Every other read of the observations asks for each source's latest, which one file answers
for all finished days (statusgen/history/latest.py).

A digest names the observations file it was made from and the rule that made it, and is
used only while that file is the day's only one and the rule is this statusgen's; otherwise
the day is read raw and the next compaction writes it again. Retention deletes it with its day.
A day of few observations gets none: read raw, it costs readers less than its digests would.
"""

from __future__ import annotations

import contextlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping

from statusgen.history.layout import PARTS, REACHABILITY
from statusgen.history.parquet import FileKey, file_key, file_metadata, identity, row_counts, select
from statusgen.history.schema import (
    MADE_FROM_KEY,
    OBSERVATION_COLUMNS,
    REACHABILITY_COLUMNS,
    RULE_KEY,
    RUNS_DECIDE_SQL,
    VERSION_KEY,
    reachability_changes,
    readable,
    stamped,
)

if TYPE_CHECKING:
    from statusgen.history.store import History


@dataclass(frozen=True, eq=False)  # one of DIGESTS, known by identity
class Digest:
    folder: str  # under the history root, in date= folders as the observations; also its view's name
    columns: dict[str, str]
    # What readers need of observations (SQL of a query of them): read raw for a day without
    # a current digest, and what the digest is made from.
    seen: Callable[[str], str]
    kept: Callable[[str], str]  # the rows of `seen`'s query (SQL) the digest keeps
    rule: str | None  # changed whenever `kept` changes, so that older digests are made again


def _reachability(seen: str) -> str:
    return reachability_changes(_around_changes(seen))


def _around_changes(seen: str) -> str:
    """Of `seen`'s rows (source_id, collected_at, ok), enough that reachability_changes gives
    the same answer: a source's rows before its first unreached instant all reached it, so
    of those only its first row can be a change, and it stands for them all; its rows from
    that instant on are all kept. Most sources are reached all day, or unreached first late
    in it: reachability_changes then sorts a fraction of the day's rows (one of a source
    always reached, where it sorted its 288 at 5 minutes), and sorting them all was most of
    what writing the digests of a day cost."""
    return f"""
        WITH s AS NOT MATERIALIZED ({seen}),
        sources AS (SELECT source_id, min(collected_at) AS first_at, min(collected_at) FILTER (WHERE NOT ok) AS first_unreached FROM s GROUP BY source_id)
        SELECT source_id, first_at AS collected_at, true AS ok FROM sources WHERE first_unreached IS NULL OR first_at < first_unreached
        UNION ALL
        SELECT source_id, collected_at, ok FROM s JOIN sources USING (source_id) WHERE collected_at >= first_unreached"""


# The fewest observations a day has for digests to be worth writing. Below it, reading its rows
# costs a reader less than its digests would: at a few rows per source (the demo keeps 22 a
# day for 11 sources) a digest is about as large as the day, and is another file to write,
# list and check. A full render of 90 days (bench/history_scale.py's, with fewer sources),
# read raw against through digests (then also a latest one a day), in CPU seconds: 1,152
# observations a day 0.50 / 0.58; 2,880 a day 0.61 / 0.65; 5,760 a day 0.94 / 0.65 (no
# longer held in memory).
DIGESTED_FROM = 2_000

# Reachability files were written before digests had rules: none is theirs.
REACHABILITY_DIGEST = Digest(REACHABILITY, REACHABILITY_COLUMNS, lambda rows: f"SELECT source_id, collected_at, {RUNS_DECIDE_SQL} AS ok FROM ({rows})",
                             _reachability, None)
DIGESTS = (REACHABILITY_DIGEST,)


def current(history: History, db, observations: list[Path], listed: Mapping[Path, FileKey] | None = None) -> dict[Digest, dict[Path, Path]]:
    """For each digest, its file standing in for each observations file that has a current one.
    Every snapshot asks (the demo opens 400): each file is looked at once, and not at all
    where `listed` has the version just listed."""
    listed = listed or {}
    by_day: dict[Path, list[Path]] = {}
    for path in observations:
        by_day.setdefault(path.parent, []).append(path)
    alone = [files[0] for files in by_day.values() if len(files) == 1]
    made = {digest: {source: history.layout.digest_of(digest.folder, source) for source in alone} for digest in DIGESTS}
    # A missing, unreadable or outdated one is not history: the day is read raw, the next compaction redoes it.
    metadata = file_metadata(db, [path for paths in made.values() for path in paths.values()], [], history.files, listed)
    made_from: dict[Path, str] = {}
    found: dict[Digest, dict[Path, Path]] = {}
    for digest, paths in made.items():
        found[digest] = {}
        for source, path in paths.items():
            kv = metadata.get(path)
            if kv is None:
                continue
            if source not in made_from:
                made_from[source] = identity(source, listed.get(source))
            if (kv.get(MADE_FROM_KEY) == made_from[source] and kv.get(RULE_KEY) == digest.rule
                    and readable(kv.get(VERSION_KEY))):  # their columns are read as this version's
                found[digest][source] = path
    return found


def refresh(history: History, db, observations: list[Path]) -> None:
    """Give the day of each of `observations`, its only file, a current file of every digest
    if it holds DIGESTED_FROM observations or more, and delete every other digest of the day."""
    found = current(history, db, observations)
    # Only a day missing a current digest is counted: a fresh History would read every footer.
    to_write = large_enough(history, db, [day for day in observations if any(day not in made for made in found.values())])
    large = set(to_write)

    def write(day: Path) -> None:
        with history.database.connect() as session:
            _write(history, session, day, found)
    # Several days at once, each in a session of its own: one day's statements are too small to
    # keep DuckDB's threads busy (288,000 observations: ≈ 55 ms of CPU in ≈ 35 of wall), and the
    # first compaction of a history writes every day's. One day more than there are cores, as
    # each statement's own thread joins DuckDB's; at most four, as each day's statements hold
    # memory of their own (≈ 10 MB at 1,000 sources) under the database's one memory_limit.
    # 89 days on 2 cores, wall: one at a time 4.1–4.4 s, two 3.2–3.4, three 3.1, four 3.0–3.1.
    with ThreadPoolExecutor(max(1, min(len(to_write), (os.cpu_count() or 1) + 1, 4))) as pool:
        list(pool.map(write, to_write))
    for day in observations:
        for digest, made_from in found.items():
            made = history.layout.digest_of(digest.folder, day)
            current_one = day in made_from or day in large
            for stale in made.parent.glob(PARTS):
                if stale != made or not current_one:
                    stale.unlink()


def large_enough(history: History, db, observations: list[Path]) -> list[Path]:
    """Of `observations` (files of days), in order, those of DIGESTED_FROM observations or more."""
    keys = [key for path in observations if (key := file_key(path))]
    return [path for (path, _, _), count in row_counts(db, keys, history.files).items() if count >= DIGESTED_FROM]


def _write(history: History, db, day: Path, found: dict[Digest, dict[Path, Path]]) -> None:
    """Write each digest `day` has no current file of."""
    rows = None
    for digest, made_from in found.items():
        if day not in made_from:
            rows = rows or select(db, [day], OBSERVATION_COLUMNS, history.files)
            db.execute(f"CREATE OR REPLACE TEMP TABLE digest AS {digest.kept(digest.seen(rows))} ORDER BY source_id, collected_at")
            stamp = {MADE_FROM_KEY: identity(day), **({RULE_KEY: digest.rule} if digest.rule else {})}
            history.write(db, digest.folder, digest.columns, "digest", history.layout.digest_of(digest.folder, day), stamped(stamp))


# Files that stand for many finished days' files at once (latest.py, repeated.py): each names
# every file it covers, by its day folder and name and at its version (MADE_FROM_KEY), and the
# rule that made it; compaction keeps one per folder, beside the newest day it covers.

def standing_in(history: History, db, folder: str, rule: str, listed: Mapping[Path, FileKey]) -> dict[Path, dict[str, str]]:
    """Each file of `folder` made by `rule`, with the files it covers: {covered_name: identity}."""
    made = {}
    for path, kv in file_metadata(db, files_of(history, folder), [], history.files, listed).items():
        if kv.get(RULE_KEY) == rule and readable(kv.get(VERSION_KEY)):
            with contextlib.suppress(ValueError):  # not JSON: written by no statusgen
                covers = json.loads(kv.get(MADE_FROM_KEY, "null"))
                if isinstance(covers, dict):
                    made[path] = covers
    return made


def write_standing_in(history: History, db, folder: str, columns: dict[str, str], table: str, covered: list[Path], rule: str) -> Path:
    """Write `table` as `folder`'s file standing for `covered`, beside the newest of them."""
    target = history.layout.digest_of(folder, max(covered, key=covered_name))
    covers = {covered_name(path): identity(path) for path in covered}
    history.write(db, folder, columns, table, target, stamped({MADE_FROM_KEY: json.dumps(covers, sort_keys=True), RULE_KEY: rule}))
    return target


def keep_only(history: History, folder: str, kept: Path | None) -> None:
    """Delete every file of `folder` but `kept`, and the day folders left empty."""
    for path in files_of(history, folder):
        if path != kept:
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # not empty
                path.parent.rmdir()


def files_of(history: History, folder: str) -> list[Path]:
    return [path for day in history.listing.walk(history.layout.dataset(folder)) for path in day.files if history.layout.is_part(folder, path)]


def covered_name(path: Path) -> str:
    """A file as the files standing in for it name it: its day folder, then its name (date=
    names sort as their days). From the string: every snapshot names every file."""
    return "/".join(str(path).rsplit(os.sep, 2)[-2:])
