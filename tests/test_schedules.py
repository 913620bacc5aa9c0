"""Promises read from an orchestrator's schedule (#14 item 2): the deadline a schedule implies,
derived from history, and which promise wins."""

import shutil
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from statusgen import pipeline
from statusgen.config import load_config
from statusgen.deadlines import MAX_GRACE, Deadline
from statusgen.errors import ConfigError
from statusgen.history import History
from statusgen.promises import promises
from statusgen.records import Observation, Run, Schedule
from statusgen.schedules import GRACE, implied_deadline
from statusgen.status import Freshness, RunState, Status
from tests.conftest import FIXTURES, timeline_status, utc

UTC = ZoneInfo("UTC")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NIGHTLY = Schedule("0 2 * * *")


def nightly(usual: timedelta = timedelta(minutes=10)) -> Deadline:
    return implied_deadline(NIGHTLY, usual)


def test_a_schedules_ticks_fall_its_usual_duration_and_the_grace_after_its_own():
    deadline = nightly()
    assert deadline.shift == timedelta(minutes=10) + GRACE
    assert deadline.ticks(utc(2026, 11, 29, 12), utc(2026, 11, 30, 12)) == [utc(2026, 11, 30, 2, 25)]
    assert deadline.next_tick(utc(2026, 11, 30, 2, 10)) == utc(2026, 11, 30, 2, 25)
    assert deadline.latest_tick(utc(2026, 11, 30, 2, 10)) == utc(2026, 11, 29, 2, 25)


def test_only_a_landing_after_the_schedules_own_tick_counts_and_a_miss_is_late_until_the_next():
    (due,) = nightly().due(utc(2026, 11, 30, 3), utc(2026, 11, 30, 3))
    assert due == (utc(2026, 11, 30, 2, 25), utc(2026, 11, 30, 2), utc(2026, 12, 1, 2, 25))


def test_a_weekday_schedules_friday_run_is_late_until_mondays_is_due():
    deadline = implied_deadline(Schedule("0 6 * * 1-5", "Europe/Amsterdam"), timedelta(minutes=20))
    friday = deadline.due(utc(2026, 11, 27, 12), utc(2026, 11, 27, 12))
    assert [late_until for _, _, late_until in friday] == [utc(2026, 11, 30, 5, 35)]  # Monday 06:35 in Amsterdam


def test_a_miss_is_late_for_at_most_a_week():
    monthly = implied_deadline(Schedule("@monthly"), timedelta(0))
    (due,) = monthly.due(utc(2026, 11, 1, 1), utc(2026, 11, 1, 1))
    assert due[2] == due[0] + MAX_GRACE


def test_a_schedule_across_the_spring_clock_change_follows_cron_then_shifts_in_elapsed_time():
    # 02:30 does not exist in Amsterdam on 2026-03-29: the run starts at 03:00 local (01:00 UTC).
    deadline = implied_deadline(Schedule("30 2 * * *", "Europe/Amsterdam"), timedelta(minutes=5))
    assert deadline.ticks(utc(2026, 3, 28, 12), utc(2026, 3, 29, 12)) == [utc(2026, 3, 29, 1, 20)]


def test_the_usual_duration_is_rounded_up_to_whole_minutes_and_part_of_the_key():
    assert nightly(timedelta(minutes=9, seconds=1)).shift == timedelta(minutes=25)
    assert nightly(timedelta(minutes=9, seconds=1)).key == nightly(timedelta(minutes=10)).key
    assert nightly(timedelta(minutes=11)).key != nightly(timedelta(minutes=10)).key  # a cached timeline under the old one is stale


def test_a_schedule_statusgen_cannot_follow_implies_nothing():
    assert implied_deadline(Schedule("1 day, 0:00:00"), timedelta(0)) is None
    assert implied_deadline(Schedule("@daily", "Mars/Olympus"), timedelta(0)) is None


def test_the_promise_in_words():
    assert nightly().in_words() == "runs at 02:00 every day (UTC), usually done within 25 min (late until the next one is due too, then failing)"
    hourly = implied_deadline(Schedule("5 * * * *", "Europe/Amsterdam"), timedelta(minutes=3))
    assert hourly.in_words().startswith("runs at 05 minutes past every hour every day (Europe/Amsterdam), usually done within 18 min")


