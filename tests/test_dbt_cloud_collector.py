"""The dbt_cloud collector against payloads shaped as dbt Cloud documents them
(https://docs.getdbt.com/dbt-cloud/api-v2#/operations/List%20Runs and the run artifact
endpoint), serving as artifacts the ones a real dbt run wrote (tests/fixtures/dbt_target)."""

import json
from datetime import timedelta

from statusgen.collectors.dbt_artifacts import Artifacts, report
from statusgen.collectors.dbt_cloud import (
    DbtCloudCollector,
    DbtCloudConnection,
    DbtCloudSource,
)
from statusgen.status import RunState
from tests.conftest import DBT_TARGET, utc

NOW = utc(2026, 11, 22, 12)
RUNS = "/api/v2/accounts/43/runs/"


def run(run_id, status, finished, message=None):
    humanized = {1: "Queued", 3: "Running", 10: "Success", 20: "Error", 30: "Cancelled"}[status]
    return {
        "id": run_id, "trigger_id": 1, "account_id": 43, "environment_id": 7, "project_id": 12, "job_definition_id": 316,
        "status": status, "dbt_version": "1.11.0", "git_branch": "main", "git_sha": "8f1d2c", "status_message": message,
        "artifacts_saved": status in (10, 20), "has_docs_generated": False, "has_sources_generated": True,
        "created_at": "2026-11-22 02:00:00.000000+00:00", "started_at": "2026-11-22 02:00:30.000000+00:00",
        "finished_at": finished, "status_humanized": humanized, "in_progress": status in (1, 3),
        "is_complete": status in (10, 20, 30), "is_success": status == 10, "is_error": status == 20, "is_cancelled": status == 30,
        "href": f"https://cloud.getdbt.com/deploy/43/projects/12/runs/{run_id}/",
    }


def test_job_runs_and_nodes_from_the_latest_finished_runs_artifacts(httpserver):
    runs = [run(903, 3, None), run(902, 20, "2026-11-22 03:10:00.000000+00:00", "Database Error in model ad_spend_daily"),
            run(901, 10, "2026-11-21 03:05:00.000000+00:00")]
    httpserver.expect_request(RUNS, headers={"Authorization": "Token dbtc_s3cret"},
                              query_string={"job_definition_id": "316", "order_by": "-id", "limit": "20"}).respond_with_json(
        {"status": {"code": 200, "is_success": True}, "data": runs, "extra": {"pagination": {"count": 3, "total_count": 3}}})
    for name in ("run_results.json", "sources.json", "manifest.json"):
        httpserver.expect_request(f"{RUNS}902/artifacts/{name}").respond_with_json(json.loads((DBT_TARGET / name).read_text()))
    connection = DbtCloudConnection(type="dbt_cloud", account_id=43, token="dbtc_s3cret", url=httpserver.url_for("/").rstrip("/"),
                                    timeout=timedelta(seconds=5))
    sources = [
        DbtCloudSource(id="job", connection="cloud", job_id=316),
        DbtCloudSource(id="dim", connection="cloud", job_id=316, node="model.shop.dim_customers"),
        DbtCloudSource(id="orders", connection="cloud", job_id=316, node="source.shop.raw.orders"),
    ]
    collector = DbtCloudCollector("cloud", connection)
    reports = {r.source_id: r for r in collector.collect(sources, None, NOW)}
    assert [(r.run_id, r.state) for r in reports["job"].runs] == [("903", RunState.RUNNING), ("902", RunState.FAILED), ("901", RunState.SUCCESS)]
    failed = reports["job"].runs[1]
    assert failed.ended_at == utc(2026, 11, 22, 3, 10) and failed.message == "Database Error in model ad_spend_daily"
    assert failed.url == "https://cloud.getdbt.com/deploy/43/projects/12/runs/902/"
    built, tested = reports["dim"].runs
    assert built.state is RunState.SUCCESS
    assert tested.state is RunState.FAILED and tested.message == "test not_null_dim_customers_email failed"
    assert reports["orders"].runs[0].state is RunState.SUCCESS and reports["orders"].freshness is not None
    assert collector.requests_made == 4  # the runs, then each artifact once


def test_an_artifact_the_run_did_not_save_makes_only_its_nodes_unknown(httpserver):
    httpserver.expect_request(RUNS).respond_with_json({"data": [run(905, 20, "2026-11-22 03:10:00.000000+00:00")]})
    httpserver.expect_request(f"{RUNS}905/artifacts/sources.json").respond_with_json({"status": {"code": 404}}, status=404)
    connection = DbtCloudConnection(type="dbt_cloud", account_id=43, token="t", url=httpserver.url_for("/").rstrip("/"))
    (report,) = DbtCloudCollector("cloud", connection).collect(
        [DbtCloudSource(id="o", connection="cloud", job_id=316, node="source.shop.raw.orders")], None, NOW)
    assert report.error.startswith("sources.json of dbt Cloud run 905: not found")


def fixture(name):
    return json.loads((DBT_TARGET / name).read_text())


def invocation(invocation_id, keep, status=None):
    """The fixture's run_results as another invocation wrote them: the results `keep` accepts,
    with `status` if given (`dbt docs generate` compiles: every node reads success)."""
    artifact = fixture("run_results.json")
    artifact["metadata"]["invocation_id"] = invocation_id
    artifact["results"] = [{**r, **({"status": status} if status else {})} for r in artifact["results"] if keep(r["unique_id"])]
    return artifact


def everything(unique_id):
    return True


def test_a_later_step_that_reused_a_node_does_not_hide_the_step_that_built_it():
    rebuilt = invocation("inv-again", lambda n: n == "model.shop.fct_orders", "reused")
    files = {"first": invocation("inv-build", everything), "again": rebuilt, "manifest.json": fixture("manifest.json")}
    artifacts = Artifacts(files.__getitem__, run_results=["first", "again"])
    (built,) = report("fct", "model.shop.fct_orders", artifacts, None).runs
    assert (built.run_id, built.state) == ("inv-build", RunState.SUCCESS)


def test_an_unexpected_run_status_fails_only_its_job(httpserver):
    httpserver.expect_request(RUNS, query_string={"job_definition_id": "316", "order_by": "-id", "limit": "20"}).respond_with_json(
        {"data": [run(801, 10, "2026-11-22 03:00:00.000000+00:00")]})
    strange = {**run(802, 10, "2026-11-22 03:00:00.000000+00:00"), "status": 99, "job_definition_id": 317}
    httpserver.expect_request(RUNS, query_string={"job_definition_id": "317", "order_by": "-id", "limit": "20"}).respond_with_json(
        {"data": [strange]})
    connection = DbtCloudConnection(type="dbt_cloud", account_id=43, token="t", url=httpserver.url_for("/").rstrip("/"))
    reports = {r.source_id: r for r in DbtCloudCollector("cloud", connection).collect(
        [DbtCloudSource(id="good", connection="cloud", job_id=316), DbtCloudSource(id="odd", connection="cloud", job_id=317)], None, NOW)}
    assert [r.state for r in reports["good"].runs] == [RunState.SUCCESS] and reports["good"].error is None
    assert reports["odd"].error == "unknown dbt Cloud run status '99'"
