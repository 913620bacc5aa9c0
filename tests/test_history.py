"""The Parquet history: atomic appends, newest sighting wins, versions, compaction, retention."""

import errno
import json
import os
from dataclasses import fields, replace
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from statusgen.errors import HistoryError
from statusgen.history import COMPACTED_KEY, SCHEMA_VERSION, VERSION_KEY, History, digests
from statusgen.history.parquet import same_columns
from statusgen.history.resident import Resident
from statusgen.records import Observation, Run
from statusgen.status import RunState
from tests.conftest import stored_runs, utc


def obs(source, at):
    return Observation(source, f"c-{at:%d%H}", at, RunState.SUCCESS, at, None, None, 3)


@pytest.fixture
def history(tmp_path):
    return History(tmp_path / "history")


def test_append_writes_one_file_per_dataset_partitioned_by_day(history):
    at = utc(2026, 11, 22, 6)
    history.append("c1", at, [Run("a", "r1", RunState.SUCCESS, at - timedelta(minutes=5), at, rows_loaded=12)], [obs("a", at)])
    assert sorted(p.relative_to(history.root).as_posix() for p in history.root.rglob("*.parquet")) == [
        "observations/date=2026-11-22/part-c1.parquet",
        "runs/date=2026-11-22/part-c1.parquet",
    ]
    snapshot = history.open()
    assert snapshot.db.execute("SELECT source_id, run_id, state, rows_loaded FROM runs").fetchall() == [("a", "r1", "success", 12)]
    facts = snapshot.source_facts()["a"]
    assert facts.latest_state == "success" and facts.last_success_at == at and facts.last_collected_at == at
    kv = duckdb.sql(f"SELECT key, value FROM parquet_kv_metadata('{history.root}/runs/date=2026-11-22/part-c1.parquet')").fetchall()
    assert (VERSION_KEY.encode(), str(SCHEMA_VERSION).encode()) in kv


def test_runs_and_observations_are_read_back_as_the_records_written(history):
    at = utc(2026, 11, 22, 6)
    run = Run("a", "r1", RunState.FAILED, at - timedelta(minutes=5), at, "https://ci.example.com/r1", 12, "exit code 1")
    seen = Observation("a", "c1", at, RunState.FAILED, at - timedelta(days=1), None, "late", 40, paused=True,
                       warn_after_s=3600, error_after_s=7200)
    history.append("c1", at, [run], [seen])
    snapshot = history.open()
    assert snapshot.recent_runs(5) == {"a": [run]}
    assert snapshot.latest_observations() == {"a": seen}
    assert snapshot.seen_runs([run, replace(run, message="exit code 2")]) == {("a", "r1"): run}


def test_files_with_other_columns_are_read_by_name_beside_current_ones(history):
    at = utc(2026, 11, 22, 6)
    for n, rows in ((1, 12), (2, 3)):
        history.append(f"c{n}", at + timedelta(hours=n), [Run("a", f"r{n}", RunState.SUCCESS, at, at, rows_loaded=rows)], [obs("a", at)])
    folder = history.root / "runs/date=2026-11-22"
    current = sorted(folder.glob("*.parquet"))
    # As an older statusgen might have written it: no rows_loaded, and its columns in another order.
    duckdb.sql(f"COPY (SELECT 'r0' AS run_id, * EXCLUDE (run_id, rows_loaded) FROM '{current[0]}') TO '{folder}/part-c0.parquet' "
               f"(FORMAT parquet, KV_METADATA {{'{VERSION_KEY}': '{SCHEMA_VERSION}'}})")
    with history.database.connect() as db:
        assert same_columns(db, current)
        assert not same_columns(db, sorted(folder.glob("*.parquet")))
    rows = history.open().db.execute("SELECT run_id, source_id, rows_loaded FROM runs ORDER BY run_id").fetchall()
    assert rows == [("r0", "a", None), ("r1", "a", 12), ("r2", "a", 3)]