@pytest.mark.parametrize("now, status", [
    (utc(2026, 11, 30, 2, 20), Status.OPERATIONAL),  # the run is not expected yet
    (utc(2026, 11, 30, 2, 30), Status.DEGRADED),  # expected at 02:25: late
    (utc(2026, 12, 1, 2, 30), Status.FAILING),  # the next run's expected moment passed too
])
def test_a_missed_run_is_late_from_its_expected_moment_then_failing(tmp_path, now, status):
    runs = [(RunState.SUCCESS, utc(2026, 11, 29, 2, 9))]
    assert timeline_status(tmp_path, runs, now, Freshness(deadline=nightly())) is status


def test_a_run_before_the_schedules_tick_does_not_count_for_it(tmp_path):
    # A manual run at 01:55 lands after yesterday's run, but before tonight's 02:00: it is not tonight's.
    runs = [(RunState.SUCCESS, utc(2026, 11, 29, 2, 9)), (RunState.SUCCESS, utc(2026, 11, 30, 1, 55))]
    assert timeline_status(tmp_path, runs, utc(2026, 11, 30, 2, 30), Freshness(deadline=nightly())) is Status.DEGRADED
    runs.append((RunState.SUCCESS, utc(2026, 11, 30, 2, 40)))  # tonight's run, late: met from when it lands
    assert timeline_status(tmp_path / "late", runs, utc(2026, 11, 30, 2, 45), Freshness(deadline=nightly())) is Status.OPERATIONAL


def observation(source_id, at, schedule=None, error=None, warn_after_s=None):
    return Observation(source_id, f"c{at:%d%H%M}", at, None, None, error, None, 0, warn_after_s=warn_after_s,
                       schedule_cron=schedule.cron if schedule else None, schedule_timezone=schedule.timezone if schedule else None,
                       schedule_landed_within_s=int(schedule.landed_within.total_seconds()) if schedule and schedule.landed_within is not None else None)


def run(source_id, n, started, minutes, state=RunState.SUCCESS):
    return Run(source_id, f"r{n}", state, started, started + timedelta(minutes=minutes))


def test_the_usual_duration_is_the_90th_percentile_of_the_last_20_successful_runs(tmp_path):
    history = History(tmp_path / "history")
    start = utc(2026, 11, 1, 2)
    old = [run("a", n, start + timedelta(days=n), 120) for n in range(5)]  # long ago, and slow: no longer usual
    recent = [run("a", 5 + n, start + timedelta(days=5 + n), n + 1) for n in range(20)]  # 1 to 20 minutes
    failed = [run("a", 99, start + timedelta(days=25, hours=1), 300, RunState.FAILED)]  # not a success: not usual
    history.append("c1", utc(2026, 11, 27), old + recent + failed, [observation("a", utc(2026, 11, 27), NIGHTLY)])
    (deadline,) = [p.deadline for p in history.open().declared_promises().values()]
    assert deadline.shift == timedelta(minutes=18) + GRACE  # the 18th of 20 sorted durations


def test_a_schedule_with_no_successful_run_yet_expects_it_within_the_grace(tmp_path):
    history = History(tmp_path / "history")
    history.append("c1", utc(2026, 11, 27), [], [observation("a", utc(2026, 11, 27), NIGHTLY)])
    assert history.open().declared_promises() == {"a": Freshness(deadline=nightly(timedelta(0)))}


def test_declared_ages_win_over_a_schedule_and_the_last_reachable_collection_says_the_schedule(tmp_path):
    history = History(tmp_path / "history")
    history.append("c1", utc(2026, 11, 27), [], [observation("aged", utc(2026, 11, 27), NIGHTLY, warn_after_s=3600),
                                                 observation("dropped", utc(2026, 11, 27), NIGHTLY),
                                                 observation("kept", utc(2026, 11, 27), NIGHTLY)])
    history.append("c2", utc(2026, 11, 28), [], [observation("dropped", utc(2026, 11, 28)),  # its system has none now
                                                 observation("kept", utc(2026, 11, 28), error="timed out")])  # not reached
    found = history.open().declared_promises()
    assert found["aged"] == Freshness(timedelta(hours=1))
    assert "dropped" not in found
    assert found["kept"] == Freshness(deadline=nightly(timedelta(0)))


def test_a_history_file_of_version_2_reads_with_no_schedule(tmp_path):
    shutil.copytree(FIXTURES / "history_v2", tmp_path / "history")
    snapshot = History(tmp_path / "history").open()
    assert not snapshot.warnings
    (seen,) = snapshot.latest_observations().values()
    assert (seen.source_id, seen.warn_after_s, seen.schedule_cron, seen.schedule_timezone) == ("orders", 3600, None, None)
    assert snapshot.declared_promises() == {"orders": Freshness(timedelta(hours=1), timedelta(hours=2))}


