"""The airflow collector against payloads shaped as Airflow documents them.

Airflow 2 (`/api/v1`): https://airflow.apache.org/docs/apache-airflow/2.10.5/stable-rest-api-ref.html
(`get_dag_runs_batch`, `get_task_instances_batch`, `get_dags`). Airflow 3 (`/api/v2`) is
also tested against a real server in test_airflow_real.py.
"""

import json
from datetime import timedelta

import pytest
from werkzeug import Response

from statusgen.collectors.airflow import (
    AirflowCollector,
    AirflowConnection,
    AirflowSource,
)
from statusgen.errors import CollectorError
from statusgen.records import Schedule
from statusgen.status import RunState
from tests.conftest import collected, context, discovered, utc

NOW = utc(2026, 11, 22, 12)


def v1_run(dag_id, run_id, state, end):
    # DAGRun, as in the v1 reference (execution_date and logical_date both present in 2.2+).
    return {
        "conf": {}, "dag_id": dag_id, "dag_run_id": run_id, "data_interval_end": end, "data_interval_start": end,
        "end_date": end, "execution_date": end, "external_trigger": False, "last_scheduling_decision": end,
        "logical_date": end, "note": None, "run_type": "scheduled", "start_date": end.replace("T0", "T0"), "state": state,
    }


def collector(server, **settings):
    defaults = {"type": "airflow", "url": server.url_for("/").rstrip("/"), "timeout": timedelta(seconds=5)}
    return AirflowCollector("prod_airflow", AirflowConnection(**{**defaults, **settings}))


def sources(*pairs):
    return [AirflowSource(id=f"s{i}", connection="prod_airflow", dag_id=dag, task_id=task) for i, (dag, task) in enumerate(pairs)]


def test_airflow2_dag_runs_in_one_batch_call_with_basic_auth(httpserver):
    # DAG, as in the v1 reference: a cron schedule_interval is {"__type": "CronExpression", "value": …}.
    dags = [
        {"dag_id": "orders_load", "is_paused": False, "schedule_interval": {"__type": "CronExpression", "value": "0 10 * * *"},
         "next_dagrun_create_after": "2026-11-23T10:00:00+00:00"},
        {"dag_id": "revenue", "is_paused": False, "schedule_interval": {"__type": "TimeDelta", "days": 1, "seconds": 0, "microseconds": 0}},
        {"dag_id": "legacy_export", "is_paused": True, "schedule_interval": {"__type": "CronExpression", "value": "@daily"},
         "next_dagrun_create_after": "2026-11-23T00:00:00+00:00"},
    ]
    httpserver.expect_request("/api/v1/dags", query_string={"offset": "0", "limit": "100"}).respond_with_json(
        {"dags": dags, "total_entries": 3}
    )
    runs = [
        v1_run("orders_load", "scheduled__2026-11-22T10:00:00+00:00", "success", "2026-11-22T10:05:00+00:00"),
        v1_run("orders_load", "manual__2026-11-22T11:00:00+00:00", "failed", "2026-11-22T11:02:00+00:00"),
        v1_run("revenue", "scheduled__2026-11-22T06:00:00+00:00", "success", "2026-11-22T06:30:00+00:00"),
    ]
    httpserver.expect_request("/api/v1/dags/~/dagRuns/list", method="POST").respond_with_json({"dag_runs": runs, "total_entries": 3})
    c = collector(httpserver, api_version=1, username="statusgen", password="pa55word")
    ctx = context(c, None, NOW)
    reports = c.collect(sources(("orders_load", None), ("revenue", None), ("legacy_export", None)), ctx)
    orders, revenue, legacy = reports
    assert [(r.run_id, r.state) for r in orders.runs] == [
        ("scheduled__2026-11-22T10:00:00+00:00", RunState.SUCCESS),
        ("manual__2026-11-22T11:00:00+00:00", RunState.FAILED),
    ]
    assert orders.runs[1].url.endswith("/dags/orders_load/grid?dag_run_id=manual__2026-11-22T11%3A00%3A00%2B00%3A00")
    assert orders.runs[1].ended_at == utc(2026, 11, 22, 11, 2)
    assert revenue.runs[0].source_id == "s1"
    assert (legacy.error, legacy.paused, legacy.message) == (None, True, "Paused in Airflow (DAG legacy_export)")
    # One list says what is paused and each DAG's schedule: a timedelta is no calendar, so none.
    assert [r.schedule for r in reports] == [Schedule("0 10 * * *"), None, Schedule("@daily")]
    (log_dags, _), (log_runs, _) = httpserver.log
    assert log_runs.authorization.type == "basic" and log_runs.authorization.username == "statusgen"
    body = json.loads(log_runs.data)
    assert body["dag_ids"] == ["legacy_export", "orders_load", "revenue"]
    assert body["states"] == ["success", "failed"]
    assert body["end_date_gte"] == "2026-10-23T12:00:00Z"  # first collection: first_lookback (30 d)
    assert ctx.api.requests_made == 2


