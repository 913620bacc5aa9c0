"""The airflow collector against a real Airflow 3 (`airflow standalone`, SQLite) on 127.0.0.1."""

import re
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest
import requests
from click.testing import CliRunner

from statusgen import pipeline
from statusgen.cli import main
from statusgen.collectors.airflow import (
    AirflowCollector,
    AirflowConnection,
    AirflowSource,
)
from statusgen.config import Config, HistoryConfig, SiteConfig
from statusgen.errors import CollectorError
from statusgen.history import History
from statusgen.status import RunState, Status
from tests.asked import sources_at
from tests.conftest import collected, context, stored_runs
from tests.servers import AIRFLOW_PASSWORD as PASSWORD
from tests.servers import airflow_api as api
from tests.servers import airflow_standalone
from tests.servers import airflow_trigger as trigger

pytestmark = pytest.mark.integration

DAGS = '''
from datetime import datetime
from airflow.sdk import dag, task

@dag(schedule=None, start_date=datetime(2026, 1, 1), catchup=False)
def orders_load():
    @task
    def load_orders():
        return 42
    load_orders()

@dag(schedule=None, start_date=datetime(2026, 1, 1), catchup=False)
def revenue_report():
    @task
    def build_revenue():
        raise ValueError("revenue source table is missing")
    build_revenue()

@dag(schedule=None, start_date=datetime(2026, 1, 1), catchup=False)
def legacy_export():
    @task
    def export():
        return 1
    export()

orders_load()
revenue_report()
legacy_export()
'''

# A nightly DAG whose last tick passed an hour before the server starts: with catchup off, the
# scheduler runs that tick at once (retried: its first try can come before the API the task
# reports to is up), and the next falls a day later. statusgen is then asked with --now around
# the next ticks, without waiting for them. The server's default zone is Amsterdam's: a DAG
# with a naive start_date ticks there, one with a zone of its own where the API does not say
# (both paused, so that only their schedules are read, and the small server runs nothing more).
TICK = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(second=0, microsecond=0)
SCHEDULED = f"""
from datetime import datetime, timedelta
import pendulum
from airflow.sdk import dag, task

@dag(schedule="{TICK.minute} {TICK.hour} * * *", start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False,
     default_args={{"retries": 6, "retry_delay": timedelta(seconds=10)}})
def nightly_orders():
    @task
    def load():
        return 1
    load()

@dag(schedule="0 6 * * *", start_date=datetime(2026, 1, 1), catchup=False, is_paused_upon_creation=True)
def amsterdam_report():
    @task
    def build():
        return 1
    build()

@dag(schedule="0 6 * * *", start_date=pendulum.datetime(2026, 1, 1, tz="America/New_York"), catchup=False,
     is_paused_upon_creation=True)
def new_york_report():
    @task
    def build():
        return 1
    build()

nightly_orders()
amsterdam_report()
new_york_report()
"""


