"""Runs + observations → status over time → days on the bars: the Timeline (see its module)."""

from statusgen.timeline.cache import Cache, NoCache, ParquetCache, kept_by
from statusgen.timeline.days import Day, Window, time_in, uptime
from statusgen.timeline.timeline import Change, Now, OnTime, Segment, Timeline, Why, statuses_at

__all__ = ["Cache", "Change", "Day", "NoCache", "Now", "OnTime", "ParquetCache", "Segment", "Timeline", "Why", "Window", "kept_by", "statuses_at", "time_in", "uptime"]
