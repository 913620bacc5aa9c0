"""Every file statusgen saves, with the version it writes and what it does with older ones.

One list, so that changing a format has one place to go: bump its version here, and write
the upgrade of the older version where the format is read. A file of a version this
statusgen does not know is refused with both versions named, never overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass

from statusgen.errors import HistoryError


@dataclass(frozen=True)
class Format:
    where: str  # the file, relative to history/ or the site
    version: int
    older: str  # what this statusgen does with a file of an older version


HISTORY = Format("runs/ and observations/date=…/part-*.parquet (and reachability/ beside them, latest/ and repeated/ for the finished days)", 3,
                 "versions 1 and 2 are read as they are, with no schedule (version 1's `status` column, a verdict, not a fact, left out)")
CATALOG = Format("catalog/catalog.json", 1, "none older")
ALERT_STATE = Format("alerts/state.json", 1, "none older")
PUBLISHED = Format(".statusgen-published.json in a publish target", 1, "none older")
STATUS_JSON = Format("status.json in the site", 1, "none older")
# Derived data, keyed by what made it rather than versioned: any mismatch means "recompute".
DERIVED = ("cache/timeline.parquet (keyed by a digest of the timeline's code and the window)",
           "cache/<connection>.json (a collector's conditional-request cache; a bad one is started afresh)")

FORMATS = {"history": HISTORY, "catalog": CATALOG, "alert state": ALERT_STATE, "publish record": PUBLISHED, "status.json": STATUS_JSON}


def check(name: str, found: object, where: object) -> None:
    """Refuse a file of another version than this statusgen writes (none is older yet)."""
    expected = FORMATS[name].version
    if found != expected:
        raise HistoryError(f"{where}: expected {name} version {expected}, found {found!r}; "
                           + ("upgrade statusgen" if isinstance(found, int) and found > expected else "it was not written by this statusgen"))
