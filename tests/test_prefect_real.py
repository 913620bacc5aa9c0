"""The prefect collector against a real Prefect 3 server on 127.0.0.1."""

import json
import math
import os
import subprocess
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from statusgen import pipeline
from statusgen.collectors.prefect import (
    PrefectCollector,
    PrefectConnection,
    PrefectSource,
)
from statusgen.config import Config, HistoryConfig, SiteConfig
from statusgen.deadlines import Deadline
from statusgen.history import History
from statusgen.records import Schedule
from statusgen.schedules import GRACE
from statusgen.status import RunState, Status
from tests.asked import sources_at
from tests.conftest import context, stored_runs
from tests.servers import Server, free_port, prefect_api, venv

pytestmark = pytest.mark.integration

# Runs in Prefect's own environment: two flows run for real, and two deployments made
# through the API (no worker picks their runs up, so the scheduled one turns Late).
SCRIPT = '''
import json, os
from datetime import datetime, timedelta, timezone
import httpx
from prefect import flow

@flow(name="orders_load")
def orders_load():
    return 42

@flow(name="revenue_report")
def revenue_report():
    raise ValueError("revenue source table is missing")

ok = orders_load(return_state=True)
bad = revenue_report(return_state=True)
api = os.environ["PREFECT_API_URL"]
flows = {f["name"]: f["id"] for f in httpx.post(f"{api}/flows/filter", json={}).json()}
nightly = httpx.post(f"{api}/deployments/", json={"name": "nightly", "flow_id": flows["orders_load"]}).json()
httpx.post(f"{api}/deployments/", json={"name": "legacy", "flow_id": flows["revenue_report"], "paused": True}).raise_for_status()
past = (datetime.now(timezone.utc) - timedelta(minutes=10)).isoformat()
late = httpx.post(f"{api}/deployments/{nightly['id']}/create_flow_run",
                  json={"state": {"type": "SCHEDULED", "state_details": {"scheduled_time": past}}}).json()
print(json.dumps({"ok": str(ok.state_details.flow_run_id), "bad": str(bad.state_details.flow_run_id), "late": late["id"]}))
'''


