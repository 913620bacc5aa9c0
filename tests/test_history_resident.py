"""A History keeps the rows of the files it has read: what it answers must be what its files say."""

import threading
from dataclasses import replace
from datetime import timedelta

import pytest

from statusgen import pipeline
from statusgen.history import History
from statusgen.history.parquet import file_key
from statusgen.history.resident import Resident
from statusgen.history.schema import RUN_COLUMNS
from statusgen.records import Observation, Run
from statusgen.status import RunState
from tests.conftest import utc


def _collection(history, at, state=RunState.SUCCESS, collection_id=None):
    collection_id = collection_id or f"c-{at:%d%H}"
    seen = Observation("a", collection_id, at, state, at, None, None, 3)
    history.append(collection_id, at, [Run("a", f"r-{at:%d%H}", state, at, at)], [seen])


def _read(history):
    snapshot = history.open()
    try:
        return (sorted(snapshot.db.execute("SELECT run_id, state, collected_at FROM runs").fetchall()),
                sorted(snapshot.db.execute("SELECT * FROM reachability").fetchall()),
                sorted(snapshot.db.execute("SELECT * FROM latest").fetchall()),
                snapshot.source_facts())
    finally:
        snapshot.close()


def _files(history):
    return {p for p in history.root.rglob("*.parquet") if "cache" not in p.parts}


def test_rows_kept_follow_appends_compaction_and_retention(tmp_path):
    kept = History(tmp_path / "history")
    for hour in range(0, 48, 6):
        _collection(kept, utc(2026, 11, 20) + timedelta(hours=hour), RunState.FAILED if hour < 24 else RunState.SUCCESS)
        assert _read(kept) == _read(History(kept.root))  # a History that has read nothing yet reads the files
    assert kept.resident.files == _files(kept)
    kept.compact(utc(2026, 11, 22, 1))  # each day's parts become one file, and the day gets its reachability
    assert _read(kept) == _read(History(kept.root))
    assert kept.resident.files == _files(kept)  # the parts' rows left with them
    kept.apply_retention(utc(2026, 11, 22, 1), 1)  # a whole day deleted
    assert _read(kept) == _read(History(kept.root))
    assert kept.resident.files == _files(kept)


def test_a_file_rewritten_in_place_is_read_again(tmp_path):
    history = History(tmp_path / "history")
    at = utc(2026, 11, 22, 6)
    _collection(history, at, RunState.FAILED, collection_id="c1")
    assert _read(history)[0] == [("r-2206", "failed", at.replace(tzinfo=None))]
    _collection(history, at, RunState.SUCCESS, collection_id="c1")  # the same part's path, renamed over the first
    assert _read(history) == _read(History(history.root))
    assert _read(history)[0] == [("r-2206", "success", at.replace(tzinfo=None))]


def test_a_history_past_the_row_budget_is_read_from_its_files(tmp_path):
    small = History(tmp_path / "history")
    small.resident = Resident(budget=0)  # no file fits: not even what this History writes
    for hour in (0, 6):
        _collection(small, utc(2026, 11, 22, hour))
    assert len(_read(small)[0]) == 2
    assert small.resident.files == set()


def test_a_snapshot_reads_the_rows_of_the_files_it_listed_and_no_others(tmp_path):
    """Files held but not listed (written since, by another thread) lie between those listed,
    and before and after them: none of their rows is read."""
    history = History(tmp_path / "history")
    for hour in range(0, 30, 6):
        _collection(history, utc(2026, 11, 22) + timedelta(hours=hour))
    parts = sorted((history.root / "runs").rglob("*.parquet"))
    assert history.resident.files >= set(parts)
    db = history.database.connect()
    for listed in ([parts[1], parts[3]], [parts[0], parts[2], parts[4]], [parts[2]], parts):
        relation = history.resident.relation(db, "runs", listed, RUN_COLUMNS, history.files)
        read = sorted(db.execute(f"SELECT run_id FROM ({relation})").fetchall())
        assert read == sorted(db.execute(f"SELECT run_id FROM read_parquet({[str(p) for p in listed]})").fetchall())


def test_threads_sharing_a_history_read_it_whole(tmp_path):
    at = utc(2026, 11, 20)
    for hour in range(0, 48, 6):
        _collection(History(tmp_path / "history"), at + timedelta(hours=hour))
    expected = _read(History(tmp_path / "history"))
    shared = History(tmp_path / "history")  # nothing read yet: the threads race to load the same rows
    found, errors = [], []

    def read():
        try:
            found.append(_read(shared))
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and found == [expected] * 8


@pytest.mark.usefixtures("every_day_digested")
def test_what_a_history_writes_is_held_as_its_file_reads(tmp_path):
    writer = History(tmp_path / "history")
    for hour in (0, 6):
        _collection(writer, utc(2026, 11, 22, hour))
    assert writer.resident.files == _files(writer)  # held as written, before any snapshot read them
    assert _read(writer) == _read(History(writer.root))
    writer.compact(utc(2026, 11, 23, 1))  # merged parts and the day's digests, written by compaction
    merged = {p for p in _files(writer) if p.name.endswith("--compacted.parquet")}
    assert len(merged) == 5 and merged <= writer.resident.files  # runs, observations, reachability, latest, repeated
    assert _read(writer) == _read(History(writer.root))


def _held_rows(history, kind):
    return sorted(history.database.connect().execute(f"SELECT * EXCLUDE (file) FROM resident_{kind}").fetchall())


