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
from typing import Callable, Iterator

from statusgen.errors import HistoryError
from statusgen.history.layout import DAY_PREFIX
from statusgen.history.store import History
from statusgen.s3 import Bucket, UnsafeKey, md5

_DAY = re.compile(rf"(^|/){re.escape(DAY_PREFIX)}(\d{{4}}-\d{{2}}-\d{{2}})/")


def _day(key: str) -> date | None:
    match = _DAY.search(key)
    return date.fromisoformat(match.group(2)) if match else None


@contextmanager
def history_at(location: str | Path, *, today: date, days: int, retention_days: int, write: bool,
               warn: Callable[[str], None]) -> Iterator[History]:
    """A History for `location`: a folder as it is, or an S3 prefix pulled into a temporary one
    (`warn` hears of each object refused)."""
    if not str(location).startswith("s3://"):
        yield History(Path(location))
        return
    bucket = Bucket.from_url(str(location), error=HistoryError)
    with tempfile.TemporaryDirectory(prefix="statusgen-history-") as folder:
        local = Path(folder)
        pulled = pull(bucket, local, first_day=today - timedelta(days=days + 1), warn=warn)
        yield History(local)
        if write:  # reached only when the command succeeded
            push(bucket, local, pulled, oldest=today - timedelta(days=retention_days))


def pull(bucket: Bucket, local: Path, first_day: date, warn: Callable[[str], None]) -> dict[str, str]:
    """Download the objects of days from `first_day` on, and those of no day; return them.

    An object whose key cannot be a file inside `local` is refused and named in a warning.
    It is not downloaded, so `push` neither uploads over it nor deletes it as merged."""
    remote = bucket.list()
    wanted = {
        key: etag
        for key, etag in remote.items()
        if key and not key.endswith("/")  # a folder marker (the S3 console makes them) holds no file
        and (_day(key) or first_day) >= first_day
    }
    # A key that is also the folder of others (`runs` beside `runs/…`) cannot be both here;
    # the folder is history's layout, so the lone key is the one refused, whatever the order.
    folders = {key[:i] for key in wanted for i, char in enumerate(key) if char == "/"}
    pulled = {}
    for key, etag in wanted.items():
        try:
            if key in folders:
                raise UnsafeKey("other objects are inside it, as in a folder")
            bucket.download(key, local)
        except UnsafeKey as exc:
            warn(f"refused {key!r} under {bucket.url}: {exc}; it was not downloaded")
            continue
        pulled[key] = etag
    return pulled


def push(bucket: Bucket, local: Path, pulled: dict[str, str], oldest: date) -> None:
    # Never through a link: uploading one would publish whatever it points to.
    present = {
        p.relative_to(local).as_posix(): p
        for p in local.rglob("*")
        if p.is_file() and not p.is_symlink() and not p.name.startswith(".")
    }
    for key, path in sorted(present.items()):
        if pulled.get(key) != md5(path):
            bucket.upload(path, key)
    gone = [key for key in pulled if key not in present]
    expired = [key for key in bucket.list() if (_day(key) or oldest) < oldest and key not in gone]
    bucket.delete(sorted(gone + expired))
