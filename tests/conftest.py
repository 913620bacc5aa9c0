"""Shared helpers: configs written to tmp_path, UTC times, and the dbt fixture artifacts."""

from __future__ import annotations

import difflib
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
DBT_TARGET = FIXTURES / "dbt_target"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def every_day_digested(monkeypatch):
    """Digests for every finished day, however few its observations: the tests' days are
    far smaller than those digests are written for (statusgen.history.digests.DIGESTED_FROM)."""
    from statusgen.history import digests

    monkeypatch.setattr(digests, "DIGESTED_FROM", 0)


@pytest.fixture
def write_config(tmp_path, monkeypatch):
    """Write a sources.yaml (dedented) into tmp_path, make it the working directory, and
    return the file's relative path, as a user would type it."""
    monkeypatch.chdir(tmp_path)

    def write(text: str, name: str = "sources.yaml") -> Path:
        (tmp_path / name).write_text(textwrap.dedent(text).lstrip())
        return Path(name)

    return write


def collect_and_render(config, tmp_path, now):
    """One collection into tmp_path/history, then the site into tmp_path/site."""
    from statusgen import pipeline
    from statusgen.history import History

    history = History(tmp_path / "history")
    pipeline.collect(config, history, now)
    return pipeline.render(config, history, tmp_path / "site", now)


def fake_site(tmp_path: Path) -> Path:
    """A small folder that looks like a site statusgen built."""
    root = tmp_path / "site"
    (root / "components").mkdir(parents=True)
    (root / ".statusgen-site").write_text("")
    (root / "index.html").write_text("<h1>ok</h1>")
    (root / "components/orders.html").write_text("<h1>orders</h1>")
    (root / "style.0123abcd.css").write_text("body{}")
    return root


def assert_same_site(expected: Path, found: Path, context: str) -> None:
    """Every file of both sites, byte for byte; on failure the first differing file and its diff."""
    names = sorted(str(p.relative_to(expected)) for p in expected.rglob("*") if p.is_file())
    assert names == sorted(str(p.relative_to(found)) for p in found.rglob("*") if p.is_file()), context
    for name in names:
        a, b = (expected / name).read_bytes(), (found / name).read_bytes()
        if a != b:
            diff = difflib.unified_diff(a.decode().splitlines(), b.decode().splitlines(), f"{expected.name}/{name}", f"{found.name}/{name}", n=1,
                                        lineterm="")
            excerpt = "\n".join(list(diff)[:40])
            pytest.fail(f"{name} differs ({context})\n{excerpt}")


def stored_runs(history) -> tuple[int, int]:
    """How many rows history's runs files hold, and how many distinct runs: what it stores,
    not what readers make of it."""
    import duckdb

    files = [str(p) for p in sorted((history.root / "runs").glob("date=*/part-*.parquet"))]
    return duckdb.connect().execute(
        f"SELECT count(*), count(DISTINCT (source_id, run_id)) FROM read_parquet({files}, hive_partitioning = false)"
    ).fetchone()


def timeline_status(folder: Path, runs, now: datetime, promise):
    """The status the timeline, the one place a status is decided, gives a source whose
    finished runs are `runs` [(state, ended_at)] or [(state, ended_at, rows_loaded)], seen at
    `now` with `promise`."""
    from zoneinfo import ZoneInfo

    from statusgen.history import History
    from statusgen.records import Observation, Run
    from statusgen.status import Status
    from statusgen.timeline import Timeline, Window

    history = History(folder / "rule-history")
    history.append("c", now, [Run("s", f"r{n}", state, ended_at=ended, rows_loaded=rows[0] if rows else None)
                          for n, (state, ended, *rows) in enumerate(runs)],
                   [Observation("s", "c", now, None, None, None, None, 0)])
    snapshot = history.open()
    try:
        found = Timeline(snapshot, {"s": promise}, Window.ending(now, 30, ZoneInfo("UTC")), now).sources_now()
        return found["s"].status if "s" in found else Status.UNKNOWN
    finally:
        snapshot.close()


def context(collector, since, now, cache_dir=None):
    """The context the runner gives `collector` for one collection at `now`."""
    from statusgen.collectors.context import collect_context

    return collect_context(collector.name, collector.connection, now, since, cache_dir=cache_dir)


def collected(collector, sources, since, now, cache_dir=None):
    """`collector`'s reports for one collection of `sources` at `now`."""
    return collector.collect(sources, context(collector, since, now, cache_dir))


def discovered(collector, declared, now):
    """What `collector` discovers at `now`, as the runner asks it."""
    from statusgen.collectors.context import discover_context

    return collector.discover(declared, discover_context(collector.name, collector.connection, now))
