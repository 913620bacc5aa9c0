"""The rendered site → its folder, all at once: written in a staging folder beside it and
swapped into place, so a failed render leaves the previous site as it was.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Iterator, Mapping

from statusgen.errors import StatusgenError
from statusgen.site.model import SiteModel, SiteSummary
from statusgen.site.render import render_pages
from statusgen.site.swap import ASIDE, swap_in

MARKER = ".statusgen-site"


def write_site(model: SiteModel, out: Path) -> SiteSummary:
    pages = render_pages(model)
    _publish_folder(out, pages)
    return SiteSummary(out, len(pages), model.status, model.warnings, model)


# Statusgen's own folders beside the output: `.<out>.staging-…` while a render writes,
# `.<out>.previous-…` while it swaps. Each carries MARKER; nothing else there is touched.
STAGING = "staging-"


def _publish_folder(out: Path, pages: Mapping[str, str | bytes]) -> None:
    """Write the site next to `out` and swap it in; never overwrite a folder we did not make."""
    out = out.resolve()
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise StatusgenError(f"{out} exists and was not made by statusgen; choose an empty or new folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(out)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.{STAGING}", dir=out.parent))
    try:
        with _claimed(staging):
            for relative, content in pages.items():
                target = staging / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(content, bytes):
                    target.write_bytes(content)
                else:
                    target.write_text(content, encoding="utf-8")
            os.chmod(staging, 0o755)
            swap_in(staging, out)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)  # swap_in left `out` as it was
        raise StatusgenError(f"cannot write the site to {out}: {exc.strerror}") from None


@contextlib.contextmanager
def _claimed(staging: Path) -> Iterator[None]:
    """MARKER first, locked while the render writes: a render killed mid-way leaves a folder
    that says it is statusgen's, and a render still running is told apart by its lock."""
    with open(staging / MARKER, "x") as marker:
        marker.write("This folder is written by statusgen render and replaced whole.\n")
        marker.flush()
        fcntl.flock(marker, fcntl.LOCK_EX)
        yield


def _remove_abandoned(out: Path) -> None:
    """Remove staging and previous folders left beside `out` by renders that were killed: only
    folders with statusgen's names and MARKER, and none whose render still holds the lock."""
    prefixes = (f".{out.name}.{STAGING}", f".{out.name}.{ASIDE}")
    try:
        entries = list(out.parent.iterdir())
    except OSError:
        return  # tidying up is a courtesy; the render itself reports what it cannot write
    for folder in entries:
        if not folder.name.startswith(prefixes) or folder.is_symlink() or not folder.is_dir():
            continue
        if _abandoned(folder):
            shutil.rmtree(folder, ignore_errors=True)
        elif folder.name.startswith(prefixes[1]):
            # Made empty, then killed before the swap; removing it loses nothing, and the rename
            # of a render swapping now works as well without it. (Not staging: an empty one may
            # be a running render's, not marked yet.)
            with contextlib.suppress(OSError):
                folder.rmdir()


def _abandoned(folder: Path) -> bool:
    try:
        # Non-blocking, or a FIFO under MARKER's name would hang the render here.
        descriptor = os.open(folder / MARKER, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False  # not marked: not statusgen's to remove
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return False
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False  # a render is writing it now
    finally:
        os.close(descriptor)
