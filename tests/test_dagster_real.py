"""The dagster collector against a real `dagster dev` on 127.0.0.1."""

import math
import os
import subprocess
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import requests

from statusgen.collectors.dagster import (
    DagsterCollector,
    DagsterConnection,
    DagsterSource,
)
from statusgen.deadlines import Deadline
from statusgen.records import Schedule
from statusgen.schedules import GRACE
from statusgen.status import RunState
from tests.asked import sources_at
from tests.conftest import context
from tests.servers import Server, free_port, venv

pytestmark = pytest.mark.integration

# A daily job, and an asset a daily schedule materializes, whose tick passed a minute before the server starts: the daemon launches nothing
# for it until a day later, so the test's own run and materialization are the tick's. statusgen is then asked with
# --now around the next ticks, without waiting for them.
TICK = (datetime.now(timezone.utc) - timedelta(minutes=1)).replace(second=0, microsecond=0)
DAILY_CRON = f"{TICK.minute} {TICK.hour} * * *"
DEFS = f'''
import os
from datetime import timedelta
import dagster as dg

@dg.asset(key_prefix=["raw"])
def orders():
    return 1

@dg.asset
def revenue():
    raise Exception("revenue source table is missing")

@dg.op
def load():
    return 1

@dg.job
def orders_job():
    load()

@dg.asset
def inventory():
    if os.path.exists("inventory.fail"):
        raise Exception("inventory feed is down")
    return 1

inventory_job = dg.define_asset_job("inventory_job", selection=["inventory"])

@dg.job
def nightly_export():
    load()

@dg.job
def twice_export():
    load()

@dg.job
def stopped_export():
    load()

@dg.job
def daily_orders():
    load()

@dg.asset
def daily_stock():
    return 1

daily_stock_job = dg.define_asset_job("daily_stock_job", selection=["daily_stock"])

@dg.asset(freshness_policy=dg.FreshnessPolicy.cron(deadline_cron="0 6 * * 1-5", lower_bound_delta=timedelta(hours=6),
                                                   timezone="Europe/Amsterdam"))
def finance_report():
    return 1

@dg.asset
def stock():
    return 1

stock_job = dg.define_asset_job("stock_job", selection=["stock"])
RUNNING = dg.DefaultScheduleStatus.RUNNING
schedules = [
    dg.ScheduleDefinition(job=nightly_export, cron_schedule="0 2 * * *", execution_timezone="Europe/Amsterdam", default_status=RUNNING),
    dg.ScheduleDefinition(job=twice_export, cron_schedule=["0 2 * * *", "0 14 * * *"], default_status=RUNNING),
    dg.ScheduleDefinition(job=stopped_export, cron_schedule="0 2 * * *"),
    dg.ScheduleDefinition(job=stock_job, cron_schedule="30 3 * * *", default_status=RUNNING),
    dg.ScheduleDefinition(job=daily_orders, cron_schedule="{DAILY_CRON}", default_status=RUNNING),
    dg.ScheduleDefinition(job=daily_stock_job, cron_schedule="{DAILY_CRON}", default_status=RUNNING),
]

defs = dg.Definitions(assets=[orders, revenue, inventory, finance_report, stock, daily_stock],
                      jobs=[orders_job, inventory_job, nightly_export, twice_export, stopped_export, stock_job, daily_orders, daily_stock_job],
                      schedules=schedules)
'''


