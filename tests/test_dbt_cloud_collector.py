"""The dbt_cloud collector against payloads shaped as dbt Cloud documents them
(https://docs.getdbt.com/dbt-cloud/api-v2#/operations/List%20Runs, Retrieve Run with
`include_related=["run_steps"]`, and the run artifact endpoint with its `step` parameter),
serving as artifacts the ones a real dbt run wrote (tests/fixtures/dbt_target)."""

import json
from datetime import timedelta

import pytest

from statusgen.collectors.dbt_artifacts import Artifacts, report
from statusgen.collectors.dbt_cloud import (
    DbtCloudCollector,
    DbtCloudConnection,
    DbtCloudSource,
)
from statusgen.status import RunState
from tests.conftest import DBT_TARGET, context, utc

NOW = utc(2026, 11, 22, 12)
RUNS = "/api/v2/accounts/43/runs/"
HUMANIZED = {1: "Queued", 3: "Running", 10: "Success", 20: "Error", 30: "Cancelled"}


def run(run_id, status, finished, message=None, artifacts_saved=None):
    return {
        "id": run_id, "trigger_id": 1, "account_id": 43, "environment_id": 7, "project_id": 12, "job_definition_id": 316,
        "status": status, "dbt_version": "1.11.0", "git_branch": "main", "git_sha": "8f1d2c", "status_message": message,
        "artifacts_saved": status in (10, 20) if artifacts_saved is None else artifacts_saved, "has_docs_generated": False,
        "has_sources_generated": True, "created_at": "2026-11-22 02:00:00.000000+00:00", "started_at": "2026-11-22 02:00:30.000000+00:00",
        "finished_at": finished, "status_humanized": HUMANIZED[status], "in_progress": status in (1, 3),
        "is_complete": status in (10, 20, 30), "is_success": status == 10, "is_error": status == 20, "is_cancelled": status == 30,
        "href": f"https://cloud.getdbt.com/deploy/43/projects/12/runs/{run_id}/",
    }


def step(run_id, index, name, status=10):
    return {
        "id": run_id * 100 + index, "run_id": run_id, "account_id": 43, "index": index, "status": status, "name": name,
        "status_humanized": HUMANIZED[status], "status_color": "green", "logs": "", "debug_logs": "", "log_location": "db",
        "created_at": "2026-11-22 02:00:31.000000+00:00", "started_at": "2026-11-22 02:00:31.000000+00:00",
        "finished_at": "2026-11-22 02:05:00.000000+00:00", "duration": "00:04:29", "duration_humanized": "4 minutes, 29 seconds",
    }


# The steps dbt Cloud runs before the job's commands.
SETUP = ["Clone git repository", "Create profile from connection DuckDB", "Invoke dbt with `dbt deps`"]


def fixture(name):
    return json.loads((DBT_TARGET / name).read_text())


def invocation(invocation_id, keep, status=None):
    """The fixture's run_results as another invocation wrote them: the results `keep` accepts,
    with `status` if given (`dbt docs generate` compiles: every node reads success)."""
    artifact = fixture("run_results.json")
    artifact["metadata"]["invocation_id"] = invocation_id
    artifact["results"] = [{**r, **({"status": status} if status else {})} for r in artifact["results"] if keep(r["unique_id"])]
    return artifact


def serve_run(httpserver, item, names, artifacts):
    """Run `item` with steps named `names` (after SETUP; a (name, status) pair for a step that
    did not succeed), and `artifacts` {(name, step): body}. Without `step` the endpoint
    answers with the last step's file, as dbt Cloud's does."""
    steps = [step(item["id"], i, *((name,) if isinstance(name, str) else name)) for i, name in enumerate(SETUP + names, start=1)]
    httpserver.expect_request(f"{RUNS}{item['id']}/", query_string={"include_related": '["run_steps"]'}).respond_with_json(
        {"status": {"code": 200, "is_success": True}, "data": {**item, "run_steps": steps}})
    for (name, index), body in artifacts.items():
        httpserver.expect_request(f"{RUNS}{item['id']}/artifacts/{name}", query_string={"step": str(index)}).respond_with_json(body)
    last = len(steps)
    for name in ("run_results.json", "sources.json", "manifest.json"):
        if (name, last) in artifacts:
            httpserver.expect_request(f"{RUNS}{item['id']}/artifacts/{name}", query_string="").respond_with_json(artifacts[name, last])


def serve_runs(httpserver, runs, job_id=316):
    httpserver.expect_request(RUNS, headers={"Authorization": "Token dbtc_s3cret"},
                              query_string={"job_definition_id": str(job_id), "order_by": "-id", "limit": "20"}).respond_with_json(
        {"status": {"code": 200, "is_success": True}, "data": runs, "extra": {"pagination": {"count": len(runs), "total_count": len(runs)}}})


