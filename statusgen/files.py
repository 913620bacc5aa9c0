"""Whole-or-nothing files: every stage that keeps a file between runs (history, the alert
state, a collector's request cache) writes and reads it through here.

A file is written under a hidden temporary name, flushed to disk and renamed, so a reader
sees a whole file or none, and a crash leaves the old one whole. No link is ever written
or read through: statusgen makes none, and following one would touch whatever it points to.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from pathlib import Path
from typing import Callable, TypeVar

from statusgen.errors import HistoryError

T = TypeVar("T")


def write_text(target: Path, text: str) -> None:
    """Write `text` to `target` so that readers see the whole file or none of it."""

    def write(temporary: Path) -> None:
        # "x" creates a new file or fails, even when a link waits under that name: a planted
        # link is never written through. The rename then replaces a link at `target` itself.
        with open(temporary, "x", encoding="utf-8") as handle:
            handle.write(text)

    write_atomically(target, write)


def read_text(path: Path) -> str:
    """The text of a file statusgen wrote; OSError (ELOOP) if it is a link, as statusgen
    writes none and following one would read whatever it points to."""
    with open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), encoding="utf-8") as handle:
        return handle.read()


def write_atomically(target: Path, write: Callable[[Path], T], failures: tuple[type[Exception], ...] = ()) -> T:
    """Under a hidden temporary name, flushed, then renamed: a crash leaves the old file whole.
    `write` fills the temporary file, and what it returns is returned; an OSError, or one of
    `failures` (the errors of the library that writes it), becomes a HistoryError naming `target`."""
    temporary = target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        written = write(temporary)
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, target)
        _fsync_dir(target.parent)
    except (OSError, *failures) as exc:
        _remove(temporary)
        raise HistoryError(f"cannot write history file {target}: {reason(exc)}") from None
    return written


def reason(exc: Exception) -> str:
    """The operating system's words ("No space left on device") where there are some: DuckDB
    buries them at the end of a long message that repeats the file's path."""
    if getattr(exc, "strerror", None):
        return exc.strerror
    text = str(exc)
    return next((words for words in _OS_REASONS if words in text), text.splitlines()[0][:200])


_OS_REASONS = tuple(os.strerror(code) for code in sorted(errno.errorcode))


def _remove(path: Path) -> None:
    """Best-effort cleanup of a temporary file: its folder may not even exist."""
    with contextlib.suppress(OSError):
        path.unlink()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
