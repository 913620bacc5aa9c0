from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from statusgen import status
from statusgen.status import (
    FINISHED_STATE_STATUS,
    SAME_INSTANT_RANK,
    SEVERITY,
    Freshness,
    RunState,
    Status,
    run_order,
    same_instant_rank_sql,
    worse_state,
    worst,
)
from statusgen.timeline.queries import state_severity_sql
from tests.conftest import timeline_status, utc

NOW = utc(2026, 11, 22, 12)
PROMISE = Freshness(warn_after=timedelta(hours=2), error_after=timedelta(hours=6))


@pytest.mark.parametrize(
    ("state", "success_age", "expected"),
    [
        (RunState.SUCCESS, timedelta(minutes=30), Status.OPERATIONAL),
        (RunState.SUCCESS, timedelta(hours=2), Status.OPERATIONAL),  # at the limit is still on time
        (RunState.SUCCESS, timedelta(hours=2, seconds=1), Status.DEGRADED),
        (RunState.SUCCESS, timedelta(hours=7), Status.FAILING),
        (RunState.WARNING, timedelta(minutes=5), Status.DEGRADED),
        (RunState.CANCELLED, timedelta(minutes=5), Status.DEGRADED),
        (RunState.SKIPPED, timedelta(minutes=5), Status.DEGRADED),
        (RunState.FAILED, timedelta(minutes=5), Status.FAILING),
        (RunState.WARNING, timedelta(hours=7), Status.FAILING),  # the worse of the two facts
        (RunState.FAILED, None, Status.FAILING),
        (None, None, Status.UNKNOWN),  # nothing ran yet
    ],
)
def test_rule_table(tmp_path, state, success_age, expected):
    # Through the timeline: it is the only place a status is decided.
    runs = [(RunState.SUCCESS, NOW - success_age)] if success_age is not None else []
    if state is not None and state is not RunState.SUCCESS:
        runs.append((state, NOW - timedelta(minutes=1)))
    assert timeline_status(tmp_path, runs, NOW, PROMISE) is expected


def test_without_a_promise_age_never_degrades(tmp_path):
    assert timeline_status(tmp_path, [(RunState.SUCCESS, NOW - timedelta(days=20))], NOW, Freshness()) is Status.OPERATIONAL


def test_only_error_after_skips_degraded(tmp_path):
    promise = Freshness(error_after=timedelta(hours=1))
    assert timeline_status(tmp_path / "a", [(RunState.SUCCESS, NOW - timedelta(minutes=59))], NOW, promise) is Status.OPERATIONAL
    assert timeline_status(tmp_path / "b", [(RunState.SUCCESS, NOW - timedelta(minutes=61))], NOW, promise) is Status.FAILING


def test_nothing_but_the_timeline_decides_a_status():
    # The rule's tables live in statusgen.status and reach SQL only through its generators;
    # no other module maps run states or ages to statuses.
    root = Path(__file__).parent.parent / "statusgen"
    readers = {path.name for path in root.rglob("*.py") if "FINISHED_STATE_STATUS" in path.read_text()}
    assert readers == {"status.py", "queries.py"}
    assert not any("def evaluate" in path.read_text() or "status_at_age" in path.read_text() for path in root.rglob("*.py"))
    assert state_severity_sql("x") == "CASE x " + " ".join(
        f"WHEN '{state.value}' THEN {SEVERITY[status]}" for state, status in FINISHED_STATE_STATUS.items()) + f" ELSE {SEVERITY[Status.UNKNOWN]} END"


def test_the_timeline_sql_names_no_state_status_or_severity():
    # Issue #12: the rule reaches the .sql files only as parts generated from statusgen.status.
    sql = Path(__file__).parent.parent / "statusgen" / "timeline" / "sql"
    words = {f"'{name.value}'" for name in [*RunState, *Status]}
    for path in sql.glob("*.sql"):
        code = "\n".join(line.split("--")[0] for line in path.read_text().splitlines())
        assert not [word for word in words if word in code], path.name


def test_the_timeline_follows_the_rule_tables_in_status_py(tmp_path, monkeypatch):
    # Change the rule in statusgen.status alone: the timeline's verdict follows.
    skipped = [(RunState.SUCCESS, NOW - timedelta(minutes=30)), (RunState.SKIPPED, NOW - timedelta(minutes=5))]
    assert timeline_status(tmp_path / "a", skipped, NOW, PROMISE) is Status.DEGRADED
    monkeypatch.setitem(status.FINISHED_STATE_STATUS, RunState.SKIPPED, Status.FAILING)
    assert timeline_status(tmp_path / "b", skipped, NOW, PROMISE) is Status.FAILING


def test_running_and_queued_are_not_finished_states():
    assert RunState.RUNNING not in FINISHED_STATE_STATUS
    assert RunState.QUEUED not in FINISHED_STATE_STATUS


def test_worst_orders_known_failure_above_unknown_above_green():
    assert worst([Status.OPERATIONAL, Status.UNKNOWN]) is Status.UNKNOWN
    assert worst([Status.UNKNOWN, Status.FAILING, Status.DEGRADED]) is Status.FAILING
    assert worst([]) is Status.UNKNOWN


def test_worse_state_follows_the_status_it_leads_to():
    assert worse_state(RunState.SUCCESS, RunState.WARNING) is RunState.WARNING
    assert worse_state(RunState.FAILED, RunState.WARNING) is RunState.FAILED


def test_runs_ending_at_the_same_instant_have_one_order_in_python_and_sql():
    at = utc(2026, 11, 22, 12)
    in_order = sorted(SAME_INSTANT_RANK, key=lambda state: run_order(at, state))
    assert in_order == [RunState.SUCCESS, RunState.CANCELLED, RunState.SKIPPED, RunState.WARNING, RunState.FAILED]
    assert run_order(at, RunState.FAILED) < run_order(at + timedelta(seconds=1), RunState.SUCCESS)
    with duckdb.connect() as db:
        for state, rank in SAME_INSTANT_RANK.items():
            assert db.execute(f"SELECT {same_instant_rank_sql(repr(state.value))}").fetchone()[0] == rank
