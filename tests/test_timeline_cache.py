"""The timeline cache: a render that starts from the cached state at the cutoff draws exactly
the bars a render from all of history draws, and a source whose past changed is recomputed."""

import random
import shutil
from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

import duckdb
import pytest
from click.testing import CliRunner

from statusgen.cli import main
from statusgen.history import History, aware_utc
from statusgen.records import Observation, Run
from statusgen.status import Freshness, RunState
from statusgen.timeline import ParquetCache, Timeline, Window
from tests.conftest import assert_same_site, utc

H = timedelta(hours=1)
PROMISES = {"a": Freshness(warn_after=3 * H, error_after=8 * H), "b": Freshness(error_after=5 * H), "c": Freshness()}
START = utc(2026, 3, 1)


@pytest.fixture
def history(tmp_path):
    return History(tmp_path / "history")


def collect(history, rng, start, end):
    """Collections every hour; runs of a random state end now and then, and a
    collection now and then fails to reach a source."""
    at = start
    while at < end:
        runs = [Run(s, f"{s}-{at:%d%H%M}", rng.choice([RunState.SUCCESS] * 3 + [RunState.FAILED]), at - 20 * 60 * H / 3600, at - H / 4)
                for s in PROMISES if rng.random() < 0.5]
        seen = [Observation(s, f"c-{at:%d%H%M}", at, None, None, "HTTP 503" if rng.random() < 0.15 else None, None, 5)
                for s in PROMISES]
        history.append(f"c-{at:%d%H%M}", at, runs, seen)
        at += H


def timeline(history, now, promises=PROMISES, days=5):
    snapshot = history.open()
    found = Timeline(snapshot, promises, Window.ending(now, days, ZoneInfo("UTC")), now, ParquetCache(history.root / "cache"))
    segments, carried = found.source_segments(), found.from_cache()
    snapshot.close()
    return segments, carried


def fresh(history, now, **kwargs):
    shutil.rmtree(history.root / "cache", ignore_errors=True)
    return timeline(history, now, **kwargs)[0]


@pytest.mark.parametrize("seed", range(3))
def test_a_render_from_the_cache_draws_what_a_render_from_all_history_draws(history, seed):
    rng = random.Random(seed)
    collect(history, rng, START, utc(2026, 3, 3, 12))
    _, carried = timeline(history, utc(2026, 3, 3, 12))  # no cache yet: writes one
    assert carried == set()
    collect(history, rng, utc(2026, 3, 3, 12), utc(2026, 3, 3, 18))
    found, carried = timeline(history, utc(2026, 3, 3, 18))  # same cutoff: every source from the cache
    assert carried == set(PROMISES)
    assert found == fresh(history, utc(2026, 3, 3, 18))

    timeline(history, utc(2026, 3, 3, 18))
    history.compact(utc(2026, 3, 4, 1))
    collect(history, rng, utc(2026, 3, 3, 18), utc(2026, 3, 5, 6))  # the cutoff moves on two days
    found, carried = timeline(history, utc(2026, 3, 5, 6))
    assert carried == set(PROMISES)
    assert found == fresh(history, utc(2026, 3, 5, 6))


def test_a_run_that_arrives_late_recomputes_only_its_source(history):
    rng = random.Random(7)
    collect(history, rng, START, utc(2026, 3, 3, 12))
    timeline(history, utc(2026, 3, 3, 12))
    late = utc(2026, 3, 1, 9)  # long before the cutoff (Mar 2, 00:00)
    history.append("late", utc(2026, 3, 3, 12, 10), [Run("a", "a-late", RunState.FAILED, late - H, late)], [])
    found, carried = timeline(history, utc(2026, 3, 3, 12, 10))
    assert carried == {"b", "c"}
    assert found == fresh(history, utc(2026, 3, 3, 12, 10))


def test_a_run_seen_again_with_another_state_recomputes_its_source(history):
    rng = random.Random(8)
    collect(history, rng, START, utc(2026, 3, 3, 12))
    timeline(history, utc(2026, 3, 3, 12))
    snapshot = history.open()
    run_id, ended = snapshot.db.execute(
        "SELECT run_id, ended_at FROM runs WHERE source_id = 'b' AND ended_at < '2026-03-02' AND state = 'failed' LIMIT 1").fetchone()
    snapshot.close()
    # Retried and passed: as many runs as before, one state changed.
    history.append("again", utc(2026, 3, 3, 12, 10), [Run("b", run_id, RunState.SUCCESS, ended - H, aware_utc(ended))], [])
    found, carried = timeline(history, utc(2026, 3, 3, 12, 10))
    assert carried == {"a", "c"}
    assert found == fresh(history, utc(2026, 3, 3, 12, 10))


def test_a_changed_promise_recomputes_its_source(history):
    collect(history, random.Random(9), START, utc(2026, 3, 3, 12))
    timeline(history, utc(2026, 3, 3, 12))
    changed = {**PROMISES, "c": Freshness(warn_after=H)}
    found, carried = timeline(history, utc(2026, 3, 3, 12), promises=changed)
    assert carried == {"a", "b"}
    assert found == fresh(history, utc(2026, 3, 3, 12), promises=changed)


