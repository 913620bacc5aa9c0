"""The dbt collector on artifacts a real dbt 1.11 run wrote (tests/dbt_project/regenerate.sh)."""

import json
import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from statusgen.cli import main
from statusgen.collectors.dbt import DbtCollector, DbtConnection, DbtSource
from statusgen.status import Freshness, RunState
from tests.conftest import DBT_TARGET, collected, discovered, utc

NOW = utc(2026, 11, 22, 12)


def collector(target=DBT_TARGET, **settings):
    return DbtCollector("shop", DbtConnection(type="dbt", target_dir=target, **settings))


def collect(nodes, target=DBT_TARGET, **settings):
    sources = [DbtSource(id=node.split(".")[-1], connection="shop", node=node) for node in nodes]
    return {r.source_id: r for r in collected(collector(target, **settings), sources, None, NOW)}


def test_models_take_their_own_result_and_their_tests():
    found = collect([
        "model.shop.fct_orders",
        "model.shop.dim_customers",
        "model.shop.revenue_daily",
        "model.shop.ad_spend_daily",
        "model.shop.marketing_roi",
    ], docs_url="https://docs.example.com/")
    states = {sid: [r.state for r in report.runs] for sid, report in found.items()}
    assert states == {
        "fct_orders": [RunState.SUCCESS],
        "dim_customers": [RunState.SUCCESS, RunState.FAILED],  # built, then its not_null test failed
        "revenue_daily": [RunState.SUCCESS, RunState.WARNING],  # built, then a warn-severity test
        "ad_spend_daily": [RunState.FAILED],
        "marketing_roi": [RunState.SKIPPED],  # upstream failed
    }
    run_results = json.loads((DBT_TARGET / "run_results.json").read_text())
    fct = found["fct_orders"].runs[0]
    assert fct.run_id == run_results["metadata"]["invocation_id"]
    assert fct.url == "https://docs.example.com/#!/model/model.shop.fct_orders"
    assert timedelta(0) <= fct.duration < timedelta(minutes=1)
    built, tested = found["dim_customers"].runs
    assert (built.run_id, built.message) == (fct.run_id, None)
    assert (tested.run_id, tested.message) == (f"{fct.run_id}/tests", "test not_null_dim_customers_email failed")
    assert built.ended_at < tested.ended_at  # the failed test is the latest word, the build its last success
    assert found["dim_customers"].message == "test not_null_dim_customers_email failed"
    assert found["ad_spend_daily"].runs[0].message == 'Binder Error: Referenced column "spend_eur" not found in FROM clause!'


def test_sources_become_load_events_with_dbt_freshness_criteria():
    found = collect(["source.shop.raw.orders", "source.shop.raw.ad_spend"])
    results = {r["unique_id"]: r for r in json.loads((DBT_TARGET / "sources.json").read_text())["results"]}
    orders = found["orders"]
    (load,) = orders.runs
    assert load.state is RunState.SUCCESS
    assert load.ended_at.isoformat() == results["source.shop.raw.orders"]["max_loaded_at"]
    assert orders.freshness == Freshness(timedelta(hours=24), timedelta(hours=48))
    assert found["ad_spend"].freshness == Freshness(timedelta(days=1), timedelta(days=3))
    assert orders.message is None  # dbt said pass


def test_a_source_dbt_judged_late_says_why():
    # The load event is a success; without dbt's verdict the page showed "latest run:
    # success" beside "failing" and no reason.
    found = collect(["source.shop.raw.ad_spend", "source.shop.raw.customers"])
    assert found["ad_spend"].message == (
        "dbt source freshness: error, last loaded 2026-11-17 05:50 UTC (checked 2026-11-22 05:50 UTC); warn after 1 day, error after 3 days")
    assert found["customers"].message == (
        "dbt source freshness: warn, last loaded 2026-11-20 23:50 UTC (checked 2026-11-22 05:50 UTC); warn after 24 hours, error after 48 hours")


def test_a_node_missing_from_the_latest_invocation_keeps_its_previous_status(tmp_path):
    target = tmp_path / "target"
    shutil.copytree(DBT_TARGET, target)
    run_results = json.loads((target / "run_results.json").read_text())
    run_results["results"] = [r for r in run_results["results"] if r["unique_id"] != "model.shop.stg_orders"]
    (target / "run_results.json").write_text(json.dumps(run_results))
    (report,) = collect(["model.shop.stg_orders"], target).values()
    assert report.runs == [] and report.error is None
    assert report.message == "not part of the latest dbt invocation"


