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


def query(name: str, **parts: str) -> str:
    """The text of `sql/<name>.sql` with every `{part}` filled in; a part no one gives is an error."""
    given = {**rule_parts(), **parts}
    return _PART.sub(lambda found: given[found.group(1)], _text(name))


def rule_parts() -> dict[str, str]:
    """The status rule as SQL, from statusgen.status."""
    severity = status.SEVERITY
    return {
        "state_severity": state_severity_sql("state"),
        "same_instant_rank": status.same_instant_rank_sql("state"),
        "counted_state": status.counted_state_sql("r.state", "r.rows_loaded", "p.min_rows"),
        "finished_states": ", ".join(_literal(state) for state in status.FINISHED_STATE_STATUS),
        "success_state": _literal(status.RunState.SUCCESS),
        "failed_state": _literal(status.RunState.FAILED),
        **{name.lower(): str(severity[s]) for name, s in status.Status.__members__.items()},
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
