"""Times as APIs write them, read into timezone-aware UTC."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


def utc_time(value: Any) -> datetime | None:
    """ISO 8601 text (a trailing Z allowed; no zone means UTC), or seconds since the epoch
    (milliseconds when that large). None for empty values; ValueError for anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, timezone.utc)
    if isinstance(value, str):
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return stamp.replace(tzinfo=timezone.utc) if stamp.tzinfo is None else stamp.astimezone(timezone.utc)
    raise ValueError(f"not a time: {value!r}")


def utc_time_or_none(value: Any) -> datetime | None:
    """utc_time for optional fields of an API answer: anything unreadable is None."""
    try:
        return utc_time(value)
    except (TypeError, ValueError):
        return None
