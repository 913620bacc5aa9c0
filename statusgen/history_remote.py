"""History kept under an S3 prefix, worked on in a local folder for one command.

`pull` brings the days the page needs (and the alert state) into a fresh folder; `push`
uploads what the command wrote and removes, remotely, only what it removed locally:
parts merged into a compacted file, and days past retention. A failed download stops the
command, so a page with empty bars is never published for want of history.
"""

from __future__ import annotations

import re
import tempfile
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Iterator

from statusgen.errors import HistoryError
from statusgen.history import History
from statusgen.s3 import Bucket, md5

_DAY = re.compile(r"(^|/)date=(\d{4}-\d{2}-\d{2})/")


def _day(key: str) -> date | None:
    match = _DAY.search(key)
    return date.fromisoformat(match.group(2)) if match else None


@contextmanager
def history_at(location: str | Path, *, today: date, days: int, retention_days: int, write: bool) -> Iterator[History]:
    """A History for `location`: a folder as it is, or an S3 prefix pulled into a temporary one."""
    if not str(location).startswith("s3://"):
        yield History(Path(location))
        return
    bucket = Bucket.from_url(str(location), error=HistoryError)
    with tempfile.TemporaryDirectory(prefix="statusgen-history-") as folder:
        local = Path(folder)
        pulled = pull(bucket, local, first_day=today - timedelta(days=days + 1))
        yield History(local)
        if write:  # reached only when the command succeeded
            push(bucket, local, pulled, oldest=today - timedelta(days=retention_days))


def pull(bucket: Bucket, local: Path, first_day: date) -> dict[str, str]:
    """Download the objects of days from `first_day` on, and those of no day; return them."""
    remote = bucket.list()
    wanted = {key: etag for key, etag in remote.items() if (_day(key) or first_day) >= first_day}
    for key in wanted:
        bucket.download(key, local / key)
    return wanted


def push(bucket: Bucket, local: Path, pulled: dict[str, str], oldest: date) -> None:
    present = {p.relative_to(local).as_posix(): p for p in local.rglob("*") if p.is_file() and not p.name.startswith(".")}
    for key, path in sorted(present.items()):
        if pulled.get(key) != md5(path):
            bucket.upload(path, key)
    gone = [key for key in pulled if key not in present]
    expired = [key for key in bucket.list() if (_day(key) or oldest) < oldest and key not in gone]
    bucket.delete(sorted(gone + expired))