def test_a_node_the_manifest_does_not_have_is_named_not_taken_for_one_not_built():
    found = collect(["model.shop.fct_ordres", "source.shop.raw.oders"])
    assert found["fct_ordres"].error == "no dbt node named 'model.shop.fct_ordres' in the manifest (did you mean 'model.shop.fct_orders'?)"
    assert found["oders"].error == "no dbt node named 'source.shop.raw.oders' in the manifest (did you mean 'source.shop.raw.orders'?)"


def test_exposures_become_components_over_everything_upstream():
    declared = [DbtSource(id="revenue", connection="shop", node="model.shop.revenue_daily")]
    found = discovered(collector(exposures_as_components=True), declared, NOW)
    components = {c.id: c for c in found.components}
    dashboard = components["revenue_dashboard"]
    assert dashboard.name == "Revenue dashboard"
    assert dashboard.owner == "Finance analytics"
    assert dashboard.url == "https://bi.example.com/dashboards/revenue"
    assert sorted(dashboard.depends_on) == sorted([
        "revenue",  # the declared source is reused, not duplicated
        "model.shop.dim_customers",
        "model.shop.fct_orders",
        "model.shop.stg_orders",
        "source.shop.raw.customers",
        "source.shop.raw.orders",
    ])
    names = {s.id: s.title for s in found.sources}
    assert names["model.shop.stg_orders"] == "stg_orders" and names["source.shop.raw.orders"] == "raw.orders"
    assert "revenue" not in {s.id for s in found.sources}
    assert discovered(collector(), declared, NOW).components == []  # off unless asked for


def test_an_ephemeral_model_is_not_a_source_of_the_exposures_over_it(tmp_path):
    # dbt never builds an ephemeral model (it is inlined into the models over it), so it is in
    # no run_results: as a source it was "not part of the latest dbt invocation" forever, and
    # every exposure over it unknown. What is upstream of it still counts.
    target = tmp_path / "target"
    shutil.copytree(DBT_TARGET, target)
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["nodes"]["model.shop.stg_orders"]["config"]["materialized"] = "ephemeral"
    (target / "manifest.json").write_text(json.dumps(manifest))
    found = discovered(collector(target, exposures_as_components=True), [], NOW)
    dashboard = {c.id: c for c in found.components}["revenue_dashboard"]
    assert "model.shop.stg_orders" not in dashboard.depends_on + [s.id for s in found.sources]
    assert {"source.shop.raw.orders", "model.shop.fct_orders"} <= set(dashboard.depends_on)


def test_missing_and_broken_artifacts_make_only_their_sources_unknown(tmp_path):
    target = tmp_path / "target"
    shutil.copytree(DBT_TARGET, target)
    (target / "sources.json").unlink()
    (target / "run_results.json").write_text('{"metadata": {}, "results": [')
    found = collect(["model.shop.fct_orders", "source.shop.raw.orders"], target)
    assert found["fct_orders"].error.startswith("run_results.json is not valid JSON")
    assert found["orders"].error == f"sources.json not found in the dbt target folder {target}"


def test_a_file_that_is_not_a_dbt_artifact(tmp_path):
    (tmp_path / "run_results.json").write_text("[1, 2, 3]")
    (report,) = collect(["model.shop.fct_orders"], tmp_path).values()
    assert report.error == "run_results.json is not a dbt artifact (no metadata)"


def test_oversized_artifacts_are_refused(tmp_path):
    (tmp_path / "run_results.json").write_bytes(b" " * (1024 * 1024 + 1))
    (report,) = collect(["model.shop.fct_orders"], tmp_path, max_artifact_mb=1).values()
    assert report.error == "run_results.json is larger than 1 MB"


def test_a_freshness_runtime_error_is_unknown_with_the_reason(tmp_path):
    shutil.copytree(DBT_TARGET, tmp_path / "t")
    sources = json.loads((tmp_path / "t/sources.json").read_text())
    sources["results"][0]["status"] = "runtime error"
    sources["results"][0]["error"] = "Database Error\n  relation raw.ad_spend does not exist"
    (tmp_path / "t/sources.json").write_text(json.dumps(sources))
    (report,) = collect([sources["results"][0]["unique_id"]], tmp_path / "t").values()
    assert report.error == "relation raw.ad_spend does not exist"