def test_reading_a_run_again_keeps_the_newest_sighting(history):
    started = utc(2026, 11, 22, 6)
    history.append("c1", utc(2026, 11, 22, 6, 5), [Run("a", "r1", RunState.RUNNING, started)], [obs("a", utc(2026, 11, 22, 6, 5))])
    history.append("c2", utc(2026, 11, 22, 7), [Run("a", "r1", RunState.FAILED, started, utc(2026, 11, 22, 6, 30))], [obs("a", utc(2026, 11, 22, 7))])
    history.append("c3", utc(2026, 11, 22, 8), [Run("a", "r1", RunState.FAILED, started, utc(2026, 11, 22, 6, 30))], [obs("a", utc(2026, 11, 22, 8))])
    rows = history.open().db.execute("SELECT run_id, state, collected_at FROM runs").fetchall()
    assert rows == [("r1", "failed", datetime(2026, 11, 22, 8))]


def test_the_runs_kept_for_a_render_are_the_runs_read_and_hold_what_readers_read(history):
    history.resident = Resident(budget=0)  # past the budget, runs are read through a view until kept
    history.append("c1", utc(2026, 11, 22, 7), [Run("a", "r1", RunState.SUCCESS, utc(2026, 11, 22, 6), utc(2026, 11, 22, 6, 30))],
                   [obs("a", utc(2026, 11, 22, 7))])
    snapshot = history.open()
    try:
        read = snapshot.db.execute("SELECT * FROM runs")
        columns, rows = [d[0] for d in read.description], read.fetchall()
        snapshot.keep_runs()
        kept = snapshot.db.execute("SELECT * FROM runs")
        assert ([d[0] for d in kept.description], kept.fetchall()) == (columns, rows)
        # At 2 M runs the collection id was 30 MB of a render's peak RSS, and no reader asks for it.
        assert columns == [*(f.name for f in fields(Run)), "collected_at"]
    finally:
        snapshot.close()


@pytest.mark.parametrize("kept", [False, True], ids=["read-for-the-question", "runs-kept"])
def test_a_run_is_seen_as_its_newest_sighting_says(history, kept):
    if not kept:
        history.resident = Resident(budget=0)  # past the budget: not kept when the snapshot opens
    started, ended = utc(2026, 11, 22, 6), utc(2026, 11, 22, 6, 30)
    run = Run("a", "r1", RunState.SUCCESS, started, ended, "https://af/r1", 12)
    history.append("c0", utc(2026, 11, 22, 6, 10), [Run("a", "r1", RunState.RUNNING, started)], [obs("a", utc(2026, 11, 22, 6, 10))])
    history.append("c1", utc(2026, 11, 22, 7), [run, Run("a", "r2", RunState.RUNNING, started)], [obs("a", utc(2026, 11, 22, 7))])
    snapshot = history.open()
    assert snapshot.runs_kept == kept  # a history held in memory is, as a collection reads it
    try:
        collected = [
            run,
            Run("a", "r2", RunState.FAILED, started, ended),  # it has finished since
            Run("a", "r1", RunState.SUCCESS, started, ended, "https://af/r1", 13),  # a count corrected
            Run("b", "r1", RunState.SUCCESS, started, ended),  # another source's run of that id
        ]
        seen = snapshot.seen_runs(collected)
        assert {(r.source_id, r.run_id) for r in collected if seen.get((r.source_id, r.run_id)) == r} == {("a", "r1")}
    finally:
        snapshot.close()


def test_run_links_written_with_credentials_are_read_without_them(history):
    # History written before collection stripped userinfo still holds it; the page reads it too.
    at = utc(2026, 11, 22, 6)
    history.append("c1", at, [Run("a", "r1", RunState.FAILED, ended_at=at, url="http://user:pw@dagster:3000/runs/r1")], [obs("a", at)])
    (run,) = history.open().recent_runs(5)["a"]
    assert run.url == "http://dagster:3000/runs/r1"


