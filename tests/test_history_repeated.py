"""The file of runs seen on more than one finished day (statusgen/history/repeated.py): runs read
through it must be what counting every run's sightings gives, however the days it covers change."""

import shutil
from datetime import timedelta

import duckdb
import pytest

from statusgen.history import SCHEMA_VERSION, VERSION_KEY, History
from statusgen.history.resident import Resident
from statusgen.records import Run
from statusgen.status import RunState
from tests.conftest import utc

pytestmark = pytest.mark.usefixtures("every_day_digested")
NOW = utc(2026, 3, 6, 12)


def _history(root):
    """Five days of a collection every four hours: most runs seen once, and runs seen again on
    later days: one running then finished, one failed then cleared and run again under its id,
    one listed again every day unchanged, one whose times were reported after its collection."""
    history = History(root)
    at, n = utc(2026, 3, 1), 0
    while at < NOW:
        day = (at - utc(2026, 3, 1)).days
        runs = [Run(source, f"{source}-{n}", RunState.FAILED if n % 7 == 0 else RunState.SUCCESS, at - timedelta(minutes=30),
                    at - timedelta(minutes=5), rows_loaded=n) for source in ("a", "b", "c")]
        started = utc(2026, 3, 1, 23)
        runs.append(Run("a", "overnight", *((RunState.RUNNING, started, None) if day == 0 else (RunState.SUCCESS, started, utc(2026, 3, 2, 1)))))
        if day in (0, 2):  # cleared on the third day: a new start, the same id
            runs.append(Run("b", "cleared", *((RunState.FAILED, utc(2026, 3, 1), utc(2026, 3, 1, 1)) if day == 0
                                             else (RunState.SUCCESS, utc(2026, 3, 3), utc(2026, 3, 3, 1)))))
        runs.append(Run("c", "re-read", RunState.SUCCESS, utc(2026, 3, 1), utc(2026, 3, 1, 1)))
        if day == 3:
            runs.append(Run("c", "early-clock", RunState.SUCCESS, at + timedelta(hours=2), at + timedelta(hours=3)))
        history.append(f"c{n}", at, runs, [])
        at, n = at + timedelta(hours=4), n + 1
    return history


def _runs(root, without_file=False):
    """The runs as a render reads them, from the files (past the budget of rows held in memory)."""
    if without_file:
        shutil.rmtree(root / "repeated", ignore_errors=True)
    history = History(root)
    history.resident = Resident(budget=0)
    snapshot = history.open()
    try:
        snapshot.keep_runs()
        return snapshot.db.execute("SELECT * FROM runs ORDER BY ALL").fetchall()
    finally:
        snapshot.close()


def _raw(root, tmp_path):
    """_runs of a copy without the file: every run's sightings counted."""
    copy = tmp_path / "raw"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy)
    return _runs(copy, without_file=True)


def _repeated(root):
    (path,) = (root / "repeated").rglob("*.parquet")
    return path, duckdb.sql(f"SELECT * FROM read_parquet('{path}', hive_partitioning = false) ORDER BY ALL").fetchall()


def test_runs_read_through_the_file_are_those_counted_from_every_sighting(tmp_path):
    history = _history(tmp_path / "history")
    raw = _runs(history.root)
    history.compact(NOW)
    path, rows = _repeated(history.root)
    assert path.parent.name == "date=2026-03-05"  # beside the newest finished day
    assert rows == [("a", "overnight"), ("b", "cleared"), ("c", "re-read")]
    assert _runs(history.root) == raw
    assert ("b", "cleared", "success") in {r[:3] for r in raw} and ("b", "cleared", "failed") not in {r[:3] for r in raw}


def test_the_file_grown_a_day_at_a_time_is_the_one_made_at_once(tmp_path):
    history = _history(tmp_path / "history")
    raw = _runs(history.root)
    for day in range(2, 7):
        History(history.root).compact(utc(2026, 3, day, 12))
        assert _runs(history.root) == raw
    grown = _repeated(history.root)
    shutil.rmtree(history.root / "repeated")
    History(history.root).compact(NOW)
    assert _repeated(history.root) == grown


def test_runs_of_a_day_merged_again_are_counted_until_the_file_covers_it_again(tmp_path):
    history = _history(tmp_path / "history")
    history.compact(NOW)
    late = utc(2026, 3, 2, 23, 59)  # a collection written late, which saw a run the file does not know as seen twice
    history.append("late", late, [Run("a", "a-25", RunState.FAILED, late - timedelta(minutes=1), late)], [])
    assert _runs(history.root) == _raw(history.root, tmp_path)
    History(history.root).compact(NOW)  # merges the day into a file the repeated file did not cover
    assert _runs(history.root) == _raw(history.root, tmp_path)
    assert ("a", "a-25") in _repeated(history.root)[1]


def test_a_covered_day_rewritten_is_counted_and_one_gone_changes_nothing(tmp_path):
    history = _history(tmp_path / "history")
    history.compact(NOW)
    (path,) = (history.root / "runs" / "date=2026-03-02").glob("*.parquet")
    # As a restore from a backup might: the same file's name, with a sighting of a later day's run.
    rewritten = tmp_path / path.name
    duckdb.sql(f"COPY (SELECT * FROM '{path}' UNION ALL (SELECT * REPLACE ('failed' AS state, TIMESTAMP '2026-03-02 12:00' AS collected_at) "
               f"FROM '{history.root}/runs/date=2026-03-04/*.parquet' WHERE run_id = 'b-20')) "
               f"TO '{rewritten}' (FORMAT parquet, KV_METADATA {{'{VERSION_KEY}': '{SCHEMA_VERSION}'}})")
    shutil.move(rewritten, path)
    assert _runs(history.root) == _raw(history.root, tmp_path)
    assert history.apply_retention(NOW, retention_days=3) == [utc(2026, 3, 1).date(), utc(2026, 3, 2).date()]
    assert _runs(history.root) == _raw(history.root, tmp_path)
