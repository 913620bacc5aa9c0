"""What a History has listed of its folders, kept while each folder's modification time
says that nothing in it changed.

Adding, renaming into place or deleting a file changes its folder's modification time, and
history files are never changed in place: a folder whose time is the same as when it was
listed holds the same files, at the same versions. Every snapshot lists history (the demo
opens it 200 times), and most of its day folders have not changed for days, so only the
folders whose time moved are listed again.

A file system keeps these times at a coarse granularity: a file renamed into a folder in
the same tick as, but just after, its listing would leave the time as it was. A folder
changed less than RACY_NS before it was listed is therefore listed again the next time
(git calls such entries "racily clean").
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from statusgen.history.parquet import FileKey

RACY_NS = 2_000_000_000


@dataclass(frozen=True)
class Folder:
    """One folder's files (hidden names left out), as listed."""

    path: str
    files: list[Path]
    keys: dict[Path, FileKey]  # of each of `files` still there when listed
    stamp: int | None  # its modification time; None when too recent to say it is unchanged later


class Listing:
    """The folders listed so far under any root, by path. Threads may share it."""

    def __init__(self) -> None:
        self._folders: dict[str, tuple[Folder, list[str]]] = {}  # path → (folder, its subfolders' paths)
        self._lock = threading.Lock()

    def walk(self, top: Path) -> list[Folder]:
        """`top` and every folder under it, each with its files, in the order paths sort;
        links to folders are neither listed nor followed, as os.walk does."""
        found: list[Folder] = []
        self._walk(str(top), found)
        return found

    def _walk(self, path: str, found: list[Folder]) -> None:
        try:
            mtime = os.stat(path).st_mtime_ns
        except OSError:
            with self._lock:
                self._folders.pop(path, None)  # deleted (retention): what it held is gone
            return
        with self._lock:
            known = self._folders.get(path)
        if known is None or known[0].stamp != mtime:
            known = self._list(path, mtime)
            with self._lock:
                self._folders[path] = known
        folder, subfolders = known
        found.append(folder)
        for subfolder in subfolders:
            self._walk(subfolder, found)

    @staticmethod
    def _list(path: str, mtime: int) -> tuple[Folder, list[str]]:
        listed_at = time.time_ns()
        files, subfolders = [], []
        try:
            with os.scandir(path) as entries:
                for entry in entries:
                    if entry.is_dir():
                        if not entry.is_symlink():
                            subfolders.append(entry.path)
                    elif not entry.name.startswith("."):
                        files.append(entry.path)
        except OSError:
            return Folder(path, [], {}, None), []
        keys = {}
        for name in sorted(files):
            try:
                stat = os.stat(name)
            except FileNotFoundError:
                continue  # removed since it was listed
            file = Path(name)
            keys[file] = (file, stat.st_mtime_ns, stat.st_size)
        stamp = mtime if listed_at - mtime > RACY_NS else None
        return Folder(path, list(keys), keys, stamp), sorted(subfolders)
