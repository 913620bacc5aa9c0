"""Every folder and file under a history root, named once: whoever reads or writes history,
alerts, the catalog or a cache asks a Layout where it goes.

    runs/date=2026-11-22/part-<collection id>.parquet           one row per run seen
    observations/date=2026-11-22/part-<collection id>.parquet   one row per source seen
    reachability/date=2026-11-22/part-<…>--compacted.parquet    beside each compacted day
    latest/date=2026-11-22/part-<…>--compacted.parquet          one, beside the newest compacted day
    repeated/date=2026-11-22/part-<…>--compacted.parquet        one, beside the newest compacted day of runs
    catalog/catalog.json                                        what discovery found
    alerts/state.json                                           what alerts announced
    cache/                                                      derived data (statusgen.formats.DERIVED)
    quarantine/                                                 files that are not history, moved aside
    .statusgen-lock                                             held by readers and by compaction
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

DATASETS = ("runs", "observations")
REACHABILITY = "reachability"
LATEST = "latest"
REPEATED = "repeated"
# What compaction writes beside finished days (statusgen/history/digests.py, latest.py, repeated.py).
DIGESTS = (REACHABILITY, LATEST, REPEATED)
# Readers hold it shared for as long as their snapshot is open; compaction and retention,
# which delete files, hold it exclusively and skip their turn while anyone reads.
LOCK = ".statusgen-lock"
CATALOG = "catalog"  # what discovery found: see statusgen/history/catalog.py
DAY_PREFIX = "date="
PARTS = "part-*.parquet"
TEMPORARIES = ".*.tmp"  # statusgen.files writes under such a name, then renames


@dataclass(frozen=True)
class Layout:
    root: Path
    # Every snapshot asks for every day's digests, and compaction for every day's folders, and
    # making a Path costs more than finding it (the demo opens 200 snapshots and compacts 90
    # times, of up to 90 days): each Layout remembers the paths it made.
    _children: dict[tuple[Path, str], Path] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def catalog(self) -> Path:
        return self.root / CATALOG / "catalog.json"

    @property
    def alert_state(self) -> Path:
        return self.root / "alerts" / "state.json"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def lock(self) -> Path:
        return self.root / LOCK

    def dataset(self, name: str) -> Path:
        return self.child(self.root, name)

    def child(self, folder: Path, name: str) -> Path:
        """`folder / name`, made once."""
        made = self._children.get((folder, name))
        if made is None:
            made = self._children[folder, name] = folder / name
        return made

    def part(self, dataset: str, day: date, collection_id: str) -> Path:
        """Where one collection's rows of `dataset` for `day` go."""
        return self.dataset(dataset) / f"{DAY_PREFIX}{day.isoformat()}" / f"part-{collection_id}.parquet"

    @staticmethod
    def compacted(parts: list[Path]) -> Path:
        """The file that merges a day's `parts`: named after the first, so it sorts with them."""
        return parts[0].parent / f"part-{parts[0].stem.removeprefix('part-')}--compacted.parquet"

    def digest_of(self, digest: str, observations: Path) -> Path:
        """The `digest` file (one of DIGESTS) made from a day's observations file."""
        return self.child(self.child(self.dataset(digest), observations.parent.name), observations.name)

    def is_part(self, dataset: str, path: Path) -> bool:
        """Whether `path` is named as a file of `dataset` is: a part in a day's folder."""
        return (path.parent.parent == self.dataset(dataset) and path.parent.name.startswith(DAY_PREFIX)
                and path.name.startswith("part-") and path.suffix == ".parquet")

    def days(self, dataset: str) -> list[tuple[Path, date]]:
        """The date= entries of `dataset`, oldest first, with their day. Some may be links:
        statusgen writes none, and callers never follow one (compacting or deleting through
        it would change whatever it points to)."""
        found = [(folder, day_of(folder)) for folder in self._entries(self.dataset(dataset), DAY_PREFIX)]
        return [(folder, day) for folder, day in found if day is not None]

    def written_folders(self) -> list[Path]:
        """The folders compaction sweeps for temporaries a crashed writer left."""
        days = [day for top in self._entries(self.root, "", folders_only=True) for day in self._entries(top, DAY_PREFIX)]
        return [*days, self.cache, self.catalog.parent]

    def is_history(self) -> bool:
        """Whether the root holds a statusgen history: a dataset folder with day partitions."""
        return any(d.is_dir() and not d.is_symlink() and any(d.glob(f"{DAY_PREFIX}*")) for d in map(self.dataset, DATASETS))

    def _entries(self, folder: Path, prefix: str, folders_only: bool = False) -> list[Path]:
        """The entries of `folder` whose names start with `prefix`, sorted, as
        `sorted(folder.glob(prefix + "*"))` gives them at a fraction of its cost: compaction and
        retention look at every day at every run."""
        try:
            with os.scandir(folder) as entries:
                names = sorted(e.name for e in entries if e.name.startswith(prefix) and (not folders_only or e.is_dir()))
        except (FileNotFoundError, NotADirectoryError):
            return []
        return [self.child(folder, name) for name in names]


def day_of(folder: Path) -> date | None:
    """The day of a date= folder; None for any other."""
    if not folder.name.startswith(DAY_PREFIX):
        return None
    try:
        return date.fromisoformat(folder.name.removeprefix(DAY_PREFIX))
    except ValueError:
        return None