def test_a_write_that_fails_leaves_no_file_behind(history, monkeypatch):
    at = utc(2026, 11, 22, 6)
    history.append("c1", at, [], [obs("a", at)])

    def full_disk(fd):  # the file is written, but flushing it to disk fails
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(HistoryError, match="No space left on device"):
        history.append("c2", at, [], [obs("a", at + timedelta(hours=1))])
    assert [p.name for p in history.root.rglob("*") if p.is_file()] == ["part-c1.parquet"]
    assert history.open().db.execute("SELECT count(*) FROM observations").fetchone()[0] == 1


def test_temporary_files_of_a_writer_in_progress_are_invisible(history):
    at = utc(2026, 11, 22, 6)
    history.append("c1", at, [], [obs("a", at)])
    (history.root / "observations/date=2026-11-22/.part-c2.parquet.1234.tmp").write_bytes(b"PAR1 partial")
    snapshot = history.open()
    assert snapshot.warnings == []
    assert snapshot.db.execute("SELECT count(*) FROM observations").fetchone()[0] == 1


def test_foreign_truncated_and_newer_files_are_named_and_skipped(history, tmp_path):
    at = utc(2026, 11, 22, 6)
    history.append("c1", at, [], [obs("a", at)])
    folder = history.root / "observations/date=2026-11-22"
    good = folder / "part-c1.parquet"
    (folder / "notes.txt").write_text("hello")
    (folder / "part-truncated.parquet").write_bytes(good.read_bytes()[:100])
    duckdb.sql(f"COPY (SELECT 1 AS x) TO '{folder}/part-foreign.parquet' (FORMAT parquet)")
    duckdb.sql(f"COPY (SELECT * FROM '{good}') TO '{folder}/part-future.parquet' (FORMAT parquet, KV_METADATA {{'{VERSION_KEY}': '99'}})")
    snapshot = history.open()
    warnings = "\n".join(snapshot.warnings)
    assert f"ignored {folder / 'notes.txt'}: not a statusgen history file" in warnings
    assert f"ignored {folder / 'part-truncated.parquet'}: unreadable Parquet" in warnings
    assert f"ignored {folder / 'part-foreign.parquet'}: no {VERSION_KEY}" in warnings
    assert f"ignored {folder / 'part-future.parquet'}: schema version 99, this statusgen reads up to {SCHEMA_VERSION}" in warnings
    assert snapshot.db.execute("SELECT count(*) FROM observations").fetchone()[0] == 1


def _fill_two_days(history):
    for hour in range(0, 24, 6):
        at = utc(2026, 11, 21, hour)
        history.append(f"c21-{hour:02}", at, [Run("a", "nightly", RunState.SUCCESS, at, at)], [obs("a", at)])
    history.append("c22-00", utc(2026, 11, 22, 0), [], [obs("a", utc(2026, 11, 22, 0))])


def test_compaction_merges_finished_days_and_keeps_every_row(history):
    _fill_two_days(history)
    before = history.open().db.execute("SELECT count(*) FROM observations").fetchone()[0]
    result = history.compact(utc(2026, 11, 22, 1))
    assert result.days == [utc(2026, 11, 21).date()]
    assert (result.files_before, result.files_after) == (8, 2)
    assert len(list((history.root / "observations/date=2026-11-22").glob("*.parquet"))) == 1  # today untouched
    snapshot = history.open()
    assert snapshot.db.execute("SELECT count(*) FROM observations").fetchone()[0] == before
    assert stored_runs(history) == (1, 1)  # duplicates of a run merged
    assert history.compact(utc(2026, 11, 22, 2)).days == []  # nothing left to do


