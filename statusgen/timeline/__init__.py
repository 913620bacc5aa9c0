"""Runs + observations → status over time → days on the bars (see statusgen.timeline.timeline)."""

from statusgen.timeline.timeline import (
    Day,
    Window,
    build_component_segments,
    build_source_segments,
    daily,
    empty_bar,
    failed_runs,
    state_severity_sql,
    status_since,
    uptime,
)

__all__ = ["Day", "Window", "build_component_segments", "build_source_segments", "daily", "empty_bar", "failed_runs",
           "state_severity_sql", "status_since", "uptime"]
