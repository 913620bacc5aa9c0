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
from statusgen.history import LOCK, History
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


def _snapshot_files(root):
    """Every file of history and its bytes; the readers' lock file holds no data."""
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and p.name != LOCK}


def _mount_namespaces_work() -> bool:
    try:
        return subprocess.run(["unshare", "--map-root-user", "--mount", "true"], capture_output=True).returncode == 0
    except FileNotFoundError:
        return False


needs_namespaces = pytest.mark.skipif(not _mount_namespaces_work(), reason="unshare cannot make a mount namespace here")


def _collect_in_namespace(mounts: str, history, path, cwd, after: str = "") -> subprocess.CompletedProcess:
    """`statusgen collect` in a private mount namespace, so the filesystems it meets are real
    kernel ones (a read-only mount, a full disk) without touching the machine's."""
    later = (NOW + timedelta(hours=1)).isoformat()
    script = f"""{mounts}
    set +e
    "{sys.executable}" -m statusgen collect -c "{path}" --history "{history}" --now {later} > "{cwd}/out.txt" 2>&1
    echo $? > "{cwd}/rc.txt"
    set -e
    {after}"""
    return subprocess.run(["unshare", "--map-root-user", "--mount", "sh", "-ec", script], capture_output=True, text=True, cwd=cwd)


def _assert_failed_cleanly(done: subprocess.CompletedProcess, cwd, reason: str) -> None:
    """The collection inside exited 1 with one line naming the file and the OS's reason."""
    assert done.returncode == 0, done.stderr
    output = (cwd / "out.txt").read_text()
    assert (cwd / "rc.txt").read_text().strip() == "1", output
    assert output.splitlines()[-1].startswith("Error: cannot write history file") and reason in output
    assert "Traceback" not in output


@needs_namespaces
def test_a_read_only_history_is_a_clear_error_and_loses_nothing(setup, tmp_path):
    path, config = setup
    history = History(tmp_path / "history")
    pipeline.collect(config, history, NOW)
    before = _snapshot_files(history.root)
    done = _collect_in_namespace(f'mount --bind "{history.root}" "{history.root}"; mount -o remount,bind,ro "{history.root}"',
                                 history.root, path, tmp_path)
    _assert_failed_cleanly(done, tmp_path, "Read-only file system")
    assert _snapshot_files(history.root) == before


@needs_namespaces
def test_a_full_disk_is_a_clear_error_and_loses_nothing(setup, tmp_path):
    path, config = setup
    history = History(tmp_path / "history")
    pipeline.collect(config, history, NOW)
    before = _snapshot_files(history.root)
    disk, kept = tmp_path / "disk", tmp_path / "kept"
    disk.mkdir()
    kept.mkdir()
    # A small tmpfs holding a copy of the history, then filled to the last byte.
    mounts = f'mount -t tmpfs -o size=2m tmpfs "{disk}"; cp -a "{history.root}/." "{disk}/"; dd if=/dev/zero of="{disk}/.filler" bs=4k 2>/dev/null || true'
    done = _collect_in_namespace(mounts, disk, path, tmp_path, after=f'rm "{disk}/.filler"; cp -a "{disk}/." "{kept}/"')
    _assert_failed_cleanly(done, tmp_path, "No space left on device")
    assert _snapshot_files(kept) == before  # no half-written file left, nothing changed


def test_eight_runs_at_once_all_render_and_none_shows_a_traceback(setup, tmp_path):
    path, config = setup
    history = History(tmp_path / "history")
    for hour in range(0, 48, 2):  # two finished days of parts, none compacted yet
        pipeline.collect(config, history, NOW - timedelta(days=2) + timedelta(hours=hour))
    runs = [subprocess.Popen([sys.executable, "-m", "statusgen", "run", "-c", str(path), "--now", NOW.isoformat(), "--out", f"site{n}"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path, text=True) for n in range(8)]
    finished = [(run.wait(), run.stdout.read(), run.stderr.read()) for run in runs]
    for code, out, err in finished:
        assert code == 0 and "Traceback" not in err, err[-2000:]
    assert all((tmp_path / f"site{n}/index.html").exists() for n in range(8))
    snapshot = history.open()
    assert snapshot.warnings == []
    duplicated = snapshot.db.execute("SELECT count(*) - count(DISTINCT (source_id, run_id)) FROM runs").fetchone()[0]
    assert duplicated == 0
