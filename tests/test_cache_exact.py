"""The timeline cache is exact (issue #12): with and without `history/cache/`, every file of
the site is the same, byte for byte.

Histories are made by the real sql collector reading a DuckDB warehouse that changes between
collections (loads, late loads, a table that disappears, a source with nothing to report),
plus what no collector of ours produces, written with the History API: runs re-read with
another state and collections written into the past. Each seed is one history; after each
step the site is rendered with the cache as it stands, again (so the cache that render wrote
is used), and without the cache, and the three sites are compared file by file.
"""

from __future__ import annotations

import random
import shutil
import textwrap
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from statusgen import pipeline
from statusgen.config import load_config
from statusgen.history import History, digests
from statusgen.records import Observation, Run
from statusgen.status import RunState
from tests.conftest import assert_same_site, utc

CONFIG = """
site:
  timezone: {zone}
  days: {days}
connections:
  wh: {{type: sql, database: wh.duckdb}}
sources:
  - id: latest
    connection: wh
    query: SELECT max(loaded_at) FROM latest
    freshness: {{warn_after: 3h, error_after: 8h}}
  - id: listed
    connection: wh
    query: SELECT loaded_at, count(*) FROM listed WHERE loaded_at > $since AND loaded_at <= $now GROUP BY 1
    freshness: {{error_after: 5h, deadline: "0 6 * * 1-5", grace: 1h, holidays: FR}}
  - id: every_load
    connection: wh
    query: SELECT loaded_at FROM every_load WHERE loaded_at <= $now ORDER BY 1 DESC LIMIT 500
    freshness: {{deadline: "30 2 * * *", since: 4h, timezone: Europe/Paris}}
  - id: flaky
    connection: wh
    query: SELECT max(loaded_at) FROM flaky
    freshness: {{warn_after: 2h}}
  - id: paused
    connection: wh
    query: SELECT max(loaded_at) FROM paused WHERE NOT (SELECT paused FROM switch)
  - id: counted
    connection: wh
    query: SELECT loaded_at, count(*) FROM counted WHERE loaded_at > $since AND loaded_at <= $now GROUP BY 1
    freshness: {{warn_after: 4h}}
    min_rows: {min_rows}
components:
  - {{id: orders, name: Orders, depends_on: [latest]}}
  - {{id: finance, name: Finance, depends_on: [listed, flaky]}}
  - {{id: everything, name: Everything, depends_on: [latest, listed, every_load, flaky, paused]}}
  - {{id: idle, name: Idle, depends_on: [paused]}}
  - {{id: loads, name: Loads, depends_on: [every_load]}}
  - {{id: counted, name: Counted, depends_on: [counted]}}
"""
ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"]
GAPS = [timedelta(minutes=1), timedelta(minutes=17), timedelta(hours=1), timedelta(hours=7), timedelta(hours=26), timedelta(days=3)]
TABLES = ["latest", "listed", "every_load", "flaky", "paused", "counted"]