@pytest.fixture(scope="module")
def airflow(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow")
    (home / "dags").mkdir()
    (home / "dags/pipelines.py").write_text(DAGS)
    (home / "dags/scheduled.py").write_text(SCHEDULED)
    server, base = airflow_standalone(home, {"AIRFLOW__CORE__DEFAULT_TIMEZONE": "Europe/Amsterdam"})
    try:
        yield base, server
    finally:
        server.stop()


def wait(check, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            value = check()
        except requests.Timeout:
            # A server just started (parsing DAGs, running the nightly DAG's first tick) on a
            # loaded machine can take longer than a poll's timeout to answer: ask again.
            continue
        if value:
            return value
        time.sleep(1)
    raise TimeoutError(what)


def test_runs_states_times_and_pauses_match_what_airflow_reports(airflow):
    base, server = airflow
    session = api(base)
    wanted = {"orders_load", "revenue_report", "legacy_export"}
    wait(lambda: wanted <= {d["dag_id"] for d in session.get(f"{base}/api/v2/dags").json().get("dags", [])}, 120,
         f"DAGs not parsed:\n{server.tail()}")
    session.patch(f"{base}/api/v2/dags/legacy_export", json={"is_paused": True}, timeout=10).raise_for_status()
    triggered = {}
    for dag_id in ("orders_load", "revenue_report"):
        triggered[dag_id] = trigger(session, base, dag_id, server)

    def finished():
        runs = {}
        for dag_id, run_id in triggered.items():
            run = session.get(f"{base}/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}", timeout=10).json()
            if run["state"] not in ("success", "failed"):
                return None
            runs[dag_id] = run
        return runs

    airflow_runs = wait(finished, 240, f"runs did not finish:\n{server.tail()}")

    connection = AirflowConnection(type="airflow", url=base, username="admin", password=PASSWORD, timeout=timedelta(seconds=30))
    collector = AirflowCollector("local_airflow", connection)
    sources = [
        AirflowSource(id="orders", connection="local_airflow", dag_id="orders_load"),
        AirflowSource(id="revenue", connection="local_airflow", dag_id="revenue_report"),
        AirflowSource(id="revenue_task", connection="local_airflow", dag_id="revenue_report", task_id="build_revenue"),
        AirflowSource(id="legacy", connection="local_airflow", dag_id="legacy_export"),
    ]
    now = datetime.now(timezone.utc)
    ctx = context(collector, None, now)
    reports = {r.source_id: r for r in collector.collect(sources, ctx)}

    (orders,) = reports["orders"].runs
    assert (orders.run_id, orders.state) == (triggered["orders_load"], RunState.SUCCESS)
    assert orders.ended_at == datetime.fromisoformat(airflow_runs["orders_load"]["end_date"].replace("Z", "+00:00"))
    assert orders.url == f"{base}/dags/orders_load/runs/{quote(triggered['orders_load'], safe='')}"
    (revenue,) = reports["revenue"].runs
    assert (revenue.run_id, revenue.state) == (triggered["revenue_report"], RunState.FAILED)
    (task,) = reports["revenue_task"].runs
    assert (task.run_id, task.state) == (triggered["revenue_report"], RunState.FAILED)
    assert task.url.endswith("/tasks/build_revenue")
    assert reports["legacy"].paused and reports["legacy"].message == "Paused in Airflow (DAG legacy_export)"
    assert ctx.api.requests_made == 4  # token, the DAGs, DAG runs, task instances

    # A later collection asks only for runs that ended since (less a 5-minute overlap,
    # which re-reads the same run harmlessly); later still, there is nothing new.
    again = {r.source_id: r for r in collected(AirflowCollector("local_airflow", connection), sources, now, now)}
    assert [r.run_id for r in again["orders"].runs] == [triggered["orders_load"]]
    later = now + timedelta(minutes=10)
    quiet = {r.source_id: r for r in collected(AirflowCollector("local_airflow", connection), sources, later, later)}
    assert quiet["orders"].runs == [] and quiet["orders"].message.startswith("no finished runs since")


def test_a_paused_dag_is_unknown_without_turning_off_incremental_reading(airflow, tmp_path):
    """Paused is a state of the DAG, not a failure to collect: the connection keeps reading
    only what ended since its last collection, and a run read again unchanged is not stored
    again (GET /api/v2/dags, `is_paused`, https://airflow.apache.org/docs/apache-airflow/stable/stable-rest-api-ref.html)."""
    base, server = airflow
    session = api(base)
    wait(lambda: {"orders_load", "legacy_export"} <= {d["dag_id"] for d in session.get(f"{base}/api/v2/dags").json().get("dags", [])},
         120, f"DAGs not parsed:\n{server.tail()}")
    session.patch(f"{base}/api/v2/dags/legacy_export", json={"is_paused": True}, timeout=10).raise_for_status()
    run_id = trigger(session, base, "orders_load", server)
    wait(lambda: session.get(f"{base}/api/v2/dags/orders_load/dagRuns/{quote(run_id, safe='')}", timeout=10).json()["state"]
         in ("success", "failed"), 240, f"run did not finish:\n{server.tail()}")

    connection = AirflowConnection(type="airflow", url=base, username="admin", password=PASSWORD, timeout=timedelta(seconds=30))
    sources = [AirflowSource(id="orders", connection="af", dag_id="orders_load"),
               AirflowSource(id="legacy", connection="af", dag_id="legacy_export")]
    config = Config(file=None, site=SiteConfig(), history=HistoryConfig(), connections={"af": connection}, sources=sources, components=[])
    history = History(tmp_path / "history")
    first = datetime.now(timezone.utc)
    summaries = [pipeline.collect(config, history, first + timedelta(hours=i)) for i in range(3)]

    lines = [{line.source_id: line for line in summary.lines} for summary in summaries]
    assert lines[0]["orders"].runs >= 1
    # The third collection asks only for runs that ended after the second one (less the overlap) ...
    assert lines[2]["orders"].runs == 0
    snapshot = history.open()
    try:
        stored = stored_runs(history)
        seen = snapshot.db.execute("SELECT error, paused FROM observations WHERE source_id = 'legacy'").fetchall()
    finally:
        snapshot.close()
    # ... and none of them is written twice.
    assert stored[0] == stored[1]
    assert set(seen) == {(None, True)}  # reached, and switched off: not an error
    assert lines[0]["legacy"].status is Status.UNKNOWN and lines[0]["legacy"].note.startswith("Paused in Airflow")


def test_a_paused_dag_keeps_the_past_it_had(airflow, tmp_path):
    """Pausing stops new runs; the runs Airflow has are still its history."""
    base, server = airflow
    session = api(base)
    wait(lambda: "legacy_export" in {d["dag_id"] for d in session.get(f"{base}/api/v2/dags").json().get("dags", [])},
         120, f"DAGs not parsed:\n{server.tail()}")
    session.patch(f"{base}/api/v2/dags/legacy_export", json={"is_paused": False}, timeout=10).raise_for_status()
    run_id = trigger(session, base, "legacy_export", server)
    path = f"{base}/api/v2/dags/legacy_export/dagRuns/{quote(run_id, safe='')}"
    run = wait(lambda: (r := session.get(path, timeout=60).json())["state"] in ("success", "failed") and r, 240,
               f"run did not finish:\n{server.tail()}")
    assert run["state"] == "success"
    session.patch(f"{base}/api/v2/dags/legacy_export", json={"is_paused": True}, timeout=10).raise_for_status()

    connection = AirflowConnection(type="airflow", url=base, username="admin", password=PASSWORD, timeout=timedelta(seconds=30))
    sources = [AirflowSource(id="legacy", connection="af", dag_id="legacy_export")]
    config = Config(file=None, site=SiteConfig(), history=HistoryConfig(), connections={"af": connection}, sources=sources, components=[])
    history = History(tmp_path / "history")
    (line,) = pipeline.collect(config, history, datetime.now(timezone.utc)).lines
    assert (line.status, line.note) == (Status.UNKNOWN, "Paused in Airflow (DAG legacy_export)")
    assert line.runs >= 1
    snapshot = history.open()
    try:
        facts = snapshot.source_facts()["legacy"]
        (observation,) = snapshot.latest_observations().values()
    finally:
        snapshot.close()
    ended = datetime.fromisoformat(run["end_date"].replace("Z", "+00:00"))
    assert (facts.latest_state, facts.last_success_at) == ("success", ended)
    assert observation.last_success_at == ended


def test_a_dag_or_task_that_does_not_exist_is_named_not_taken_for_a_quiet_one(airflow):
    """GET /api/v2/dags/{dag_id} and /dags/{dag_id}/tasks answer 404 for a DAG Airflow does not have."""
    base, server = airflow
    session = api(base)
    wait(lambda: "orders_load" in {d["dag_id"] for d in session.get(f"{base}/api/v2/dags").json().get("dags", [])},
         120, f"DAGs not parsed:\n{server.tail()}")
    run_id = trigger(session, base, "orders_load", server)
    wait(lambda: session.get(f"{base}/api/v2/dags/orders_load/dagRuns/{quote(run_id, safe='')}", timeout=60).json()["state"]
         in ("success", "failed"), 240, f"run did not finish:\n{server.tail()}")

    connection = AirflowConnection(type="airflow", url=base, username="admin", password=PASSWORD, timeout=timedelta(seconds=30))
    healthy = [AirflowSource(id="orders", connection="af", dag_id="orders_load"),
               AirflowSource(id="orders_task", connection="af", dag_id="orders_load", task_id="load_orders")]
    wrong = [AirflowSource(id="typo", connection="af", dag_id="orders_laod"),
             AirflowSource(id="task_typo", connection="af", dag_id="orders_load", task_id="load_order"),
             AirflowSource(id="task_dag_typo", connection="af", dag_id="revenue_reprot", task_id="build_revenue")]
    now = datetime.now(timezone.utc)
    collector = AirflowCollector("af", connection)
    reports = {r.source_id: r for r in collector.collect(healthy + wrong, context(collector, None, now))}
    assert reports["typo"].error == "no DAG named 'orders_laod' in Airflow (did you mean 'orders_load'?)"
    assert reports["task_typo"].error == "no task named 'load_order' in DAG orders_load (did you mean 'load_orders'?)"
    assert reports["task_dag_typo"].error == "no DAG named 'revenue_reprot' in Airflow (did you mean 'revenue_report'?)"
    assert reports["orders"].runs and reports["orders_task"].runs

    # Sources that returned runs need no look-up: token, the DAGs, DAG runs, task instances.
    again = AirflowCollector("af", connection)
    ctx = context(again, None, now)
    again.collect(healthy, ctx)
    assert ctx.api.requests_made == 4


def test_airflow3_asked_for_api_v1_says_why_and_what_to_write(airflow):
    """Airflow 3 answers /api/v1 with 404 and a reason in its JSON `detail`."""
    base, server = airflow
    connection = AirflowConnection(type="airflow", url=base, api_version=1, username="admin", password=PASSWORD,
                                   timeout=timedelta(seconds=30))
    with pytest.raises(CollectorError) as caught:
        collected(AirflowCollector("af", connection), [AirflowSource(id="orders", connection="af", dag_id="orders_load")], None, datetime.now(timezone.utc))
    assert "/api/v1 has been removed in Airflow 3" in str(caught.value)
    assert str(caught.value).endswith("(for Airflow 3, write api_version: 2)")


SCHEDULED_CONFIG = """
connections:
  af: {{type: airflow, url: "{base}", username: admin, password: "${{AIRFLOW_PASSWORD}}"}}
sources:
  - {{id: nightly, connection: af, dag_id: nightly_orders}}
  - {{id: amsterdam, connection: af, dag_id: amsterdam_report}}
  - {{id: new_york, connection: af, dag_id: new_york_report}}
components:
  - {{id: orders, name: Orders, depends_on: [nightly]}}
  - {{id: report, name: Report, depends_on: [amsterdam]}}
  - {{id: ny, name: New York report, depends_on: [new_york]}}
"""


def test_a_scheduled_dag_is_late_after_its_expected_moment_and_failing_after_the_next(airflow, tmp_path):
    """The promise comes from the DAG's timetable (GET /api/v2/dags: timetable_summary,
    next_dagrun_run_after; a DAG in another zone: /dags/{dag_id}/details), with no freshness
    written: the run of each tick is expected within its usual duration plus a grace."""
    base, server = airflow
    session = api(base)

    def scheduled_run():
        runs = session.get(f"{base}/api/v2/dags/nightly_orders/dagRuns", params={"run_type": "scheduled"}, timeout=10).json()
        return next((r for r in runs.get("dag_runs", []) if r["state"] in ("success", "failed")), None)

    run = wait(scheduled_run, 240, f"the scheduled run did not finish:\n{server.tail()}")
    assert run["state"] == "success" and run["run_after"].startswith(TICK.strftime("%Y-%m-%dT%H:%M"))
    (tmp_path / "sources.yaml").write_text(SCHEDULED_CONFIG.format(base=base))
    runner = CliRunner(env={"AIRFLOW_PASSWORD": PASSWORD})

    def status_at(moment: datetime) -> dict[str, str]:
        return {sid: s["status"] for sid, s in sources_at(tmp_path / "sources.yaml", moment, {"AIRFLOW_PASSWORD": PASSWORD}).items()}

    next_tick = TICK + timedelta(days=1)
    assert status_at(datetime.now(timezone.utc))["nightly"] == "operational"  # the tick's run landed
    assert status_at(next_tick + timedelta(minutes=2))["nightly"] == "operational"  # the next run is not expected yet
    assert status_at(next_tick + timedelta(hours=2))["nightly"] == "degraded"  # it is late
    assert status_at(next_tick + timedelta(days=1, hours=2))["nightly"] == "failing"  # and the one after it too

    rendered = runner.invoke(main, ["render", "-c", str(tmp_path / "sources.yaml"), "--out", str(tmp_path / "site"),
                                    "--now", (next_tick + timedelta(days=1, hours=2)).isoformat()])
    assert rendered.exit_code == 0, rendered.output
    orders = (tmp_path / "site/components/orders.html").read_text()
    assert re.search(rf"Runs at {TICK:%H:%M} every day \(UTC\), usually done within \d+ min \(late until the next one is due too", orders)
    report = (tmp_path / "site/components/report.html").read_text()
    assert "Runs at 06:00 every day (Europe/Amsterdam), usually done within" in report
    assert "Runs at" not in (tmp_path / "site/components/ny.html").read_text()  # its own zone: the API does not say it