def test_later_collections_read_only_runs_that_ended_since_the_last(httpserver):
    httpserver.expect_request("/api/v1/dags").respond_with_json({"dags": [], "total_entries": 0})
    httpserver.expect_request("/api/v1/dags/~/dagRuns/list").respond_with_json({"dag_runs": [], "total_entries": 0})
    httpserver.expect_request("/api/v1/dags/orders_load/tasks").respond_with_json({"tasks": [{"task_id": "load"}], "total_entries": 1})
    (report,) = collected(collector(httpserver, api_version=1, token="t0k3n"), sources(("orders_load", None)), utc(2026, 11, 22, 11), NOW)
    assert report.runs == [] and report.message == "no finished runs since 2026-11-22 10:55 UTC"
    request = httpserver.log[-2][0]  # the last asks whether the DAG exists
    assert json.loads(request.data)["end_date_gte"] == "2026-11-22T10:55:00Z"  # 5 minutes of overlap
    assert request.headers["Authorization"] == "Bearer t0k3n"


def test_pages_through_long_lists(httpserver):
    httpserver.expect_request("/api/v1/dags").respond_with_json({"dags": [], "total_entries": 0})
    pages = []

    def page(request):
        body = json.loads(request.data)
        pages.append((body["page_offset"], body["page_limit"]))
        start = body["page_offset"]
        runs = [v1_run(f"dag_{i:03}", "r", "success", "2026-11-22T10:00:00+00:00") for i in range(start, min(start + 2, 5))]
        return Response(json.dumps({"dag_runs": runs, "total_entries": 5}), content_type="application/json")

    httpserver.expect_request("/api/v1/dags/~/dagRuns/list").respond_with_handler(page)
    c = collector(httpserver, api_version=1, token="t", page_size=2)
    reports = c.collect(sources(*[(f"dag_{i:03}", None) for i in range(5)]), context(c, None, NOW))
    assert all(len(r.runs) == 1 for r in reports)
    assert pages == [(0, 2), (2, 2), (4, 2)]