def test_a_crash_between_compacting_and_deleting_counts_nothing_twice(history, monkeypatch):
    _fill_two_days(history)
    monkeypatch.setattr(Path, "unlink", lambda self, missing_ok=False: None)
    history.compact(utc(2026, 11, 22, 1))  # parts "survive", as after a crash
    monkeypatch.undo()
    folder = history.root / "observations/date=2026-11-21"
    assert len(list(folder.glob("part-*.parquet"))) == 5
    compacted = next(folder.glob("*--compacted.parquet"))
    listed = duckdb.sql(f"SELECT value FROM parquet_kv_metadata('{compacted}') WHERE key = '{COMPACTED_KEY}'").fetchall()[0][0]
    assert len(json.loads(listed)) == 4
    assert history.open().db.execute("SELECT count(*) FROM observations").fetchone()[0] == 5
    history.compact(utc(2026, 11, 22, 1))  # the next compaction clears the leftovers
    assert [p.name for p in folder.glob("part-*.parquet")] == [compacted.name]


def test_compaction_removes_what_crashed_writers_left_a_day_ago(history):
    _fill_two_days(history)
    history.compact(utc(2026, 11, 22, 1))
    stale = [history.root / "reachability/date=2026-11-21/.part-x.parquet.1.tmp", history.root / "cache/.timeline.parquet.2.tmp",
             history.root / "observations/date=2026-11-22/.part-y.parquet.3.tmp"]
    fresh = history.root / "runs/date=2026-11-21/.part-z.parquet.4.tmp"
    for path in [*stale, fresh]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"PAR1 partial")
    for path in stale:
        os.utime(path, (utc(2026, 11, 21).timestamp(),) * 2)
    history.compact(utc(2026, 11, 22, 2))
    assert [p for p in [*stale, fresh] if p.exists()] == [fresh]


def test_compaction_visits_again_only_the_days_that_changed(history, monkeypatch):
    _fill_two_days(history)
    history.compact(utc(2026, 11, 22, 1))  # merges the 21st
    history.compact(utc(2026, 11, 22, 1))  # finds it settled
    visited = []
    refresh = digests.refresh
    monkeypatch.setattr(digests, "refresh", lambda h, db, kept: visited.extend(k.parent.name for k in kept) or refresh(h, db, kept))
    assert history.compact(utc(2026, 11, 22, 2)).days == [] and visited == []
    late = utc(2026, 11, 21, 23)  # a backfill: a part in a day already compacted
    history.append("c21-late", late, [], [obs("b", late)])
    assert history.compact(utc(2026, 11, 22, 3)).days == [late.date()] and visited == ["date=2026-11-21"]
    assert len(list((history.root / "observations/date=2026-11-21").glob("*.parquet"))) == 1
    read = "SELECT source_id, collected_at, ok FROM reachability ORDER BY ALL"
    assert history.open().db.execute(read).fetchall() == History(history.root).open().db.execute(read).fetchall()


def test_a_temporary_too_young_to_remove_keeps_its_day_visited_until_it_is_old(history):
    _fill_two_days(history)
    history.compact(utc(2026, 11, 22, 1))
    young = history.root / "runs/date=2026-11-21/.part-z.parquet.4.tmp"
    young.write_bytes(b"PAR1 partial")
    os.utime(young, (utc(2026, 11, 22, 1).timestamp(),) * 2)
    history.compact(utc(2026, 11, 22, 2))
    assert young.exists()  # its writer may still be running
    history.compact(utc(2026, 11, 23, 2))
    assert not young.exists()


@pytest.mark.usefixtures("every_day_digested")
def test_retention_drops_whole_days_past_the_window(history):
    _fill_two_days(history)
    history.compact(utc(2026, 11, 22, 1))
    for digest in ("reachability", "latest"):
        assert [p.name for p in (history.root / digest).iterdir()] == ["date=2026-11-21"]
    assert history.apply_retention(utc(2026, 11, 23, 12), retention_days=1) == [utc(2026, 11, 21).date()]
    assert sorted(p.name for p in (history.root / "observations").iterdir()) == ["date=2026-11-22"]
    for digest in ("reachability", "latest"):
        assert list((history.root / digest).iterdir()) == []


