"""A finished day's digests, and the one file of every source's latest observations, stand in
for the observations: what a snapshot answers must be what the observations say, whether a day
is read through them or raw."""

import json
import random
import shutil
from dataclasses import replace
from datetime import timedelta

import duckdb
import pytest

from statusgen.history import SCHEMA_VERSION, VERSION_KEY, History, digests, latest, reachability_changes
from statusgen.records import Observation, Run
from statusgen.status import RunState
from tests.conftest import utc

SOURCES = ("a", "b", "c", "d")
pytestmark = pytest.mark.usefixtures("every_day_digested")


def _history(root, seed):
    """Four days of collections about every two hours: failed ones, promises declared or not,
    schedules reported or not, and now and then two collections at one instant."""
    rng = random.Random(seed)
    history = History(root)
    at = utc(2026, 3, 1)
    n = 0
    while at < utc(2026, 3, 4, 12):
        seen, ran = [], []
        for source in SOURCES:
            if rng.random() < 0.2:
                continue  # not in this collection
            # After the first two days "b" is not reached, "c" declares no promise and "d" is
            # not collected: their latest of those is in a compacted day. "d" is never reached.
            if source == "d" and at >= utc(2026, 3, 3):
                continue
            failed = rng.random() < 0.3 or source == "d" or (source == "b" and at >= utc(2026, 3, 3))
            declared = rng.random() < 0.5 and source != "d" and not (source == "c" and at >= utc(2026, 3, 3))
            scheduled = not failed and rng.random() < 0.5
            seen.append(Observation(source, f"c{n}", at, RunState.SUCCESS, at - timedelta(minutes=5),
                                    "HTTP 503" if failed else None, None, rng.randrange(400),
                                    warn_after_s=rng.choice([3600, 7200]) if declared else None,
                                    error_after_s=rng.choice([None, 14400]) if declared else None,
                                    schedule_cron=rng.choice(["0 * * * *", "30 6 * * *"]) if scheduled else None,
                                    schedule_timezone="UTC" if scheduled else None))
            ran.append(Run(source, f"r{n}", RunState.SUCCESS, at - timedelta(minutes=rng.randrange(1, 30)), at))
        history.append(f"c{n}", at, ran, seen)
        if rng.random() < 0.2:  # another collection at the same instant, which saw the same with other words
            history.append(f"c{n}-again", at, [], [replace(o, collection_id=f"c{n}-again", message="again") for o in seen])
        n += 1
        at += timedelta(minutes=rng.choice([60, 120, 180]))
    return history


def _reachability(root):
    """The changes of reachability that the timeline reads (statusgen/timeline/)."""
    snapshot = History(root).open()
    try:
        return snapshot.db.execute(f"SELECT * FROM ({reachability_changes('SELECT * FROM reachability')}) ORDER BY ALL").fetchall()
    finally:
        snapshot.close()


def _reads(root):
    """What every reader of the observations but the timeline asks (through the view `latest`)."""
    snapshot = History(root).open()
    try:
        return (snapshot.source_facts(), snapshot.declared_promises(), snapshot.latest_observations(), snapshot.last_collected_at())
    finally:
        snapshot.close()


def _raw_reads(root, tmp_path):
    """_reads of a copy of the history without the latest file: every day read raw."""
    copy = tmp_path / "raw"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("latest"))
    return _reads(copy)


def _latest_files(root):
    return sorted(p.relative_to(root / "latest").as_posix() for p in (root / "latest").rglob("*.parquet"))


def _rows(path):
    return duckdb.sql(f"SELECT * FROM read_parquet('{path}', hive_partitioning = false) ORDER BY ALL").fetchall()


def _count(root, view):
    snapshot = History(root).open()
    try:
        return snapshot.db.execute(f"SELECT count(*) FROM {view}").fetchone()[0]
    finally:
        snapshot.close()


@pytest.mark.parametrize("seed", range(4))
def test_compacted_days_read_through_their_digests_and_the_latest_file_answer_as_their_observations(tmp_path, seed):
    history = _history(tmp_path / "history", seed)
    raw = (_reachability(history.root), _reads(history.root))
    history.compact(utc(2026, 3, 4, 12))
    assert sorted(p.parent.name for p in (history.root / "reachability").rglob("*.parquet")) == ["date=2026-03-01", "date=2026-03-02", "date=2026-03-03"]
    (made,) = _latest_files(history.root)  # one, beside the newest finished day
    assert made.startswith("date=2026-03-03/")
    for view in ("reachability", "latest"):
        assert _count(history.root, view) < _count(history.root, "observations")
    assert (_reachability(history.root), _reads(history.root)) == raw