class Scenario:
    """One random history, grown step by step in `folder`."""

    def __init__(self, folder: Path, seed: int):
        self.folder, self.rng, self.seed = folder, random.Random(seed), seed
        self.history = History(folder / "history")
        self.log: list[str] = []
        # Around the European DST change of 2026 (Mar 29) now and then, so days of 23 hours occur.
        self.now = utc(2026, 3, 25) + timedelta(minutes=self.rng.randrange(0, 6 * 24 * 60))
        self.zone = self.rng.choice(ZONES)
        self.days = self.rng.choice([2, 3, 7])
        # The loads of `counted` and its min_rows come from a generator of their own, so the
        # other sources' histories stay those the seeds below were picked for.
        self.counts = random.Random(seed)
        self.min_rows = 3
        self.collected: list[datetime] = []
        self.loads: list[datetime] = []  # every_load's loads, to re-read and to arrive late
        with self.warehouse() as db:
            for table in TABLES:
                db.execute(f"CREATE TABLE {table} (loaded_at TIMESTAMP)")
            db.execute("CREATE TABLE switch (paused BOOLEAN)")
            db.execute("INSERT INTO switch VALUES (false)")
        self.write_config()

    def warehouse(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.folder / "wh.duckdb"))

    def write_config(self) -> None:
        config = CONFIG.format(zone=self.zone, days=self.days, min_rows=self.min_rows)
        (self.folder / "sources.yaml").write_text(textwrap.dedent(config).lstrip())
        self.config = load_config(self.folder / "sources.yaml")

    def step(self) -> None:
        rng = self.rng
        self.now += rng.choice(GAPS) + timedelta(seconds=rng.randrange(60))
        since = self.collected[-1] if self.collected else self.now - timedelta(days=2)
        with self.warehouse() as db:
            for table in ("latest", "listed", "every_load"):
                for _ in range(rng.choice([0, 0, 1, 2, 3])):
                    at = since + (self.now - since) * rng.random()
                    db.execute(f"INSERT INTO {table} VALUES ($1)", [_naive(at)])
                    self.loads += [at] if table == "every_load" else []
            if rng.random() < 0.3:  # a load that lands days before the cache's cutoff, seen from now on
                at = self.now - timedelta(days=rng.uniform(1.5, 6))
                db.execute("INSERT INTO every_load VALUES ($1)", [_naive(at)])
                self.loads.append(at)
                self.log.append(f"late load at {at:%m-%d %H:%M}")
            exists = db.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'flaky'").fetchone()[0]
            if rng.random() < 0.25:  # the table vanishes (the query fails: unreachable) or comes back
                db.execute("DROP TABLE flaky" if exists else "CREATE TABLE flaky (loaded_at TIMESTAMP)")
                self.log.append("flaky " + ("dropped" if exists else "back"))
                exists = not exists
            if rng.random() < 0.5:
                if exists:
                    db.execute("INSERT INTO flaky VALUES ($1)", [_naive(self.now - timedelta(minutes=rng.randrange(1, 300)))])
                db.execute("INSERT INTO paused VALUES ($1)", [_naive(self.now - timedelta(minutes=rng.randrange(1, 300)))])
            if rng.random() < 0.2:
                db.execute("UPDATE switch SET paused = NOT paused")
                self.log.append("paused switched")
            for _ in range(self.counts.choice([1, 2, 3])):  # one, two or four rows at an instant: some loads are short
                at = since + (self.now - since) * self.counts.random()
                db.execute("INSERT INTO counted SELECT $1 FROM range($2)", [_naive(at), self.counts.choice([1, 2, 4])])
        if rng.random() < 0.8:
            pipeline.collect(self.config, self.history, self.now)
            self.collected.append(self.now)
            self.log.append(f"collect at {self.now:%m-%d %H:%M:%S}")
        if self.collected and rng.random() < 0.2:
            self.reread()
        if self.collected and rng.random() < 0.2:
            self.into_the_past()
        if rng.random() < 0.15:
            self.days = rng.choice([1, 2, 3, 7, 10])
            self.write_config()
            self.log.append(f"window {self.days} days")
        if self.counts.random() < 0.4:  # counted's past loads, before the cache's cutoff too, count otherwise
            self.min_rows = self.counts.choice([n for n in (1, 3, 5) if n != self.min_rows])
            self.write_config()
            self.log.append(f"min_rows {self.min_rows}")
        if rng.random() < 0.15:
            self.history.compact(self.now)
            self.log.append("compact")

    def reread(self) -> None:
        """A run already in history seen again with another state (a load rolled back, say)."""
        seen = [at for at in self.loads if at <= self.collected[-1]]
        if not seen:
            return
        at = self.rng.choice(seen)
        state = self.rng.choice([RunState.FAILED, RunState.SUCCESS, RunState.CANCELLED])
        run = Run("every_load", f"loaded@{at.isoformat()}", state, ended_at=at)
        self.history.append(f"reread-{self.now:%d%H%M%S}", self.now, [run], [])
        self.log.append(f"run of {at:%m-%d %H:%M} re-read as {state.value}")

    def into_the_past(self) -> None:
        """A collection that lands between earlier ones (a delayed shard's write), often before the cache's cutoff."""
        back, micro = self.rng.uniform(0, 4), self.rng.randrange(1, 999)
        at = self.now - timedelta(days=back, microseconds=micro)
        if micro < 250:  # at the very instant of an earlier collection, which may have seen it otherwise
            at = max((c for c in self.collected if c <= at), default=at)
        error = self.rng.choice(["HTTP 503", None])
        seen = Observation("flaky", f"past-{at:%d%H%M%S}", at, None, None, error, None, 5)
        self.history.append(seen.collection_id, at, [], [seen])
        self.log.append(f"collection into the past at {at:%m-%d %H:%M} ({error or 'reachable'})")

    def render_at(self) -> datetime:
        """Mostly just after the last collection; now and then long after it, or before it."""
        pick = self.rng.random()
        if pick < 0.15 and self.collected:
            return self.collected[-1] - timedelta(minutes=self.rng.randrange(1, 600))
        if pick < 0.35:
            return self.now + timedelta(hours=self.rng.uniform(0, 40))
        return self.now

    def check(self) -> None:
        at = self.render_at()
        cache = self.history.root / "cache"
        first = self.render("with-cache", at)  # uses the cache as it stands, and rewrites it
        again = self.render("from-its-cache", at)
        kept = self.history.root / "cache-kept"
        if cache.exists():
            cache.rename(kept)
        raw = self.render("without-cache", at)
        shutil.rmtree(cache, ignore_errors=True)
        if kept.exists():
            kept.rename(cache)  # the next steps go on with the cache the renders grew
        context = f"seed {self.seed}, render at {at:%Y-%m-%d %H:%M:%S}, zone {self.zone}; steps:\n  " + "\n  ".join(self.log)
        assert_same_site(raw, first, context)
        assert_same_site(raw, again, context)
        self.log.append(f"rendered at {at:%m-%d %H:%M}")

    def render(self, name: str, at: datetime) -> Path:
        out = self.folder / name
        pipeline.render(self.config, self.history, out, at)
        return out