def test_a_task_source_follows_that_task_and_retries_count_as_a_warning(httpserver):
    httpserver.expect_request("/api/v1/dags").respond_with_json({"dags": [], "total_entries": 0})
    httpserver.expect_request("/api/v1/dags/~/dagRuns/list").respond_with_json({"dag_runs": [], "total_entries": 0})
    instances = [
        {"dag_id": "warehouse", "dag_run_id": "r1", "task_id": "load_orders", "state": "success", "try_number": 1,
         "start_date": "2026-11-22T01:00:00+00:00", "end_date": "2026-11-22T01:10:00+00:00"},
        {"dag_id": "warehouse", "dag_run_id": "r2", "task_id": "load_orders", "state": "success", "try_number": 3,
         "start_date": "2026-11-22T02:00:00+00:00", "end_date": "2026-11-22T02:30:00+00:00"},
        {"dag_id": "warehouse", "dag_run_id": "r3", "task_id": "load_orders", "state": "upstream_failed", "try_number": 0,
         "start_date": None, "end_date": "2026-11-22T03:00:00+00:00"},
        {"dag_id": "warehouse", "dag_run_id": "r4", "task_id": "load_orders", "state": "skipped", "try_number": 0,
         "start_date": None, "end_date": "2026-11-22T04:00:00+00:00"},
    ]
    httpserver.expect_request("/api/v1/dags/~/dagRuns/~/taskInstances/list").respond_with_json(
        {"task_instances": instances, "total_entries": 4}
    )
    (report,) = collected(collector(httpserver, api_version=1, token="t"), sources(("warehouse", "load_orders")), None, NOW)
    assert [(r.run_id, r.state, r.message) for r in report.runs] == [
        ("r1", RunState.SUCCESS, None),
        ("r2", RunState.WARNING, "succeeded on try 3"),
        ("r3", RunState.SKIPPED, None),
    ]
    assert report.runs[0].duration == timedelta(minutes=10)
    body = json.loads(httpserver.log[-1][0].data)
    assert body["task_ids"] == ["load_orders"] and body["dag_ids"] == ["warehouse"]


def test_airflow3_logs_in_for_a_jwt(httpserver):
    httpserver.expect_request("/auth/token", method="POST", json={"username": "admin", "password": "s3cret"}).respond_with_json(
        {"access_token": "eyJ.jwt.sig"}, status=201
    )
    httpserver.expect_request("/api/v2/dags", headers={"Authorization": "Bearer eyJ.jwt.sig"}).respond_with_json({"dags": [], "total_entries": 0})
    httpserver.expect_request("/api/v2/dags/~/dagRuns/list", headers={"Authorization": "Bearer eyJ.jwt.sig"}).respond_with_json(
        {"dag_runs": [{"dag_id": "d", "dag_run_id": "manual__2026-11-22T03:01:00.727755+00:00", "state": "success",
                       "logical_date": None, "start_date": "2026-11-22T03:01:01Z", "end_date": "2026-11-22T03:02:00Z"}],
         "total_entries": 1}
    )
    (report,) = collected(collector(httpserver, username="admin", password="s3cret"), sources(("d", None)), None, NOW)
    (run,) = report.runs
    assert run.url.endswith("/dags/d/runs/manual__2026-11-22T03%3A01%3A00.727755%2B00%3A00")
    assert run.started_at == utc(2026, 11, 22, 3, 1, 1)


def test_wrong_credentials_say_so_without_the_credential(httpserver):
    httpserver.expect_request("/auth/token").respond_with_json({"detail": "Invalid credentials"}, status=401)
    c = collector(httpserver, username="admin", password="hunter2-secret")
    with pytest.raises(CollectorError) as caught:
        c.collect(sources(("d", None)), context(c, None, NOW))
    assert str(caught.value) == "authentication failed for connection prod_airflow (HTTP 401)"


def test_a_login_page_instead_of_json(httpserver):
    httpserver.expect_request("/api/v1/dags").respond_with_data("<html><form>Sign in</form></html>", content_type="text/html")
    with pytest.raises(CollectorError, match=r"expected JSON from http://localhost:\d+/api/v1/dags, got text/html \(a login page\?\)"):
        collected(collector(httpserver, api_version=1, token="t"), sources(("d", None)), None, NOW)


def test_json_of_the_wrong_shape(httpserver):
    httpserver.expect_request("/api/v1/dags").respond_with_json({"dags": "nope"})
    with pytest.raises(CollectorError, match="unexpected answer from /dags: no 'dags' list"):
        collected(collector(httpserver, api_version=1, token="t"), sources(("d", None)), None, NOW)


