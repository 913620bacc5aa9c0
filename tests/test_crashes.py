"""Crashes and concurrency: a collection killed at any moment leaves history readable and
whole, two collections at once both land, and the next collection fills the gap."""

import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import duckdb
import pytest

from statusgen import pipeline
from statusgen.config import load_config
from statusgen.history import History
from tests.conftest import utc

pytestmark = pytest.mark.reliability

NOW = utc(2026, 11, 22, 12)


@pytest.fixture
def setup(write_config, tmp_path):
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as db:
        db.execute("CREATE TABLE loads (loaded_at TIMESTAMP)")
        db.execute("INSERT INTO loads SELECT TIMESTAMP '2026-11-22 00:00' + INTERVAL (i) MINUTE FROM range(0, 700, 7) t(i)")
    lines = ["connections:", "  wh: {type: sql, database: wh.duckdb}", "sources:"]
    lines += [f"  - {{id: s{i}, connection: wh, query: 'SELECT loaded_at FROM loads WHERE loaded_at > $since AND loaded_at <= $now'}}"
              for i in range(30)]
    path = write_config("\n".join(lines) + "\n")
    return path, load_config(path, {})


def test_killed_at_random_moments_history_stays_whole(setup, tmp_path):
    path, config = setup
    rng = random.Random(20261122)
    history = History(tmp_path / "history")
    kills = 0
    for trial in range(100):
        now = NOW + timedelta(minutes=trial)
        process = subprocess.Popen(
            [sys.executable, "-m", "statusgen", "collect", "-c", str(path), "--now", now.isoformat()],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path,
        )
        time.sleep(rng.uniform(0.0, 0.9))
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            kills += 1
        process.wait()
        snapshot = history.open()
        assert snapshot.warnings == [], f"trial {trial}: {snapshot.warnings}"  # no half file visible, none unreadable
        snapshot.close()
    assert kills >= 30, f"only {kills} of 100 runs were killed mid-way; the timing no longer tests anything"
    # No run is duplicated; a collection after the crashes reads every load there is.
    pipeline.collect(config, history, NOW + timedelta(hours=3))
    snapshot = history.open()
    duplicated = snapshot.db.execute("SELECT count(*) - count(DISTINCT (source_id, run_id)) FROM runs").fetchone()[0]
    loads = snapshot.db.execute("SELECT count(DISTINCT run_id) FROM runs WHERE source_id = 's0'").fetchone()[0]
    assert duplicated == 0 and loads == 100


def test_two_collections_at_the_same_moment_both_land(setup, tmp_path):
    _, config = setup
    history = History(tmp_path / "history")
    errors = []

    def collect():
        try:
            pipeline.collect(config, history, NOW)
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)

    threads = [threading.Thread(target=collect) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    snapshot = history.open()
    assert snapshot.warnings == []
    collections = snapshot.db.execute("SELECT count(DISTINCT collection_id) FROM observations").fetchone()[0]
    assert collections == 2


def test_history_that_cannot_be_written_is_a_clear_error_and_exit_1(setup, tmp_path):
    from click.testing import CliRunner

    from statusgen.cli import main

    path, _ = setup
    (tmp_path / "not-a-folder").write_text("a file where the history folder should be")
    result = CliRunner().invoke(main, ["collect", "-c", str(path), "--history", str(tmp_path / "not-a-folder"), "--now", NOW.isoformat()])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].startswith("Error: cannot write history file")
    assert (tmp_path / "not-a-folder").read_text() == "a file where the history folder should be"