PRECEDENCE = """
    connections:
      af: {type: airflow, url: http://airflow:8080, token: "${AIRFLOW_TOKEN:-t}"}
    sources:
      - {id: read, connection: af, dag_id: a}
      - {id: written, connection: af, dag_id: b, freshness: {warn_after: 2h}}
      - {id: unpromised, connection: af, dag_id: c, freshness: none}
"""


def test_sources_yaml_wins_and_none_turns_a_read_promise_off(write_config, tmp_path):
    config = load_config(write_config(PRECEDENCE), {})
    history = History(tmp_path / "history")
    history.append("c1", utc(2026, 11, 27), [], [observation(s, utc(2026, 11, 27), NIGHTLY) for s in ("read", "written", "unpromised")])
    found = promises(config, history.open())
    assert found == {"read": Freshness(deadline=nightly(timedelta(0))), "written": Freshness(timedelta(hours=2)),
                     "unpromised": Freshness()}


@pytest.mark.parametrize("freshness", ["nope", "3", "[none]"])
def test_freshness_is_a_promise_or_none_and_validate_says_so(write_config, freshness):
    path = write_config(f"""
        connections:
          wh: {{type: sql, database: wh.duckdb}}
        sources:
          - {{id: a, connection: wh, query: SELECT 1, freshness: {freshness}}}
    """)
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    (problem,) = caught.value.problems
    assert str(problem).startswith("sources.yaml:4:") and "sources[0].freshness: expected a promise" in str(problem)
    assert "or none (no promise, not even one read from its system)" in str(problem)


AIRFLOW = """
    connections:
      af: {{type: airflow, url: "{url}", token: "${{AIRFLOW_TOKEN:-t}}"}}
    sources:
      - {{id: nightly, connection: af, dag_id: nightly}}
"""


def test_a_collection_judges_its_sources_by_the_schedule_it_just_read(write_config, tmp_path, httpserver):
    """The collect summary's statuses come from the same promises as the page's: the schedule
    the collection reported is in history before they are judged."""
    dag = {"dag_id": "nightly", "is_paused": False, "timetable_summary": "0 2 * * *", "next_dagrun_run_after": "2026-12-01T02:00:00Z"}
    httpserver.expect_request("/api/v2/dags").respond_with_json({"dags": [dag], "total_entries": 1})
    run = {"dag_id": "nightly", "dag_run_id": "scheduled__2026-11-29", "state": "success",
           "start_date": "2026-11-29T02:00:00Z", "end_date": "2026-11-29T02:10:00Z"}
    httpserver.expect_request("/api/v2/dags/~/dagRuns/list").respond_with_json({"dag_runs": [run], "total_entries": 1})
    config = load_config(write_config(AIRFLOW.format(url=httpserver.url_for("/").rstrip("/"))), {})
    history = History(tmp_path / "history")
    statuses = [pipeline.collect(config, history, at).lines[0].status for at in (utc(2026, 11, 29, 3), utc(2026, 11, 30, 2, 30))]
    assert statuses == [Status.OPERATIONAL, Status.DEGRADED]  # due at 02:25 (10 min usual, 15 min grace), and late


def test_a_schedule_of_deadlines_is_met_by_a_landing_within_its_bound_with_no_run_to_wait_for(tmp_path):
    # Dagster's FreshnessPolicy.cron: by 06:00 on weekdays, a materialization in the 6 h before.
    policy = Schedule("0 6 * * 1-5", "Europe/Amsterdam", landed_within=timedelta(hours=6))
    history = History(tmp_path / "history")
    history.append("c1", utc(2026, 11, 27), [run("a", 1, utc(2026, 11, 20, 4), 30)], [observation("a", utc(2026, 11, 27), policy)])
    (deadline,) = [p.deadline for p in history.open().declared_promises().values()]
    assert deadline == Deadline("0 6 * * 1-5", AMSTERDAM, since=timedelta(hours=6), grace=None)  # no usual duration added
    assert deadline.next_tick(utc(2026, 11, 30, 4)) == utc(2026, 11, 30, 5)  # 06:00 in Amsterdam
    # A materialization at 04:30 Amsterdam meets Monday's 06:00; one on Sunday evening is too early.
    assert timeline_status(tmp_path / "met", [(RunState.SUCCESS, utc(2026, 11, 30, 3, 30))], utc(2026, 11, 30, 6), Freshness(deadline=deadline)) == Status.OPERATIONAL
    assert timeline_status(tmp_path / "early", [(RunState.SUCCESS, utc(2026, 11, 29, 20))], utc(2026, 11, 30, 6), Freshness(deadline=deadline)) == Status.DEGRADED