def test_503_is_retried_honouring_retry_after(httpserver):
    httpserver.expect_ordered_request("/api/v1/dags").respond_with_data("busy", status=503, headers={"Retry-After": "0"})
    httpserver.expect_ordered_request("/api/v1/dags").respond_with_json({"dags": [], "total_entries": 0})
    httpserver.expect_ordered_request("/api/v1/dags/~/dagRuns/list").respond_with_json({"dag_runs": [], "total_entries": 0})
    httpserver.expect_ordered_request("/api/v1/dags/d/tasks").respond_with_json({"tasks": [], "total_entries": 0})
    c = collector(httpserver, api_version=1, token="t")
    ctx = context(c, None, NOW)
    c.collect(sources(("d", None)), ctx)
    assert ctx.api.requests_made == 4


def test_retry_after_past_the_timeout_gives_up_at_once(httpserver):
    httpserver.expect_request("/api/v1/dags").respond_with_data("slow down", status=429, headers={"Retry-After": "3600"})
    with pytest.raises(CollectorError, match=r"prod_airflow: rate limited until \d\d:\d\d:\d\d UTC; asked to retry after 3600s, past the timeout"):
        collected(collector(httpserver, api_version=1, token="t"), sources(("d", None)), None, NOW)


def test_token_and_password_together_are_a_config_error():
    with pytest.raises(ValueError, match="either token, or username and password"):
        AirflowConnection(type="airflow", url="http://a", token="t", username="u", password="p")


def test_sources_by_glob_and_tag_stand_for_the_dags_they_match(httpserver, write_config):
    from statusgen import catalog, discovery
    from statusgen.config import load_config

    dags = [{"dag_id": d, "dag_display_name": d.replace("_", " "), "is_paused": False, "tags": [{"name": t} for t in tags]}
            for d, tags in (("sales_orders", ["sales"]), ("sales_refunds", ["sales"]), ("sales_tmp", []), ("hr_payroll", ["hr"]),
                            ("crm_sync", ["sales"]))]
    httpserver.expect_request("/api/v1/dags").respond_with_json({"dags": dags, "total_entries": len(dags)})
    path = write_config(
        f"""
        connections:
          prod: {{type: airflow, api_version: 1, url: "{httpserver.url_for('/').rstrip('/')}", token: "${{AIRFLOW_TOKEN}}"}}
        sources:
          - {{id: sales, connection: prod, include: ["sales_*"], exclude: ["*_tmp"]}}
          - {{id: tagged, connection: prod, tags: [sales]}}
          - {{id: payroll, connection: prod, dag_id: hr_payroll}}
        components:
          - {{id: sales, name: Sales pipelines, depends_on: [sales, payroll]}}
        """
    )
    declared = load_config(path, {"AIRFLOW_TOKEN": "t"})
    assert [s.id for s in declared.sources] == ["sales", "tagged", "payroll"]  # loading the config asks nothing
    config = catalog.apply(declared, discovery.discover(declared, catalog.Catalog(), NOW).catalog)
    assert [s.id for s in config.sources] == [
        "payroll", "sales.sales_orders", "sales.sales_refunds", "tagged.crm_sync", "tagged.sales_orders", "tagged.sales_refunds",
    ]
    assert config.components[0].depends_on == ["sales.sales_orders", "sales.sales_refunds", "payroll"]
    assert config.sources[1].name == "sales orders" and config.sources[1].dag_id == "sales_orders"


def test_a_glob_that_matches_nothing_is_reported_when_collected(httpserver):
    httpserver.expect_request("/api/v1/dags").respond_with_json({"dags": [], "total_entries": 0})
    httpserver.expect_request("/api/v1/dags/~/dagRuns/list").respond_with_json({"dag_runs": [], "total_entries": 0})
    group = AirflowSource(id="none", connection="prod_airflow", include=["nothing_*"])
    c = collector(httpserver, api_version=1, token="t")
    assert discovered(c, [group], NOW).expanded == {"none": []}
    (report,) = c.collect([group], context(c, None, NOW))
    assert report.error == "include/tags match no DAG in Airflow"


