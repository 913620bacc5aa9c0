"""The timeline's SQL: the named `.sql` files in `sql/`, with the status rule filled in.

No file names a run state, a status or a severity: each is a `{part}` generated here from
the tables of statusgen.status, so the rule has one source and the SQL cannot drift from it.
Parts a caller passes (a table name, SQL another module generates) are filled in the same way.
"""

from __future__ import annotations

import functools
import re
from importlib.resources import files

from statusgen import status

_PART = re.compile(r"\{(\w+)\}")
# Up to 2**24 members of one component in one status at once.
_COUNT_BITS = 24


def query(name: str, **parts: str) -> str:
    """The text of `sql/<name>.sql` with every `{part}` filled in; a part no one gives is an error."""
    given = {**rule_parts(), **parts}
    return _PART.sub(lambda found: given[found.group(1)], _text(name))


def rule_parts() -> dict[str, str]:
    """The status rule as SQL, from statusgen.status."""
    severity = status.SEVERITY
    return {
        "state_severity": state_severity_sql("state"),
        "run_order": status.run_order_sql("ended_at", "state"),
        "counted_state": status.counted_state_sql("r.state", "r.rows_loaded", "p.min_rows"),
        "finished_states": ", ".join(_literal(state) for state in status.FINISHED_STATE_STATUS),
        # A run's state as the timeline's tables hold it: an ENUM is one byte where a VARCHAR
        # is sixteen, and the sources' timeline sorts and carries 2 M of them at 1,000 sources
        # × 90 days (a render 0.3 s of CPU less).
        "state_type": "ENUM(" + ", ".join(_literal(state) for state in status.RunState) + ")",
        "success_state": _literal(status.RunState.SUCCESS),
        "failed_state": _literal(status.RunState.FAILED),
        **{name.lower(): str(severity[s]) for name, s in status.Status.__members__.items()},
        **_counted_severity_parts(),
        **_event_order_parts(),
    }


def _event_order_parts() -> dict[str, str]:
    """The sources' timeline's events in one BIGINT order (source_segments.sql): the runs' order
    (statusgen.status.run_order_sql) one place up, so that at one instant the cache's state
    comes first, then runs, collections that did not reach the source then those that did,
    and deadlines last. Sorting 2.2 M events by one number, not by four columns, is ≈ 0.3 s of
    CPU less at 1,000 sources × 90 days. Each part names the columns of its query in that file."""
    ranks, scale = len(status.SAME_INSTANT_RANK), status.RUN_ORDER_SCALE
    assert ranks + 4 <= scale, "each event at one instant needs a place of its own"
    at = lambda instant, place: f"epoch_us({instant}) * {scale} + {place}"  # noqa: E731
    return {
        "carried_seq": at("$cutoff::TIMESTAMP", 0),
        "run_seq": f"{status.run_order_sql('r.ended_at', 'r.state')} + 1",
        "change_seq": at("h.t", f"{ranks + 1} + h.ok::INTEGER"),
        "tick_seq": at("k.t", ranks + 3),
    }


def _counted_severity_parts() -> dict[str, str]:
    """How many members of a component are in each status at once (component_segments.sql),
    as one number: a field of _COUNT_BITS bits per severity, so that one running sum counts
    them all (a running sum per severity took twice the CPU). `member_count` is what a
    member's segment of severity `sev` adds (`delta` 1) or takes (-1) there; `worst_counted`
    the worst severity such a count `n` holds a member in, NULL when it holds none."""
    ranks = sorted(set(status.SEVERITY.values()), reverse=True)
    assert (max(ranks) + 1) * _COUNT_BITS < 127, "the fields must fit in a HUGEINT"
    return {
        "member_count": f"delta * (1::HUGEINT << ({_COUNT_BITS} * sev))",
        "worst_counted": "CASE " + " ".join(f"WHEN n >= 1::HUGEINT << {_COUNT_BITS * r} THEN {r}" for r in ranks) + " END",
    }


def state_severity_sql(column: str) -> str:
    """SQL for the severity a finished run state leads to (unknown when there is none)."""
    severity = status.SEVERITY
    cases = " ".join(f"WHEN {_literal(state)} THEN {severity[s]}" for state, s in status.FINISHED_STATE_STATUS.items())
    return f"CASE {column} {cases} ELSE {severity[status.Status.UNKNOWN]} END"


@functools.cache
def _text(name: str) -> str:
    return files(__package__).joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


def _literal(state: status.RunState) -> str:
    return f"'{state.value}'"