@pytest.mark.parametrize("seed", range(3))
def test_the_latest_file_grown_a_day_at_a_time_is_the_one_made_at_once(tmp_path, seed):
    history = _history(tmp_path / "history", seed)
    raw = _reads(history.root)
    for day in (2, 3, 4):
        History(history.root).compact(utc(2026, 3, day, 12))
        assert len(_latest_files(history.root)) == 1
        assert _reads(history.root) == raw
    (grown,) = (history.root / "latest").rglob("*.parquet")
    grown_rows = _rows(grown)
    shutil.rmtree(history.root / "latest")
    History(history.root).compact(utc(2026, 3, 4, 12))
    (made,) = (history.root / "latest").rglob("*.parquet")
    assert _rows(made) == grown_rows


def test_days_dropped_by_retention_leave_the_latest_file_the_latest_of_the_days_left(tmp_path):
    """As in a history pulled from S3, which starts at the page's first day."""
    history = _history(tmp_path / "history", 1)
    now = utc(2026, 3, 4, 12)
    history.compact(now)
    assert history.apply_retention(now, retention_days=1) == [utc(2026, 3, 1).date(), utc(2026, 3, 2).date()]
    assert _latest_files(history.root)  # it sits beside the newest finished day, which is kept
    assert "d" not in _reads(history.root)[2]  # "d" was collected on the days dropped only
    assert _reads(history.root) == _raw_reads(history.root, tmp_path)
    History(history.root).compact(now)  # nothing new to cover: the file is kept as it is
    assert _reads(history.root) == _raw_reads(history.root, tmp_path)


def test_a_covered_day_written_again_is_read_raw_until_the_latest_file_covers_it_again(tmp_path):
    history = _history(tmp_path / "history", 2)
    now = utc(2026, 3, 4, 12)
    history.compact(now)
    late = utc(2026, 3, 2, 23, 59)  # "d" is collected no more after this day
    history.append("late", late, [], [Observation("d", "late", late, RunState.SUCCESS, late, None, "backfilled", 1)])
    assert _reads(history.root)[2]["d"].collection_id == "late"  # its part is read raw beside the file
    assert _reads(history.root) == _raw_reads(history.root, tmp_path)
    History(history.root).compact(now)  # merges the day into a file the latest file did not cover
    assert _reads(history.root)[2]["d"].collection_id == "late"
    assert _reads(history.root) == _raw_reads(history.root, tmp_path)


@pytest.mark.parametrize("change", ["gone", "rewritten"])
def test_a_covered_day_gone_from_amid_history_or_rewritten_leaves_the_latest_file_unread(tmp_path, change):
    history = _history(tmp_path / "history", 3)
    history.compact(utc(2026, 3, 4, 12))
    day = history.root / "observations" / "date=2026-03-02"  # "d"'s latest was in it
    if change == "gone":
        shutil.rmtree(day)
    else:  # as a restore from a backup might: the same file's name, without "d"
        (path,) = day.glob("*.parquet")
        rewritten = tmp_path / path.name
        duckdb.sql(f"COPY (SELECT * FROM '{path}' WHERE source_id <> 'd') TO '{rewritten}' (FORMAT parquet, KV_METADATA {{'{VERSION_KEY}': '{SCHEMA_VERSION}'}})")
        shutil.move(rewritten, path)
    assert _reads(history.root) == _raw_reads(history.root, tmp_path)


def test_a_latest_file_of_another_rule_or_of_no_statusgen_is_not_read_and_is_replaced(tmp_path, monkeypatch):
    history = _history(tmp_path / "history", 4)
    raw = _reads(history.root)
    now = utc(2026, 3, 4, 12)
    with monkeypatch.context() as patched:  # as the one file a day of statusgen before 2026-12 would look
        patched.setattr(latest, "RULE", "1")
        patched.setattr(latest, "latest_rows", lambda rows: f"SELECT * FROM ({rows}) WHERE false")
        History(history.root).compact(now)
    (older,) = (history.root / "latest").rglob("*.parquet")
    for day in ("date=2026-03-01", "date=2026-03-02"):
        (history.root / "latest" / day).mkdir()
        shutil.copy(older, history.root / "latest" / day / older.name)
    foreign = history.root / "latest" / "date=2026-03-01" / "part-foreign.parquet"
    duckdb.sql(f"COPY (SELECT 1 AS x) TO '{foreign}' (FORMAT parquet, KV_METADATA {{'statusgen.rule': '{latest.RULE}', 'statusgen.made_from': 'not JSON'}})")
    assert _reads(history.root) == raw
    History(history.root).compact(now)
    (made,) = _latest_files(history.root)
    assert made.startswith("date=2026-03-03/") and _rows(history.root / "latest" / made)
    assert _reads(history.root) == raw


