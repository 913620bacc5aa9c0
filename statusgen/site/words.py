"""The page's words for statuses, times and days: shared by the page model (a strip's day
labels) and the templates (filters), so the two always say the same thing."""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta

from statusgen.status import Status
from statusgen.timeline import Day

STATUS_LABEL = {
    Status.OPERATIONAL: "Operational",
    Status.DEGRADED: "Degraded",
    Status.FAILING: "Failing",
    Status.UNKNOWN: "Unknown",
    Status.MAINTENANCE: "Maintenance",
}
BANNER = {
    Status.OPERATIONAL: "All data is fresh",
    Status.DEGRADED: "Some data is late or incomplete",
    Status.FAILING: "Some data is failing",
    Status.UNKNOWN: "Some statuses are unknown",
    Status.MAINTENANCE: "Maintenance in progress",
}


def iso(value: datetime | None) -> str | None:
    """A moment as the machine-readable files write it: ISO 8601, UTC as Z."""
    return value.isoformat().replace("+00:00", "Z") if value else None


def ago(delta: timedelta) -> str:
    """How long ago, to two units: "1 d" for 30 hours beside "failing after 1 d" would not
    explain the status; "1 d 6 h" does."""
    if delta < timedelta(0):
        return "in the future"
    return "just now" if delta < timedelta(minutes=1) else f"{duration(delta)} ago"


def duration(delta: timedelta | None, parts: int = 2) -> str:
    return "—" if delta is None else duration_of(int(delta.total_seconds()), parts)


@functools.lru_cache(maxsize=4096)  # a render writes the same few hundred durations a hundred thousand times
def duration_of(seconds: int, parts: int = 2) -> str:
    if seconds < 60:
        return f"{seconds} s"
    units = [("d", 86400), ("h", 3600), ("min", 60)]
    out = []
    for name, size in units:
        if seconds >= size and len(out) < parts:
            out.append(f"{seconds // size} {name}")
            seconds %= size
        elif out:
            break
    return " ".join(out)


_TROUBLE_WORDS = [(s, STATUS_LABEL[s].lower()) for s in (Status.FAILING, Status.DEGRADED, Status.UNKNOWN, Status.MAINTENANCE)]


def day_label(day: Day) -> str:
    return f"{short_date(day.day)}: {day_words(day)}"


def day_words(day: Day) -> str:
    """What happened on a day, without its date: `2 h failing, 1 failed run, incident: Orders late`."""
    # Drawing a site writes a hundred thousand of these, nearly all alike: cached by content.
    return _words(tuple(day.seconds.items()), day.failed_runs, day.incidents, day.no_data > 0)


@functools.lru_cache(maxsize=4096)
def _words(seconds: tuple[tuple[Status, int], ...], failed_runs: int, incidents: tuple[str, ...], partly_no_data: bool) -> str:
    spent = dict(seconds)
    if not any(value > 0 for value in spent.values()):
        return "no data"
    parts = [f"{duration_of(spent[s])} {word}" for s, word in _TROUBLE_WORDS if spent.get(s)]
    if failed_runs:
        parts.append(f"{failed_runs} failed run{'s' if failed_runs > 1 else ''}")
    parts += [f"incident: {title}" for title in incidents]
    text = ", ".join(parts) if parts else "operational"
    return text + (", partly no data" if partly_no_data else "")


@functools.lru_cache(maxsize=1024)
def short_date(day: date) -> str:
    return day.strftime("%b %-d")