@pytest.fixture(scope="module")
def prefect(tmp_path_factory):
    env_dir = venv("prefect")
    home = tmp_path_factory.mktemp("prefect")
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_SERVICES_LATE_RUNS_LOOP_SECONDS": "1",
        "PREFECT_SERVER_SERVICES_LATE_RUNS_AFTER_SECONDS": "1",
    }
    server = Server([str(env_dir / "bin/prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)], env, home / "server.log")
    try:
        server.wait_for(f"{api}/health", 120)
        yield env_dir, env, api, server
    finally:
        server.stop()


def test_flow_and_deployment_runs_match_what_prefect_reports(prefect, tmp_path):
    env_dir, env, api, server = prefect
    script = tmp_path / "pipelines.py"
    script.write_text(SCRIPT)
    made = subprocess.run([str(env_dir / "bin/python"), str(script)], env=env, capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr[-3000:]
    ids = json.loads(made.stdout.strip().splitlines()[-1])

    collector = PrefectCollector("local_prefect", PrefectConnection(type="prefect", api_url=api, timeout=timedelta(seconds=30)))
    sources = [
        PrefectSource(id="orders", connection="local_prefect", flow="orders_load"),
        PrefectSource(id="revenue", connection="local_prefect", flow="revenue_report"),
        PrefectSource(id="nightly", connection="local_prefect", deployment="orders_load/nightly"),
        PrefectSource(id="legacy", connection="local_prefect", deployment="revenue_report/legacy"),
        PrefectSource(id="ghost", connection="local_prefect", flow="never_ran"),
    ]

    def collect():
        return {r.source_id: r for r in collector.collect(sources, context(collector, None, datetime.now(timezone.utc)))}

    import time

    deadline = time.monotonic() + 60
    while not (reports := collect())["nightly"].runs and time.monotonic() < deadline:
        time.sleep(1)  # until Prefect's late-runs service marks the scheduled run Late

    assert [(r.run_id, r.state) for r in reports["orders"].runs if r.state is RunState.SUCCESS] == [(ids["ok"], RunState.SUCCESS)]
    (failed,) = reports["revenue"].runs
    assert (failed.run_id, failed.state) == (ids["bad"], RunState.FAILED)
    assert failed.url == f"{api.removesuffix('/api')}/runs/flow-run/{ids['bad']}"
    assert failed.ended_at is not None and failed.started_at <= failed.ended_at
    (late,) = reports["nightly"].runs
    assert (late.run_id, late.state) == (ids["late"], RunState.WARNING)
    assert late.message.startswith("late: expected to start at")
    assert reports["legacy"].paused and reports["legacy"].message == "Paused in Prefect (deployment revenue_report/legacy)"
    assert reports["ghost"].error == "no flow named 'never_ran'"


def test_a_paused_deployment_is_unknown_without_turning_off_incremental_reading(prefect, tmp_path):
    """`paused: true` on a deployment (https://docs.prefect.io/v3/api-ref/rest-api/server/deployments/read-deployment)
    is a state of the deployment, not a failed collection. Runs on after the test above."""
    env_dir, env, api, server = prefect
    connection = PrefectConnection(type="prefect", api_url=api, timeout=timedelta(seconds=30))
    sources = [PrefectSource(id="orders", connection="p", flow="orders_load"),
               PrefectSource(id="legacy", connection="p", deployment="revenue_report/legacy")]
    config = Config(file=None, site=SiteConfig(), history=HistoryConfig(), connections={"p": connection}, sources=sources, components=[])
    history = History(tmp_path / "history")
    first = datetime.now(timezone.utc)
    lines = [{line.source_id: line for line in pipeline.collect(config, history, first + timedelta(hours=i)).lines} for i in range(3)]

    assert lines[0]["orders"].runs == 2  # the run that succeeded, and the deployment's run still Late
    assert lines[2]["orders"].runs == 1  # what ended before the second collection is not read again
    stored = stored_runs(history)
    assert stored[0] == stored[1]
    assert lines[0]["legacy"].status is Status.UNKNOWN and lines[0]["legacy"].note.startswith("Paused in Prefect")


def test_a_paused_deployment_keeps_the_past_it_had(prefect, tmp_path):
    """A run finished through the API (POST /flow_runs/{id}/set_state, then
    POST /deployments/{id}/pause_deployment: https://docs.prefect.io/v3/api-ref/rest-api/server/)
    stays the deployment's past once it is paused."""
    env_dir, env, api, server = prefect
    session = prefect_api()  # Prefect answers 503 while its own services write to its SQLite
    flow = session.post(f"{api}/flows/", json={"name": "orders_archive"}, timeout=10).json()
    archive = session.post(f"{api}/deployments/", json={"name": "archive", "flow_id": flow["id"]}, timeout=10).json()
    run = session.post(f"{api}/deployments/{archive['id']}/create_flow_run", json={}, timeout=10).json()
    for kind in ("RUNNING", "COMPLETED"):
        session.post(f"{api}/flow_runs/{run['id']}/set_state", json={"state": {"type": kind}, "force": True}, timeout=10).raise_for_status()
    session.post(f"{api}/deployments/{archive['id']}/pause_deployment", timeout=10).raise_for_status()
    ended = datetime.fromisoformat(session.get(f"{api}/flow_runs/{run['id']}", timeout=10).json()["end_time"])

    connection = PrefectConnection(type="prefect", api_url=api, timeout=timedelta(seconds=30))
    sources = [PrefectSource(id="archive", connection="p", deployment="orders_archive/archive")]
    config = Config(file=None, site=SiteConfig(), history=HistoryConfig(), connections={"p": connection}, sources=sources, components=[])
    history = History(tmp_path / "history")
    (line,) = pipeline.collect(config, history, datetime.now(timezone.utc)).lines
    assert (line.status, line.note, line.runs) == (Status.UNKNOWN, "Paused in Prefect (deployment orders_archive/archive)", 1)
    snapshot = history.open()
    try:
        facts = snapshot.source_facts()["archive"]
    finally:
        snapshot.close()
    assert (facts.latest_state, facts.last_success_at) == ("success", ended)


def test_a_deployment_reports_its_one_active_cron_schedule(prefect):
    """A deployment's `schedules: [{schedule: {cron, timezone, day_or}, active}]`, as
    POST /deployments/ takes them and /deployments/filter answers
    (https://docs.prefect.io/v3/api-ref/rest-api/server/deployments/create-deployment)."""
    env_dir, env, api, server = prefect
    session = prefect_api()  # Prefect answers 503 while its own services write to its SQLite
    flow = session.post(f"{api}/flows/", json={"name": "exports"}, timeout=10).json()

    def deployment(name, schedules, paused=False):
        made = session.post(f"{api}/deployments/", json={"name": name, "flow_id": flow["id"], "schedules": schedules, "paused": paused}, timeout=10)
        made.raise_for_status()

    def cron(expression, active=True, **more):
        return {"schedule": {"cron": expression, "timezone": "Europe/Amsterdam", **more}, "active": active}

    deployment("daily", [cron("0 2 * * *"), cron("30 4 * * *", active=False), {"schedule": {"interval": 3600}, "active": True}])
    deployment("twice", [cron("0 2 * * *"), cron("0 14 * * 1-5")])
    deployment("both_days", [cron("0 2 1 * 1", day_or=False)])
    deployment("by_hand", [])
    deployment("stopped", [cron("0 2 * * *")], paused=True)

    collector = PrefectCollector("p", PrefectConnection(type="prefect", api_url=api, timeout=timedelta(seconds=30)))
    sources = [PrefectSource(id=name, connection="p", deployment=f"exports/{name}") for name in ("daily", "twice", "both_days", "by_hand", "stopped")]
    sources += [PrefectSource(id="any", connection="p", flow="exports"),
                PrefectSource(id="promised", connection="p", deployment="exports/daily", freshness={"warn_after": "1d"})]
    ctx = context(collector, None, datetime.now(timezone.utc))
    reports = {r.source_id: r for r in collector.collect(sources, ctx)}

    assert reports["daily"].schedule == Schedule("0 2 * * *", "Europe/Amsterdam")
    assert reports["twice"].schedule is None
    assert reports["twice"].message == (
        "no finished runs in the window read; Prefect starts it on 2 schedules (0 14 * * 1-5 Europe/Amsterdam; 0 2 * * * Europe/Amsterdam): "
        "judged against its own schedule only with one schedule; give it a promise in sources.yaml")
    assert [reports[s].schedule for s in ("both_days", "by_hand", "stopped", "any", "promised")] == [None] * 5
    assert reports["stopped"].paused and reports["promised"].message == "no finished runs in the window read"
    assert ctx.api.requests_made == 4  # flows, deployments, and the two run queries: schedules cost no request


DAILY_CONFIG = """
connections:
  p: {{type: prefect, api_url: "{api}"}}
sources:
  - {{id: daily, connection: p, deployment: daily_orders/daily}}
components:
  - {{id: orders, name: Orders, depends_on: [daily]}}
"""


def test_a_scheduled_deployment_is_late_after_its_expected_moment_and_failing_after_the_next(prefect, tmp_path):
    """A deployment whose one active cron ticked a minute before its run (made through the API:
    POST /deployments/{id}/create_flow_run, then /flow_runs/{id}/set_state), with no freshness
    written: statusgen is asked with --now around the next ticks, without waiting for them."""
    env_dir, env, api, server = prefect
    session = prefect_api()  # the first request can meet its services' start-up writes
    tick = (datetime.now(timezone.utc) - timedelta(minutes=1)).replace(second=0, microsecond=0)
    cron = f"{tick.minute} {tick.hour} * * *"
    flow = session.post(f"{api}/flows/", json={"name": "daily_orders"}, timeout=10).json()
    schedules = [{"schedule": {"cron": cron, "timezone": "UTC"}, "active": True}]
    daily = session.post(f"{api}/deployments/", json={"name": "daily", "flow_id": flow["id"], "schedules": schedules}, timeout=10).json()
    run = session.post(f"{api}/deployments/{daily['id']}/create_flow_run", json={}, timeout=10).json()
    for kind in ("RUNNING", "COMPLETED"):
        session.post(f"{api}/flow_runs/{run['id']}/set_state", json={"state": {"type": kind}, "force": True}, timeout=10).raise_for_status()
    finished = session.get(f"{api}/flow_runs/{run['id']}", timeout=10).json()
    started, ended = (datetime.fromisoformat(finished[key]) for key in ("start_time", "end_time"))
    assert tick < started <= ended
    (tmp_path / "sources.yaml").write_text(DAILY_CONFIG.format(api=api))

    def daily_at(moment: datetime) -> dict:
        return sources_at(tmp_path / "sources.yaml", moment)["daily"]

    next_tick = Deadline(cron, ZoneInfo("UTC")).next_tick(ended)
    assert next_tick == tick + timedelta(days=1)
    # Expected the run's usual duration (its only one) plus the grace after the tick, in whole minutes.
    expected = next_tick + timedelta(minutes=math.ceil((ended - started + GRACE) / timedelta(minutes=1)))
    assert daily_at(ended + timedelta(seconds=1))["status"] == "operational"  # the tick's run landed
    assert daily_at(next_tick + timedelta(minutes=2))["status"] == "operational"  # the next run is not expected yet
    late = daily_at(next_tick + timedelta(hours=2))
    assert (late["status"], late["reason"]) == ("degraded", f"Expected by {expected:%A %H:%M}; last landed {ended:%A %H:%M}")
    assert daily_at(next_tick + timedelta(days=1, hours=2))["status"] == "failing"  # and the one after it too