@pytest.mark.parametrize("status", ["reused", "no-op"])
def test_nodes_dbt_did_not_rebuild_are_not_new_runs(tmp_path, status):
    shutil.copytree(DBT_TARGET, tmp_path / "t")
    results = json.loads((tmp_path / "t/run_results.json").read_text())
    for result in results["results"]:
        if result["unique_id"] == "model.shop.fct_orders":
            result["status"] = status
    (tmp_path / "t/run_results.json").write_text(json.dumps(results))
    (report,) = collect(["model.shop.fct_orders"], tmp_path / "t").values()
    assert report.runs == [] and report.error is None


def page(write_config, target=DBT_TARGET):
    """`statusgen run` on the fixture project with its exposures as components: status.json's
    components and sources by id."""
    write_config(f"""
        connections:
          shop: {{type: dbt, target_dir: "{target}", exposures_as_components: true}}
        sources:
          - {{id: ad_spend_raw, name: Ad spend, connection: shop, node: source.shop.raw.ad_spend}}
        components:
          - {{id: ads, name: Ads, depends_on: [ad_spend_raw]}}
        """)
    done = CliRunner().invoke(main, ["run", "--now", "2026-11-22T06:00:00Z"], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    document = json.loads(Path("site/status.json").read_text())
    return {c["id"]: c for c in document["components"]}, {s["id"]: s for s in document["sources"]}


def test_the_page_gives_dbts_freshness_verdict_as_the_reason(write_config):
    _, sources = page(write_config)
    assert sources["ad_spend_raw"]["status"] == "failing"
    assert sources["ad_spend_raw"]["last_run_state"] == "success"
    assert sources["ad_spend_raw"]["message"].startswith("dbt source freshness: error, last loaded 2026-11-17 05:50 UTC")


def test_a_model_whose_test_failed_last_succeeded_when_it_built(write_config):
    components, sources = page(write_config)
    run_results = json.loads((DBT_TARGET / "run_results.json").read_text())
    (built,) = [r for r in run_results["results"] if r["unique_id"] == "model.shop.dim_customers"]
    (execute,) = [t for t in built["timing"] if t["name"] == "execute"]
    dim = sources["model.shop.dim_customers"]
    assert dim["status"] == "failing" and dim["message"] == "test not_null_dim_customers_email failed"
    assert dim["last_success_at"] == execute["completed_at"]
    dashboard = components["revenue_dashboard"]  # an exposure over it
    assert dashboard["status"] == "failing" and dashboard["last_success_at"] is not None


def test_nodes_found_through_exposures_are_named_as_dbt_names_them(write_config):
    _, sources = page(write_config)
    assert sources["model.shop.marketing_roi"]["name"] == "marketing_roi"
    assert sources["source.shop.raw.orders"]["name"] == "raw.orders"
    assert sources["ad_spend_raw"]["name"] == "Ad spend"  # declared: its own name


def test_an_exposure_first_collected_today_is_as_green_as_its_sources_today(write_config, tmp_path):
    # Issue #15 item 24: a dashboard over stg_orders, whose raw.orders loaded at 04:50 and which
    # dbt built at 05:50, first collected at 06:00. Its page showed today grey ("1 h unknown":
    # the hour before the build, when stg_orders had no data yet) beside two green sources.
    target = tmp_path / "target"
    shutil.copytree(DBT_TARGET, target)
    manifest = json.loads((target / "manifest.json").read_text())
    exposure = {**manifest["exposures"]["exposure.shop.revenue_dashboard"], "name": "orders_dashboard",
                "unique_id": "exposure.shop.orders_dashboard", "label": "Orders dashboard",
                "depends_on": {"macros": [], "nodes": ["model.shop.stg_orders"]}}
    manifest["exposures"] = {exposure["unique_id"]: exposure}
    manifest["parent_map"][exposure["unique_id"]] = ["model.shop.stg_orders"]
    (target / "manifest.json").write_text(json.dumps(manifest))
    components, sources = page(write_config, target)
    assert components["orders_dashboard"]["status"] == "operational"
    assert {s: sources[s]["status"] for s in components["orders_dashboard"]["sources"]} == {
        "model.shop.stg_orders": "operational", "source.shop.raw.orders": "operational"}
    html = Path("site/components/orders_dashboard.html").read_text()
    # The component's strip, then its sources': today is the last of the 90 days.
    todays = re.findall(r'<div class="strip u-(\w+)"[^>]*>(?:<i class="c\d+ s-\w+"></i>)*?<i class="c90 s-(\w+)"></i></div>', html)
    assert todays == [("nodata", "operational")] * 3
    assert "<tr><td>Nov 22</td><td>operational, partly no data</td></tr>" in html