def collect(httpserver, sources):
    connection = DbtCloudConnection(type="dbt_cloud", account_id=43, token="dbtc_s3cret", url=httpserver.url_for("/").rstrip("/"),
                                    timeout=timedelta(seconds=5))
    collector = DbtCloudCollector("cloud", connection)
    ctx = context(collector, None, NOW)
    return {r.source_id: r for r in collector.collect(sources, ctx)}, ctx.api


def node(source_id, unique_id, job_id=316):
    return DbtCloudSource(id=source_id, connection="cloud", job_id=job_id, node=unique_id)


def is_test(unique_id):
    return unique_id.startswith("test.")


def everything(unique_id):
    return True


# A build then docs; a freshness, run, test then docs. In both, the last step compiled.
LAYOUTS = {
    "build, docs": (
        ["Invoke dbt with `dbt build`", "Invoke dbt with `dbt docs generate`"],
        {("run_results.json", 4): invocation("inv-build", everything), ("manifest.json", 4): fixture("manifest.json"),
         ("run_results.json", 5): invocation("inv-docs", everything, "success"), ("manifest.json", 5): fixture("manifest.json"),
         ("sources.json", 5): fixture("sources.json")},
        5,  # the runs, the steps, step 4's run_results and manifest, the run's sources.json
    ),
    "freshness, run, test, docs": (
        ["Invoke dbt with `dbt source freshness`", "Invoke dbt with `dbt run --select +marts`", "Invoke dbt with `dbt test`",
         "Invoke dbt with `dbt docs generate`"],
        {("sources.json", 4): fixture("sources.json"),
         ("run_results.json", 5): invocation("inv-build", lambda n: not is_test(n)),
         ("run_results.json", 6): invocation("inv-test", is_test), ("manifest.json", 6): fixture("manifest.json"),
         ("run_results.json", 7): invocation("inv-docs", everything, "success"), ("manifest.json", 7): fixture("manifest.json"),
         ("sources.json", 7): fixture("sources.json")},
        6,  # the runs, the steps, step 4's sources.json, 5's and 6's run_results, 6's manifest
    ),
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_step_that_built_or_tested_is_read_and_docs_are_not(httpserver, layout):
    names, artifacts, requests = LAYOUTS[layout]
    runs = [run(903, 3, None), run(902, 20, "2026-11-22 03:10:00.000000+00:00", "Database Error in model ad_spend_daily"),
            run(901, 10, "2026-11-21 03:05:00.000000+00:00")]
    serve_runs(httpserver, runs)
    serve_run(httpserver, runs[1], names, artifacts)
    sources = [
        DbtCloudSource(id="job", connection="cloud", job_id=316),
        node("dim", "model.shop.dim_customers"),
        node("revenue", "model.shop.revenue_daily"),
        node("fct", "model.shop.fct_orders"),
        node("orders", "source.shop.raw.orders"),
    ]
    reports, api = collect(httpserver, sources)
    assert [(r.run_id, r.state) for r in reports["job"].runs] == [("903", RunState.RUNNING), ("902", RunState.FAILED), ("901", RunState.SUCCESS)]
    failed = reports["job"].runs[1]
    assert failed.ended_at == utc(2026, 11, 22, 3, 10) and failed.message == "Database Error in model ad_spend_daily"
    assert failed.url == "https://cloud.getdbt.com/deploy/43/projects/12/runs/902/"
    tests_by = "inv-build" if layout == "build, docs" else "inv-test"
    assert [(r.run_id, r.state) for r in reports["dim"].runs] == [("inv-build", RunState.SUCCESS), (f"{tests_by}/tests", RunState.FAILED)]
    assert reports["dim"].message == "test not_null_dim_customers_email failed"
    assert [r.state for r in reports["revenue"].runs] == [RunState.SUCCESS, RunState.WARNING]  # its test warned
    assert [r.state for r in reports["fct"].runs] == [RunState.SUCCESS]
    assert reports["orders"].runs[0].state is RunState.SUCCESS and reports["orders"].freshness is not None
    assert api.requests_made == requests  # each artifact once; the docs step's never
    assert not any(r.args.get("step") == str(len(SETUP) + len(names)) for r, _ in httpserver.log)


def test_runs_that_saved_no_artifacts_leave_the_nodes_to_the_latest_that_did(httpserver):
    runs = [run(905, 30, "2026-11-22 04:00:00.000000+00:00", "Cancelled by user", artifacts_saved=False),
            run(904, 20, "2026-11-22 03:30:00.000000+00:00", "Failed to clone repository", artifacts_saved=False),
            # Cancelled during its tests: the models it built still count, the cancelled step is not read.
            run(903, 30, "2026-11-22 03:10:00.000000+00:00", "Cancelled by user", artifacts_saved=True)]
    serve_runs(httpserver, runs)
    serve_run(httpserver, runs[2], ["Invoke dbt with `dbt run`", ("Invoke dbt with `dbt test`", 30)],
              {("run_results.json", 4): invocation("inv-run", lambda n: not is_test(n)), ("manifest.json", 4): fixture("manifest.json")})
    httpserver.log.clear()
    reports, _ = collect(httpserver, [node("dim", "model.shop.dim_customers"), node("fct", "model.shop.fct_orders")])
    assert [(r.run_id, r.state) for r in reports["fct"].runs] == [("inv-run", RunState.SUCCESS)]
    assert [(r.run_id, r.state) for r in reports["dim"].runs] == [("inv-run", RunState.SUCCESS)]
    assert all(r.error is None for r in reports.values())
    assert not any("/905/" in r.path or "/904/" in r.path or r.args.get("step") == "5" for r, _ in httpserver.log)


def test_a_job_whose_finished_runs_saved_no_artifacts_keeps_its_nodes_previous_status(httpserver):
    serve_runs(httpserver, [run(905, 30, "2026-11-22 04:00:00.000000+00:00", "Cancelled by user", artifacts_saved=False)])
    reports, api = collect(httpserver, [node("dim", "model.shop.dim_customers")])
    assert reports["dim"].runs == [] and reports["dim"].error is None
    assert reports["dim"].message == "no finished run of job 316 saved artifacts"
    assert api.requests_made == 1


def test_an_unexpected_run_status_fails_only_its_job(httpserver):
    serve_runs(httpserver, [run(801, 10, "2026-11-22 03:00:00.000000+00:00")], job_id=316)
    strange = {**run(802, 10, "2026-11-22 03:00:00.000000+00:00"), "status": 99, "job_definition_id": 317}
    serve_runs(httpserver, [strange], job_id=317)
    reports, _ = collect(httpserver, [DbtCloudSource(id="good", connection="cloud", job_id=316),
                                      DbtCloudSource(id="odd", connection="cloud", job_id=317)])
    assert [r.state for r in reports["good"].runs] == [RunState.SUCCESS] and reports["good"].error is None
    assert reports["odd"].error == "unknown dbt Cloud run status '99'"


def test_an_artifact_the_run_did_not_save_makes_only_its_nodes_unknown(httpserver):
    serve_runs(httpserver, [run(905, 20, "2026-11-22 03:10:00.000000+00:00")])
    serve_run(httpserver, run(905, 20, "2026-11-22 03:10:00.000000+00:00"), ["Invoke dbt with `dbt build`"], {})
    httpserver.expect_request(f"{RUNS}905/artifacts/sources.json").respond_with_json({"status": {"code": 404}}, status=404)
    reports, _ = collect(httpserver, [DbtCloudSource(id="job", connection="cloud", job_id=316), node("o", "source.shop.raw.orders")])
    assert reports["o"].error.startswith("sources.json of dbt Cloud run 905: not found")
    assert [r.run_id for r in reports["job"].runs] == ["905"]


def test_steps_that_cannot_be_read_make_only_the_nodes_unknown(httpserver):
    serve_runs(httpserver, [run(905, 20, "2026-11-22 03:10:00.000000+00:00")])
    httpserver.expect_request(f"{RUNS}905/").respond_with_json({"status": {"code": 200}, "data": {"id": 905, "run_steps": "none"}})
    reports, _ = collect(httpserver, [DbtCloudSource(id="job", connection="cloud", job_id=316), node("dim", "model.shop.dim_customers")])
    assert reports["dim"].error == "cloud: unexpected answer reading the steps of dbt Cloud run 905"
    assert [r.run_id for r in reports["job"].runs] == ["905"]


def test_a_later_step_that_reused_a_node_does_not_hide_the_step_that_built_it():
    rebuilt = invocation("inv-again", lambda n: n == "model.shop.fct_orders", "reused")
    files = {"first": invocation("inv-build", everything), "again": rebuilt, "manifest.json": fixture("manifest.json")}
    artifacts = Artifacts(files.__getitem__, run_results=["first", "again"])
    (built,) = report("fct", "model.shop.fct_orders", artifacts, None).runs
    assert (built.run_id, built.state) == ("inv-build", RunState.SUCCESS)
