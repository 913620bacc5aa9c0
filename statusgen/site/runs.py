"""A source's recent runs as the page's table: only the columns some run has a value for,
and a run's id only where it names more than the moment the table already shows."""

from __future__ import annotations

from typing import Sequence

from statusgen.records import Run

# In the table's order; the state is always known, so it is always a column.
COLUMNS = ("run", "state", "started", "ended", "took", "rows")


def own_id(run: Run) -> str | None:
    """Its id, or None where the id is only a kind and the moment it ended (`loaded@…`,
    `check@…`: what a collector names an event that has no id of its own). Printed, that id
    repeats the Ended column, in UTC beside a column in the site's zone."""
    if run.ended_at is not None and run.run_id.endswith(f"@{run.ended_at.isoformat()}"):
        return None
    return run.run_id


def columns(runs: Sequence[Run]) -> tuple[str, ...]:
    """The columns with a value in at least one run: a column of dashes says nothing."""
    present = {
        "run": any(own_id(r) for r in runs),
        "state": True,
        "started": any(r.started_at for r in runs),
        "ended": any(r.ended_at for r in runs),
        "took": any(r.duration is not None for r in runs),
        "rows": any(r.rows_loaded is not None for r in runs),
    }
    return tuple(name for name in COLUMNS if present[name])
