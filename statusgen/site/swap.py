"""Replacing a whole folder by another one, for `render` (the site) and `publish` (a folder
target statusgen owns), so that a reader finds the old tree or the new one, never a mix."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

# The old folder's name while the new one moves in: `.NAME.previous-XXXX`. A swap killed
# between its renames leaves it behind; render recognises it by this name and removes it.
ASIDE = "previous-"


def swap_in(staging: Path, out: Path) -> None:
    """Put the folder `staging` where `out` is; the old `out` is kept until the new one is in.

    Linux refuses to rename a folder over a non-empty one, so the old folder is first renamed
    aside, then `staging` renamed in. Between those two renames (two system calls, no I/O in
    between) `out` does not exist: a reader then gets "not found", never a page without its
    stylesheet. Closing even that window would take renameat2(RENAME_EXCHANGE), which Python
    does not expose and not every filesystem supports. If the second rename fails, the old
    folder is put back. Raises OSError, with `out` as it was.
    """
    if not out.exists():
        staging.rename(out)
        return
    # A fresh empty folder to rename over (POSIX allows that), rather than a fixed name that
    # could be someone else's folder and would have to be cleared first.
    aside = Path(tempfile.mkdtemp(prefix=f".{out.name}.{ASIDE}", dir=out.parent))
    try:
        out.rename(aside)
    except OSError:
        aside.rmdir()
        raise
    try:
        staging.rename(out)
    except OSError:
        aside.rename(out)
        raise
    shutil.rmtree(aside, ignore_errors=True)
