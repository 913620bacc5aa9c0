"""History on a git branch of its own, against real git repositories on disk."""

import subprocess

import pytest

from statusgen.errors import HistoryError
from statusgen.history import git as history_git


@pytest.fixture
def remote(tmp_path):
    path = tmp_path / "origin.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(path)], check=True)
    return str(path)


def commits(remote, branch):
    out = subprocess.run(["git", "--git-dir", remote, "rev-list", "--count", branch], capture_output=True, text=True, check=True)
    return int(out.stdout)


def test_first_run_then_save_restore_and_a_single_commit_each_time(remote, tmp_path):
    folder = tmp_path / "history"
    assert history_git.restore("status-history", folder, remote) is False
    assert list(folder.iterdir()) == []
    (folder / "runs/date=2026-11-22").mkdir(parents=True)
    (folder / "runs/date=2026-11-22/part-a.parquet").write_bytes(b"PAR1 one")
    history_git.save("status-history", folder, remote)
    (folder / "runs/date=2026-11-22/part-b.parquet").write_bytes(b"PAR1 two")
    history_git.save("status-history", folder, remote)
    assert commits(remote, "status-history") == 1  # replaced, not appended: the repository does not grow
    again = tmp_path / "again"
    assert history_git.restore("status-history", again, remote) is True
    assert sorted(p.name for p in again.rglob("*.parquet")) == ["part-a.parquet", "part-b.parquet"]


def test_an_unreachable_remote_is_not_mistaken_for_a_first_run(tmp_path):
    with pytest.raises(HistoryError, match="cannot reach .* to restore history"):
        history_git.restore("status-history", tmp_path / "history", str(tmp_path / "nowhere.git"))
    assert not (tmp_path / "history").exists()


def test_a_read_only_branch_is_a_clear_error(remote, tmp_path):
    hook = tmp_path / "origin.git/hooks/pre-receive"
    hook.write_text("#!/bin/sh\necho 'branch is protected' >&2\nexit 1\n")
    hook.chmod(0o755)
    (tmp_path / "history").mkdir()
    with pytest.raises(HistoryError, match="cannot push history to branch status-history of .*origin.git"):
        history_git.save("status-history", tmp_path / "history", remote)