@pytest.fixture(scope="module")
def dagster(tmp_path_factory):
    env_dir = venv("dagster")
    root = tmp_path_factory.mktemp("dagster")
    (root / "home").mkdir()
    (root / "home/dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    (root / "defs.py").write_text(DEFS)
    env = {**os.environ, "DAGSTER_HOME": str(root / "home")}
    port = free_port()
    command = [str(env_dir / "bin/dagster"), "dev", "-f", "defs.py", "-h", "127.0.0.1", "-p", str(port)]
    server = Server(command, env, root / "dev.log", cwd=root)
    try:
        server.wait_for(f"http://127.0.0.1:{port}/server_info", 120)
        yield env_dir, env, root, f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def dagster_cli(env_dir, env, root, *args):
    done = subprocess.run([str(env_dir / "bin/dagster"), *args, "-f", "defs.py"], env=env, cwd=root, capture_output=True, text=True, timeout=300)
    return done


def test_job_runs_and_asset_materializations_match_dagster(dagster):
    env_dir, env, root, url = dagster
    assert dagster_cli(env_dir, env, root, "asset", "materialize", "--select", "raw/orders").returncode == 0
    dagster_cli(env_dir, env, root, "asset", "materialize", "--select", "revenue")  # fails on purpose
    assert dagster_cli(env_dir, env, root, "job", "execute", "-j", "orders_job").returncode == 0

    graphql = requests.post(f"{url}/graphql", json={"query": "{ runsOrError { ... on Runs { results { runId jobName status assetSelection { path } } } } }"}, timeout=30)
    runs = graphql.json()["data"]["runsOrError"]["results"]
    job_run = next(r["runId"] for r in runs if r["jobName"] == "orders_job")
    failed_run = next(r["runId"] for r in runs if r["status"] == "FAILURE")
    orders_run = next(r["runId"] for r in runs if r["assetSelection"] == [{"path": ["raw", "orders"]}])

    collector = DagsterCollector("local_dagster", DagsterConnection(type="dagster", url=url, timeout=timedelta(seconds=30)))
    sources = [
        DagsterSource(id="job", connection="local_dagster", job="orders_job"),
        DagsterSource(id="orders", connection="local_dagster", asset="raw/orders"),
        DagsterSource(id="revenue", connection="local_dagster", asset="revenue"),
        DagsterSource(id="ghost", connection="local_dagster", asset="no/such/asset"),
    ]
    ctx = context(collector, None, datetime.now(timezone.utc))
    reports = {r.source_id: r for r in collector.collect(sources, ctx)}
    (run,) = reports["job"].runs
    assert (run.run_id, run.state) == (job_run, RunState.SUCCESS)
    assert run.started_at < run.ended_at and run.url == f"{url}/runs/{job_run}"
    (materialized,) = reports["orders"].runs
    assert (materialized.run_id, materialized.state) == (orders_run, RunState.SUCCESS)
    assert abs(materialized.ended_at - datetime.now(timezone.utc)) < timedelta(minutes=5)
    (failed,) = reports["revenue"].runs
    assert (failed.run_id, failed.state) == (failed_run, RunState.FAILED)
    assert reports["ghost"].error == "no asset named 'no/such/asset' in Dagster"
    assert ctx.api.requests_made == 2  # every source in one query, and what exists to name the missing one


def test_a_job_or_asset_that_does_not_exist_is_named_not_taken_for_a_quiet_one(dagster):
    """A misspelt job's `runsOrError` is an empty `Runs`, like a job that never ran; Dagster's
    `repositoriesOrError { ... on RepositoryConnection { nodes { jobs { name } } } }` and
    `assetNodes { assetKey { path } }` say what exists (https://docs.dagster.io/api/graphql)."""
    env_dir, env, root, url = dagster
    assert dagster_cli(env_dir, env, root, "job", "execute", "-j", "orders_job").returncode == 0
    connection = DagsterConnection(type="dagster", url=url, timeout=timedelta(seconds=30))
    healthy = [DagsterSource(id="job", connection="d", job="orders_job")]
    wrong = [DagsterSource(id="typo", connection="d", job="orders_jbo"),
             DagsterSource(id="asset_typo", connection="d", asset="raw/ordres")]
    collector = DagsterCollector("d", connection)
    reports = {r.source_id: r for r in collector.collect(healthy + wrong, context(collector, None, datetime.now(timezone.utc)))}
    assert reports["typo"].error == "no job named 'orders_jbo' in Dagster (did you mean 'orders_job'?)"
    assert reports["asset_typo"].error == "no asset named 'raw/ordres' in Dagster (did you mean 'raw/orders'?)"
    assert reports["job"].runs

    again = DagsterCollector("d", connection)
    ctx = context(again, None, datetime.now(timezone.utc))
    again.collect(healthy, ctx)
    assert ctx.api.requests_made == 1  # a job with runs needs no look-up


def test_a_failed_run_of_a_whole_asset_job_makes_its_asset_fail(dagster):
    """A failed run of an asset job launched whole has an empty `assetSelection`; Dagster
    still names it as the asset's latest run in `assetsLatestInfo { latestRun }`
    (https://docs.dagster.io/api/graphql)."""
    env_dir, env, root, url = dagster
    assert dagster_cli(env_dir, env, root, "asset", "materialize", "--select", "inventory").returncode == 0
    (root / "inventory.fail").write_text("")
    try:
        assert dagster_cli(env_dir, env, root, "job", "execute", "-j", "inventory_job").returncode != 0
    finally:
        (root / "inventory.fail").unlink()

    collector = DagsterCollector("d", DagsterConnection(type="dagster", url=url, timeout=timedelta(seconds=30)))
    ctx = context(collector, None, datetime.now(timezone.utc))
    (report,) = collector.collect([DagsterSource(id="inventory", connection="d", asset="inventory")], ctx)
    latest = max((r for r in report.runs if r.ended_at), key=lambda r: r.ended_at)
    assert latest.state is RunState.FAILED
    assert [r.state for r in report.runs].count(RunState.SUCCESS) == 1
    assert ctx.api.requests_made == 1


def test_jobs_and_assets_report_the_one_running_schedule_dagster_starts_them_by(dagster):
    """A job's schedules (`Schedule { pipelineName cronSchedule executionTimezone scheduleState { status } }`),
    an asset's `FreshnessPolicy.cron` (`AssetNode.internalFreshnessPolicy`, a `CronFreshnessPolicy`)
    and the schedules that target an asset (`AssetNode.targetingInstigators`), in Dagster 1.13's
    GraphQL schema; a schedule is stopped unless its `default_status` says RUNNING."""
    env_dir, env, root, url = dagster
    collector = DagsterCollector("d", DagsterConnection(type="dagster", url=url, timeout=timedelta(seconds=30)))
    sources = [
        DagsterSource(id="nightly", connection="d", job="nightly_export"),
        DagsterSource(id="twice", connection="d", job="twice_export"),
        DagsterSource(id="stopped", connection="d", job="stopped_export"),
        DagsterSource(id="unscheduled", connection="d", job="orders_job"),
        DagsterSource(id="promised", connection="d", job="nightly_export", freshness={"warn_after": "1d"}),
        DagsterSource(id="report", connection="d", asset="finance_report"),
        DagsterSource(id="stock", connection="d", asset="stock"),
        DagsterSource(id="orders", connection="d", asset="raw/orders"),
    ]
    ctx = context(collector, None, datetime.now(timezone.utc))
    reports = {r.source_id: r for r in collector.collect(sources, ctx)}

    assert reports["nightly"].schedule == Schedule("0 2 * * *", "Europe/Amsterdam")
    # A freshness policy's ticks are deadlines: met by a materialization within its lower bound before one.
    assert reports["report"].schedule == Schedule("0 6 * * 1-5", "Europe/Amsterdam", landed_within=timedelta(hours=6))
    assert reports["stock"].schedule == Schedule("30 3 * * *", "UTC")
    assert [reports[s].schedule for s in ("twice", "stopped", "unscheduled", "promised", "orders")] == [None] * 5
    assert reports["twice"].message.endswith("; Dagster starts it on 2 schedules (0 14 * * * UTC; 0 2 * * * UTC): "
                                             "judged against its own schedule only with one schedule; give it a promise in sources.yaml")
    assert all(r.error is None for r in reports.values())
    assert ctx.api.requests_made == 2  # the one query, and the look-up that jobs with no runs always cost


DAILY_CONFIG = """
connections:
  d: {{type: dagster, url: "{url}"}}
sources:
  - {{id: daily, connection: d, job: daily_orders}}
  - {{id: stock, connection: d, asset: daily_stock}}
components:
  - {{id: orders, name: Orders, depends_on: [daily, stock]}}
"""
LANDED = """{ runsOrError(filter: {pipelineName: "daily_orders"}) { ... on Runs { results { status startTime endTime } } }
              assetOrError(assetKey: {path: ["daily_stock"]}) { ... on Asset { assetMaterializations(limit: 1) { timestamp } } } }"""


def test_a_scheduled_job_or_asset_is_late_after_its_expected_moment_and_failing_after_the_next(dagster, tmp_path):
    """A job, and an asset, whose one running schedule ticked before their run (`dagster job execute`,
    `dagster asset materialize`), with no freshness written: statusgen is asked with --now
    around the next ticks, without waiting for them."""
    env_dir, env, root, url = dagster
    assert dagster_cli(env_dir, env, root, "job", "execute", "-j", "daily_orders").returncode == 0
    assert dagster_cli(env_dir, env, root, "asset", "materialize", "--select", "daily_stock").returncode == 0
    found = requests.post(f"{url}/graphql", json={"query": LANDED}, timeout=30).json()["data"]
    (run,) = found["runsOrError"]["results"]
    (materialized,) = found["assetOrError"]["assetMaterializations"]
    started, ended = (datetime.fromtimestamp(run[key], timezone.utc) for key in ("startTime", "endTime"))
    assert run["status"] == "SUCCESS" and TICK < started <= ended
    landed = {"daily": ended, "stock": datetime.fromtimestamp(int(materialized["timestamp"]) / 1000, timezone.utc)}
    usual = {"daily": ended - started, "stock": timedelta(0)}  # a materialization says when it landed, not when it started
    (tmp_path / "sources.yaml").write_text(DAILY_CONFIG.format(url=url))

    def statuses_at(moment: datetime) -> dict[str, str]:
        return {source: found["status"] for source, found in sources_at(tmp_path / "sources.yaml", moment).items()}

    next_tick = Deadline(DAILY_CRON, ZoneInfo("UTC")).next_tick(max(landed.values()))
    assert next_tick == TICK + timedelta(days=1)
    assert statuses_at(max(landed.values()) + timedelta(seconds=1)) == dict.fromkeys(landed, "operational")  # the tick's runs landed
    assert statuses_at(next_tick + timedelta(minutes=2)) == dict.fromkeys(landed, "operational")  # the next ones are not expected yet
    late = sources_at(tmp_path / "sources.yaml", next_tick + timedelta(hours=2))
    for source, at in landed.items():
        # Expected the usual duration plus the grace after the tick, in whole minutes.
        expected = next_tick + timedelta(minutes=math.ceil((usual[source] + GRACE) / timedelta(minutes=1)))
        assert (late[source]["status"], late[source]["reason"]) == ("degraded", f"Expected by {expected:%A %H:%M}; last landed {at:%A %H:%M}")
    assert statuses_at(next_tick + timedelta(days=1, hours=2)) == dict.fromkeys(landed, "failing")  # and the ones after them too
