"""History kept on a git branch of its own, for scheduled jobs with no other storage.

The branch holds only the history folder, as a single commit that each save replaces
(a forced push): the repository does not grow without bound, and the pushes keep it
active, so GitHub does not disable the schedule after 60 quiet days. Restoring tells a
branch that does not exist yet (the first run) from a fetch that failed: only the first
means "no history".
"""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from statusgen.errors import HistoryError
from statusgen.history.layout import LOCK
from statusgen.urls import public_text

AUTHOR = ["-c", "user.name=statusgen", "-c", "user.email=statusgen@users.noreply.github.com"]


def restore(branch: str, folder: Path, remote: str = "origin") -> bool:
    """Fill `folder` from `branch`; False when the branch does not exist yet."""
    url = _url(remote)
    listed = _git(*_auth(url), "ls-remote", "--exit-code", "--heads", url, branch, check=False)
    if listed.returncode == 2:
        folder.mkdir(parents=True, exist_ok=True)
        return False
    if listed.returncode != 0:
        raise HistoryError(f"cannot reach {_safe(url)} to restore history: {_reason(listed)}")
    with tempfile.TemporaryDirectory(prefix="statusgen-history-branch-") as work:
        _git("init", "--quiet", cwd=Path(work))
        fetched = _git(*_auth(url), "fetch", "--quiet", "--depth=1", url, f"refs/heads/{branch}", cwd=Path(work), check=False)
        if fetched.returncode != 0:
            raise HistoryError(f"cannot fetch history branch {branch}: {_reason(fetched)}")
        archive = _git("archive", "--format=tar", "FETCH_HEAD", cwd=Path(work), text=False)
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    return True


def save(branch: str, folder: Path, remote: str = "origin", message: str = "statusgen history") -> None:
    """Replace `branch` with one commit holding `folder`."""
    url = _url(remote)
    with tempfile.TemporaryDirectory(prefix="statusgen-history-branch-") as work:
        tree = Path(work) / "tree"
        shutil.copytree(folder, tree, ignore=shutil.ignore_patterns(".git", ".*.tmp", LOCK))
        _git("init", "--quiet", "--initial-branch", branch, cwd=tree)
        _git("add", "--all", cwd=tree)
        _git(*AUTHOR, "commit", "--quiet", "--allow-empty", "-m", message, cwd=tree)
        pushed = _git(*_auth(url), "push", "--quiet", "--force", url, f"HEAD:refs/heads/{branch}", cwd=tree, check=False)
        if pushed.returncode != 0:
            raise HistoryError(f"cannot push history to branch {branch} of {_safe(url)}: {_reason(pushed)}")


def _url(remote: str) -> str:
    """A remote's URL: a remote name is looked up in the repository we are in. A relative path
    is made absolute where git itself reads it, since git then runs in a temporary folder."""
    if "/" in remote or ":" in remote:
        url, base = remote, os.getcwd()  # typed here, so relative to this folder
    else:
        found = _git("remote", "get-url", remote, check=False)
        if found.returncode != 0:
            raise HistoryError(f"no git remote named {remote} here: {_reason(found)}")
        url, base = found.stdout.strip(), None  # git reads it from the top of the work tree, wherever it runs
    # git's rule: "scheme://…" and "host:path" (a colon before any slash) are addresses, the rest paths.
    if "://" in url or ":" in url.split("/")[0] or os.path.isabs(url):
        return url
    base = base or _git("rev-parse", "--show-toplevel").stdout.strip()
    return os.path.normpath(os.path.join(base, url))


def _auth(url: str) -> list[str]:
    """In a workflow, the job's token authenticates pushes to github.com, without writing it anywhere."""
    token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
    if not token or not url.startswith("https://github.com/"):
        return []
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return ["-c", f"http.https://github.com/.extraheader=AUTHORIZATION: basic {basic}"]


def _git(*args: str, cwd: Path | None = None, check: bool = True, text: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=text, env=env)
    if check and done.returncode != 0:
        raise HistoryError(f"git {args[0]} failed: {_reason(done)}")
    return done


def _reason(done: subprocess.CompletedProcess) -> str:
    stderr = done.stderr if isinstance(done.stderr, str) else done.stderr.decode(errors="replace")
    # All of it, as one line of plain text: git's first line often says why ("does not appear to
    # be a git repository"), its last only what failed. Bounded: a remote's hook may print anything.
    lines = [" ".join(re.sub(r"[\x00-\x1f\x7f]", " ", line).split()) for line in stderr.splitlines()]
    text = " / ".join(line for line in lines if line)
    return _safe(text if len(text) <= 2000 else text[:2000] + "…") if text else f"exit code {done.returncode}"


def _safe(text: str) -> str:
    """No token that a URL may carry (https://user:token@host) reaches a message."""
    text = public_text(text)
    for token in (os.environ.get("GITHUB_TOKEN"), os.environ.get("GH_TOKEN")):
        if token:
            text = text.replace(token, "***")
    return text
