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


def git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_a_remote_with_a_relative_path_is_read_where_git_reads_it(remote, tmp_path, monkeypatch):
    """`git remote add origin ../origin.git` is relative to the repository's top folder, and a
    path given as --remote to the folder it is typed in: not to the temporary folder git runs in."""
    repository = tmp_path / "checkout"
    git("init", "--quiet", str(repository), cwd=tmp_path)
    git("remote", "add", "origin", "../origin.git", cwd=repository)
    (repository / "ci").mkdir()
    monkeypatch.chdir(repository / "ci")  # git reads the remote's path from the top, wherever it runs
    folder = repository / "history"
    assert history_git.restore("status-history", folder) is False
    (folder / "catalog").mkdir()
    (folder / "catalog/catalog.json").write_text("{}")
    history_git.save("status-history", folder)
    assert commits(remote, "status-history") == 1
    assert history_git.restore("status-history", tmp_path / "again") is True
    assert (tmp_path / "again/catalog/catalog.json").read_text() == "{}"
    monkeypatch.chdir(tmp_path)
    assert history_git.restore("status-history", tmp_path / "typed", "./origin.git") is True
    history_git.save("status-history", tmp_path / "typed", "origin.git/")


def test_a_refused_push_keeps_all_that_git_said_on_one_line_without_credentials(remote, tmp_path, monkeypatch):
    hook = tmp_path / "origin.git/hooks/pre-receive"
    hook.write_text(
        "#!/bin/sh\necho 'branch status-history is protected' >&2\n"
        "echo 'ask in #data-help, or see https://robot:hunter2@git.example.com/rules' >&2\nexit 1\n"
    )
    hook.chmod(0o755)
    (tmp_path / "history").mkdir()
    with pytest.raises(HistoryError) as refused:
        history_git.save("status-history", tmp_path / "history", remote)
    message = str(refused.value.message)
    assert "branch status-history is protected" in message and "ask in #data-help" in message
    assert "\n" not in message and "hunter2" not in message