def test_empty_history_reads_as_empty(history):
    snapshot = history.open()
    assert snapshot.source_facts() == {}
    assert snapshot.last_collected_at() is None


def test_writers_move_foreign_and_broken_files_aside_once(history):
    at = utc(2026, 11, 22, 6)
    history.append("c1", at, [], [obs("a", at)])
    folder = history.root / "observations/date=2026-11-22"
    (folder / "notes.txt").write_text("hello")
    (folder / "part-truncated.parquet").write_bytes((folder / "part-c1.parquet").read_bytes()[:100])
    warnings = history.open(move_aside=True).warnings
    assert any(w.startswith(f"moved {folder / 'notes.txt'} aside to {history.root / 'quarantine'}") for w in warnings)
    assert (history.root / "quarantine/observations/date=2026-11-22/part-truncated.parquet").exists()
    assert history.open().warnings == []  # reported once, then out of the way
    assert history.open().db.execute("SELECT count(*) FROM observations").fetchone()[0] == 1


def test_recent_runs_of_one_moment_are_listed_by_run_id(history):
    # Which runs make the list, and their order, must not vary between two renders of one history.
    at = utc(2026, 11, 22, 6)
    ids = [f"r{n:02d}" for n in range(30)]
    for n, chunk in enumerate([ids[20:], ids[:10], ids[10:20]]):
        history.append(f"c{n}", at, [Run("a", i, RunState.SUCCESS, at - timedelta(minutes=5), at) for i in reversed(chunk)], [])
    snapshot = history.open()
    assert [r.run_id for r in snapshot.recent_runs(15)["a"]] == ids[:15]


def test_recent_runs_are_each_sources_latest_however_often_it_runs(history):
    # Sources whose latest runs were all collected lately are read from those alone; each of
    # the others is read whole. Each must list its latest of all.
    last = utc(2026, 11, 22, 6)
    runs = {
        "hourly": [Run("hourly", f"h{n:02d}", RunState.SUCCESS, None, last - timedelta(hours=n)) for n in range(40)],
        "weekly": [Run("weekly", f"w{n:02d}", RunState.FAILED, None, last - timedelta(weeks=n)) for n in range(20)],
        "few": [Run("few", f"f{n:02d}", RunState.SUCCESS, None, last - timedelta(days=n * 4 if n > 4 else n)) for n in range(30)],
    }
    for day in range(140, -1, -1):
        at = last - timedelta(days=day)
        # Each run collected as it ends; the weekly source's old runs listed again today (its
        # system re-reads its last few weeks), with times older than every other run's.
        seen = [r for rs in runs.values() for r in rs if at - timedelta(days=1) < r.ended_at <= at]
        seen += [r for r in runs["weekly"] if day == 0 and r.ended_at < at - timedelta(weeks=7)]
        history.append(f"c{day}", at, seen, [])
    history.compact(last)
    newest = lambda r: (-r.ended_at.timestamp(), r.run_id)  # noqa: E731
    expected = {source: sorted(rs, key=newest)[:15] for source, rs in runs.items()}
    assert history.open().recent_runs(15) == expected


def test_a_paused_source_was_collected_but_its_runs_do_not_decide_its_status(history):
    paused = Observation("a", "c2", utc(2026, 11, 22, 7), RunState.SUCCESS, utc(2026, 11, 22, 5), None,
                         "Paused in Airflow (DAG a)", 3, paused=True)
    history.append("c1", utc(2026, 11, 22, 6), [], [obs("a", utc(2026, 11, 22, 6))])
    history.append("c2", utc(2026, 11, 22, 7), [], [paused])
    for compacted in (False, True):
        if compacted:
            history.compact(utc(2026, 11, 24))
        snapshot = history.open()
        try:
            assert snapshot.source_facts()["a"].last_collected_at == utc(2026, 11, 22, 7)  # the next collection reads from here
            assert snapshot.db.execute("SELECT ok FROM reachability ORDER BY collected_at").fetchall() == [(True,), (False,)]
        finally:
            snapshot.close()