def test_a_changed_min_rows_recomputes_the_sources_whose_runs_it_counts_otherwise(history):
    collect(history, random.Random(13), START, utc(2026, 3, 3, 12))
    short = utc(2026, 3, 1, 9)  # long before the cutoff (Mar 2, 00:00)
    history.append("rows", utc(2026, 3, 3, 12, 5), [Run("a", "a-rows", RunState.SUCCESS, short - H, short, rows_loaded=3)], [])
    before, _ = timeline(history, utc(2026, 3, 3, 12, 5))
    changed = {**PROMISES, "a": replace(PROMISES["a"], min_rows=10), "b": replace(PROMISES["b"], min_rows=10)}
    found, carried = timeline(history, utc(2026, 3, 3, 12, 5), promises=changed)
    assert carried == {"b", "c"}  # b's runs report no count: min_rows changes nothing of its past
    assert found == fresh(history, utc(2026, 3, 3, 12, 5), promises=changed)
    assert found["a"] != before["a"]


def test_a_longer_window_than_the_cache_was_made_for_ignores_it(history):
    collect(history, random.Random(10), START, utc(2026, 3, 3, 12))
    timeline(history, utc(2026, 3, 3, 12), days=1)
    found, carried = timeline(history, utc(2026, 3, 3, 12), days=5)
    assert carried == set()
    assert found == fresh(history, utc(2026, 3, 3, 12), days=5)


def test_a_damaged_or_unwritable_cache_only_costs_time(history):
    collect(history, random.Random(11), START, utc(2026, 3, 3, 12))
    expected = fresh(history, utc(2026, 3, 3, 12))
    (history.root / "cache" / "timeline.parquet").write_bytes(b"PAR1 garbage")
    assert timeline(history, utc(2026, 3, 3, 12)) == (expected, set())
    assert timeline(history, utc(2026, 3, 3, 12)) == (expected, set(PROMISES))  # rewritten by the render before
    shutil.rmtree(history.root / "cache")
    (history.root / "cache").write_text("a file where the cache folder should be")
    assert timeline(history, utc(2026, 3, 3, 12)) == (expected, set())


def test_a_collection_written_into_the_past_recomputes_the_sources_it_saw(history):
    collect(history, random.Random(12), START, utc(2026, 3, 3, 12))
    timeline(history, utc(2026, 3, 3, 12))
    back = utc(2026, 3, 1, 15, 30)  # between two collections, long before the cutoff
    history.append("back", back, [], [Observation("c", "back", back, None, None, "HTTP 503", None, 5)])
    found, carried = timeline(history, utc(2026, 3, 3, 12))
    assert carried == {"a", "b"}
    assert found == fresh(history, utc(2026, 3, 3, 12))


def test_a_source_first_collected_after_the_cutoff_has_no_history_before_it(write_config, tmp_path):
    """Issue #12 as reported, through the command line: the cache's entry for a source it knew
    nothing of before its cutoff drew it unknown from the cutoff on."""
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as db:
        db.execute("CREATE TABLE orders (loaded_at TIMESTAMP)")
        db.execute("INSERT INTO orders VALUES ('2026-11-30 03:00')")
        db.execute("CREATE TABLE empty (loaded_at TIMESTAMP)")
    config = write_config(
        """
        site: {timezone: Europe/Paris, days: 7}
        connections:
          wh: {type: sql, database: wh.duckdb}
        sources:
          - {id: orders_raw, connection: wh, query: SELECT max(loaded_at) FROM orders, freshness: {warn_after: 2h, error_after: 6h}}
          - {id: nothing_yet, connection: wh, query: SELECT max(loaded_at) FROM empty}
        components:
          - {id: orders, name: Orders, depends_on: [orders_raw]}
          - {id: pending, name: Pending, depends_on: [nothing_yet]}
        """
    )
    runner = CliRunner()

    def run(*args: str) -> None:
        result = runner.invoke(main, [*args, "-c", str(config)])
        assert result.exit_code == 0, result.output

    run("collect", "--now", "2026-11-30T03:27:00Z")  # the first collection ever
    run("collect", "--now", "2026-11-30T03:28:00Z")
    run("render", "--now", "2026-11-30T03:29:00Z", "--out", "first")  # writes the cache
    run("render", "--now", "2026-11-30T03:29:00Z", "--out", "cached")  # reads it
    shutil.rmtree(tmp_path / "history" / "cache")
    run("render", "--now", "2026-11-30T03:29:00Z", "--out", "raw")
    page = (tmp_path / "cached" / "components" / "orders.html").read_text()
    assert "<tr><td>Nov 30</td><td>operational, partly no data</td></tr>" in page and "<tr><td>Nov 29</td><td>no data</td></tr>" in page
    assert "unknown" not in (tmp_path / "cached" / "feed.xml").read_text()
    assert_same_site(tmp_path / "raw", tmp_path / "first", "first render")
    assert_same_site(tmp_path / "raw", tmp_path / "cached", "render from the cache")