def test_a_digest_made_by_another_rule_is_not_read_and_is_made_again(tmp_path, monkeypatch):
    history = _history(tmp_path / "history", 5)
    raw = _reachability(history.root)
    now = utc(2026, 3, 4, 12)
    older = replace(digests.REACHABILITY_DIGEST, rule="0", kept=lambda rows: f"SELECT * FROM ({rows}) WHERE false")
    with monkeypatch.context() as patched:
        patched.setattr(digests, "DIGESTS", (older,))
        History(history.root).compact(now)
    assert _reachability(history.root) == raw  # its days read raw
    History(history.root).compact(now)
    made = next((history.root / "reachability" / "date=2026-03-02").glob("*.parquet"))
    assert History(history.root).open().db.execute(f"SELECT count(*) FROM '{made}'").fetchone()[0] > 0
    assert _reachability(history.root) == raw


def _day_sizes(root):
    """The observations of each day, by its folder's name."""
    rows = duckdb.sql(f"SELECT parse_path(filename)[-2], count(*) FROM read_parquet('{root}/observations/*/*.parquet', filename = true) GROUP BY ALL")
    return dict(rows.fetchall())


@pytest.mark.parametrize("seed", range(2))
def test_only_days_of_at_least_digested_from_observations_get_digests(tmp_path, seed, monkeypatch):
    history = _history(tmp_path / "history", seed)
    raw = _reachability(history.root)
    sizes = _day_sizes(history.root)
    finished = sorted(day for day in sizes if day < "date=2026-03-04")
    threshold = sorted(sizes[day] for day in finished)[1]  # the smallest finished day is read raw, the others are digested
    monkeypatch.setattr(digests, "DIGESTED_FROM", threshold)
    reads = _reads(history.root)
    history.compact(utc(2026, 3, 4, 12))
    digested = [d for d in finished if sizes[d] >= threshold]
    assert sorted(p.parent.name for p in (history.root / "reachability").rglob("*.parquet")) == digested
    (made,) = (history.root / "latest").rglob("*.parquet")
    covers = duckdb.sql(f"SELECT decode(value) FROM parquet_kv_metadata('{made}') WHERE decode(key) = 'statusgen.made_from'").fetchall()[0][0]
    assert sorted(name.split("/")[0] for name in json.loads(covers)) == digested
    assert _reachability(history.root) == raw
    assert _reads(history.root) == reads


def test_a_day_too_small_for_digests_keeps_a_current_one_and_loses_any_other(tmp_path, monkeypatch):
    history = _history(tmp_path / "history", 5)
    raw = _reachability(history.root)
    now = utc(2026, 3, 4, 12)
    History(history.root).compact(now)
    monkeypatch.setattr(digests, "DIGESTED_FROM", max(_day_sizes(history.root).values()) + 1)
    History(history.root).compact(now)
    assert len(list((history.root / "reachability").rglob("*.parquet"))) == 3  # current: still read, and as right
    assert _reachability(history.root) == raw
    monkeypatch.setattr(digests, "DIGESTS", (replace(digests.REACHABILITY_DIGEST, rule="0"),))
    History(history.root).compact(now)
    assert list((history.root / "reachability").rglob("*.parquet")) == []  # made by another rule: never read again
    assert _reachability(history.root) == raw


@pytest.mark.parametrize("seed", range(4))
def test_a_days_reachability_digest_has_the_changes_of_its_observations(tmp_path, seed):
    """Made from a few of the day's rows (digests._around_changes), yet exactly the changes
    that reachability_changes finds in all of them: sources reached all day, never, from some
    instant on, and two collections at one instant."""
    history = _history(tmp_path / "history", seed)
    history.compact(utc(2026, 3, 4, 12))
    db = duckdb.connect()
    for day in ("date=2026-03-01", "date=2026-03-02", "date=2026-03-03"):
        (observations,) = (history.root / "observations" / day).glob("*.parquet")
        (made,) = (history.root / "reachability" / day).glob("*.parquet")
        seen = digests.REACHABILITY_DIGEST.seen(f"SELECT * FROM '{observations}'")
        changes = db.execute(f"SELECT * FROM ({reachability_changes(seen)}) ORDER BY ALL").fetchall()
        assert db.execute(f"SELECT * FROM read_parquet('{made}', hive_partitioning = false) ORDER BY ALL").fetchall() == changes
        collected = db.execute(f"SELECT DISTINCT source_id FROM ({seen})").fetchall()
        assert {source for source, _, _ in changes} == {source for (source,) in collected}  # the first of each is a change