def test_airflow3_timetables_become_schedules_in_the_dags_own_zone(httpserver):
    """DAGResponse (GET /api/v2/dags) has `timetable_summary` and `next_dagrun_run_after` but no
    time zone: a DAG whose next run is not a tick of its cron in UTC may tick in the server's
    default zone, which DAG details name (once per collection); a DAG of a zone of its own
    (its next run a tick in neither) has no schedule statusgen can follow."""
    def dag(dag_id, summary, run_after=None):
        return {"dag_id": dag_id, "is_paused": False, "timetable_summary": summary, "next_dagrun_run_after": run_after}

    dags = [dag("utc_nightly", "0 2 * * *", "2026-11-23T02:00:00Z"), dag("amsterdam", "0 6 * * 1-5", "2026-11-23T05:00:00Z"),
            dag("on_assets", "Asset"), dag("manual", None), dag("every_hour", "1:00:00", "2026-11-22T13:00:00Z"),
            dag("new_york", "0 6 * * *", "2026-11-23T11:00:00Z")]
    httpserver.expect_request("/api/v2/dags").respond_with_json({"dags": dags, "total_entries": len(dags)})
    httpserver.expect_request("/api/v2/dags/amsterdam/details").respond_with_json({"dag_id": "amsterdam", "timezone": "Europe/Amsterdam"})
    runs = [{"dag_id": d["dag_id"], "dag_run_id": "r", "state": "success", "start_date": "2026-11-22T02:00:00Z",
             "end_date": "2026-11-22T02:10:00Z"} for d in dags]
    httpserver.expect_request("/api/v2/dags/~/dagRuns/list").respond_with_json({"dag_runs": runs, "total_entries": len(runs)})
    httpserver.expect_request("/api/v2/dags/~/dagRuns/~/taskInstances/list").respond_with_json({"task_instances": [], "total_entries": 0})
    httpserver.expect_request("/api/v2/dags/utc_nightly/tasks").respond_with_json({"tasks": [{"task_id": "load"}], "total_entries": 1})
    c = collector(httpserver, token="t")
    ctx = context(c, None, NOW)
    reports = c.collect(sources(*[(d["dag_id"], None) for d in dags], ("utc_nightly", "load")), ctx)
    assert [r.schedule for r in reports] == [Schedule("0 2 * * *"), Schedule("0 6 * * 1-5", "Europe/Amsterdam"), None, None, None,
                                             None, None]  # a task starts when the tasks before it are done: no schedule of its own
    assert ctx.api.requests_made == 5  # the DAGs, one DAG's details, the runs, the task instances, and the missing task's DAG


def test_a_dag_with_a_promise_in_sources_yaml_needs_no_schedule(httpserver):
    """sources.yaml's promise wins (or `none` turns the read one off): the DAG's zone is not asked for."""
    dag = {"dag_id": "amsterdam", "is_paused": False, "timetable_summary": "0 6 * * *", "next_dagrun_run_after": "2026-11-23T05:00:00Z"}
    httpserver.expect_request("/api/v2/dags").respond_with_json({"dags": [dag], "total_entries": 1})
    run = {"dag_id": "amsterdam", "dag_run_id": "r", "state": "success", "start_date": "2026-11-22T05:00:00Z", "end_date": "2026-11-22T05:10:00Z"}
    httpserver.expect_request("/api/v2/dags/~/dagRuns/list").respond_with_json({"dag_runs": [run], "total_entries": 1})
    c = collector(httpserver, token="t")
    ctx = context(c, None, NOW)
    written = [AirflowSource(id=f"s{n}", connection="prod_airflow", dag_id="amsterdam", freshness=f) for n, f in enumerate(["none", {"warn_after": "1d"}])]
    assert [r.schedule for r in c.collect(written, ctx)] == [None, None]
    assert ctx.api.requests_made == 2  # the DAGs and the runs: no details
