"""A finished day's digests stand in for its observations: what a snapshot answers must be
what the observations say, whether a day is read through its digests or raw."""

import random
from dataclasses import replace
from datetime import timedelta

import duckdb
import pytest

from statusgen.history import History, digests, reachability_changes
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


def _reads(root):
    snapshot = History(root).open()
    try:
        return (snapshot.source_facts(), snapshot.declared_promises(), snapshot.latest_observations(), snapshot.last_collected_at())
    finally:
        snapshot.close()


def _count(root, view):
    snapshot = History(root).open()
    try:
        return snapshot.db.execute(f"SELECT count(*) FROM {view}").fetchone()[0]
    finally:
        snapshot.close()


@pytest.mark.parametrize("seed", range(4))
def test_compacted_days_read_through_their_latest_digests_answer_as_their_observations(tmp_path, seed):
    history = _history(tmp_path / "history", seed)
    raw = _reads(history.root)
    now = utc(2026, 3, 4, 12)
    history.compact(now)
    assert sorted(p.parent.name for p in (history.root / "latest").rglob("*.parquet")) == ["date=2026-03-01", "date=2026-03-02", "date=2026-03-03"]
    assert _count(history.root, "latest") < _count(history.root, "observations")
    assert _reads(history.root) == raw


def test_a_digest_made_by_another_rule_is_not_read_and_is_made_again(tmp_path, monkeypatch):
    history = _history(tmp_path / "history", 5)
    raw = _reads(history.root)
    now = utc(2026, 3, 4, 12)
    older = replace(digests.LATEST_DIGEST, rule="0", kept=lambda rows: f"SELECT * FROM ({rows}) WHERE false")
    with monkeypatch.context() as patched:
        patched.setattr(digests, "DIGESTS", (digests.REACHABILITY_DIGEST, older))
        History(history.root).compact(now)
    assert _reads(history.root) == raw  # its days read raw
    History(history.root).compact(now)
    made = next((history.root / "latest" / "date=2026-03-02").glob("*.parquet"))
    assert History(history.root).open().db.execute(f"SELECT count(*) FROM '{made}'").fetchone()[0] > 0
    assert _reads(history.root) == raw


def _day_sizes(root):
    """The observations of each day, by its folder's name."""
    rows = duckdb.sql(f"SELECT parse_path(filename)[-2], count(*) FROM read_parquet('{root}/observations/*/*.parquet', filename = true) GROUP BY ALL")
    return dict(rows.fetchall())


@pytest.mark.parametrize("seed", range(2))
def test_only_days_of_at_least_digested_from_observations_get_digests(tmp_path, seed, monkeypatch):
    history = _history(tmp_path / "history", seed)
    raw = _reads(history.root)
    sizes = _day_sizes(history.root)
    finished = sorted(day for day in sizes if day < "date=2026-03-04")
    threshold = sorted(sizes[day] for day in finished)[1]  # the smallest finished day is read raw, the others are digested
    monkeypatch.setattr(digests, "DIGESTED_FROM", threshold)
    history.compact(utc(2026, 3, 4, 12))
    for digest in ("latest", "reachability"):
        assert sorted(p.parent.name for p in (history.root / digest).rglob("*.parquet")) == [d for d in finished if sizes[d] >= threshold]
    assert _reads(history.root) == raw


def test_a_day_too_small_for_digests_loses_those_it_cannot_use(tmp_path, monkeypatch):
    history = _history(tmp_path / "history", 5)
    raw = _reads(history.root)
    now = utc(2026, 3, 4, 12)
    older = replace(digests.LATEST_DIGEST, rule="0")
    with monkeypatch.context() as patched:
        patched.setattr(digests, "DIGESTS", (digests.REACHABILITY_DIGEST, older))
        History(history.root).compact(now)
    monkeypatch.setattr(digests, "DIGESTED_FROM", max(_day_sizes(history.root).values()) + 1)
    History(history.root).compact(now)
    assert list((history.root / "latest").rglob("*.parquet")) == []  # made by another rule: never read again
    assert len(list((history.root / "reachability").rglob("*.parquet"))) == 3  # current: still read, and as right
    assert _reads(history.root) == raw


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