def _naive(at: datetime) -> datetime:
    return at.replace(tzinfo=None)


def grow_and_compare(folder: Path, seed: int, steps: int, digested: bool, monkeypatch) -> None:
    """`digested`: the finished days are read through their digests, as at a larger scale; else raw."""
    if digested:
        monkeypatch.setattr(digests, "DIGESTED_FROM", 0)
    scenario = Scenario(folder, seed)
    for _ in range(steps):
        scenario.step()
        if scenario.rng.random() < 0.6:
            scenario.check()
    scenario.check()


# Between them these two histories catch each way of breaking the cache tried on purpose:
# trusting an entry whatever its fingerprint, a fingerprint blind to run states or to
# reachability, a cache made for a shorter window, a state at the cutoff for a source nothing
# was known of, a state restored a second late; and, through `counted`, a fingerprint blind
# to what min_rows makes of a run.
@pytest.mark.parametrize(("seed", "steps", "digested"), [(3, 9, True), (15, 8, False)])
def test_the_cache_changes_no_byte_of_the_site(tmp_path, seed, steps, digested, monkeypatch):
    grow_and_compare(tmp_path, seed, steps, digested, monkeypatch)


@pytest.mark.reliability
@pytest.mark.parametrize("seed", range(100, 125))
def test_the_cache_changes_no_byte_of_the_site_sweep(tmp_path, seed, monkeypatch):
    grow_and_compare(tmp_path, seed, 20, seed % 2 == 1, monkeypatch)