def _file_rows(history, kind):
    files = [str(p) for p in _files(history) if p.parts[-3] == kind]
    return sorted(history.database.connect().execute(f"SELECT * FROM read_parquet({files}, hive_partitioning = false)").fetchall())


def test_a_merged_day_is_held_as_its_parts_rows_and_they_stay_when_the_parts_go(tmp_path):
    history = History(tmp_path / "history")
    for hour in (0, 6, 12):
        _collection(history, utc(2026, 11, 22, hour))
    loaded = history.resident._next_id
    history.compact(utc(2026, 11, 23, 1))
    assert history.resident._next_id is loaded and next(loaded) == 6  # nothing loaded: 3 parts of 2 datasets before
    for kind in ("runs", "observations"):
        assert _held_rows(history, kind) == _file_rows(history, kind)
    assert _read(history) == _read(History(history.root))  # the parts are gone: the merged file reads the same
    for kind in ("runs", "observations"):
        assert _held_rows(history, kind) == _file_rows(history, kind)  # none of the parts' rows was lost or left twice
    history.apply_retention(utc(2026, 11, 30, 1), 1)  # the merged day goes: so do the rows it shared
    _collection(history, utc(2026, 11, 30, 2))
    assert _read(history) == _read(History(history.root))
    for kind in ("runs", "observations"):
        assert _held_rows(history, kind) == _file_rows(history, kind)


def test_a_file_renamed_over_one_of_those_it_stands_for_keeps_their_rows(tmp_path):
    """Held as the rows of files, one of which it replaces at the same path: those rows stay
    once, and go when the file that holds them goes."""
    history = History(tmp_path / "history")
    for hour in (0, 6):
        _collection(history, utc(2026, 11, 22, hour))
    first, second = sorted((history.root / "runs").rglob("*.parquet"))
    db = history.database.connect()
    db.execute(f"COPY (SELECT * FROM read_parquet(['{first}', '{second}'], hive_partitioning = false)) TO '{tmp_path / 'merged.parquet'}' (FORMAT parquet)")
    (tmp_path / "merged.parquet").replace(first)
    assert history.resident.alias(db, "runs", file_key(first), [first, second])
    second.unlink()
    assert _read(history) == _read(History(history.root))
    assert _held_rows(history, "runs") == _file_rows(history, "runs")
    first.unlink()
    assert _read(history)[0] == [] and _held_rows(history, "runs") == []


def test_runs_new_to_what_a_snapshot_read_keep_the_runs_held_known_seen_once(tmp_path):
    history = History(tmp_path / "history")
    _collection(history, utc(2026, 11, 22, 0))
    for hour in (6, 12):
        snapshot = history.open()  # checks the runs held once, and knows them since
        read = snapshot.runs_read
        snapshot.close()
        at = utc(2026, 11, 22, hour)
        history.append(f"c{hour}", at, [Run("a", f"r{hour}", RunState.SUCCESS, at, at)], [Observation("a", f"c{hour}", at, None, None, None, None, 3)],
                       new_to=read)
    snapshot = history.open()
    assert history.resident.distinct("runs", snapshot.runs_read)  # known without a look
    snapshot.close()
    history.compact(utc(2026, 11, 23, 1))  # the day merged as the parts' rows: still known
    snapshot = history.open()
    assert history.resident.distinct("runs", snapshot.runs_read)
    snapshot.close()
    assert _read(history) == _read(History(history.root))


def test_runs_written_by_two_collections_that_read_the_same_history_are_looked_at_again(tmp_path):
    """Each is new to what it read, but not to what the other wrote meanwhile: the second
    leaves the runs held unknown, and the next snapshot finds the run seen twice."""
    history = History(tmp_path / "history")
    _collection(history, utc(2026, 11, 22, 0))
    first, second = history.open(), history.open()
    for snapshot, hour, state in ((first, 6, RunState.FAILED), (second, 7, RunState.SUCCESS)):
        at = utc(2026, 11, 22, hour)
        history.append(f"c{hour}", at, [Run("a", "again", state, at, at)], [Observation("a", f"c{hour}", at, None, None, None, None, 3)],
                       new_to=snapshot.runs_read)
    first.close()
    second.close()
    snapshot = history.open()
    assert not history.resident.distinct("runs", snapshot.runs_read)
    assert snapshot.db.execute("SELECT state FROM runs WHERE run_id = 'again'").fetchall() == [("success",)]
    snapshot.close()
    assert _read(history) == _read(History(history.root))


def test_a_collection_says_its_runs_are_new_only_when_history_never_saw_them(tmp_path):
    history = History(tmp_path / "history")
    at = utc(2026, 11, 22, 6)
    history.append("c0", at, [Run("a", "r1", RunState.RUNNING, at)], [Observation("a", "c0", at, None, None, None, None, 3)])
    snapshot = history.open()
    later = utc(2026, 11, 22, 7)
    finished, fresh = Run("a", "r1", RunState.SUCCESS, at, later), Run("a", "r2", RunState.SUCCESS, at, later)
    try:
        assert pipeline._not_held(snapshot, [fresh], later) == ([fresh], True)
        assert pipeline._not_held(snapshot, [Run("a", "r1", RunState.RUNNING, at), fresh], later) == ([fresh], True)  # held as it is
        assert pipeline._not_held(snapshot, [finished, fresh], later) == ([finished, fresh], False)  # r1 seen before, then running
        assert pipeline._not_held(snapshot, [fresh, replace(fresh, rows_loaded=3)], later)[1] is False  # seen twice now
        assert pipeline._not_held(snapshot, [fresh], at)[1] is False  # ends after the collection
    finally:
        snapshot.close()
