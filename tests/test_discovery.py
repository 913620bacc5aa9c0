"""Discovery is a stage of `collect`, and the catalog keeps what it found: loading the config,
`validate` and `render` ask no system, and a discovery that fails never makes components
vanish or collapse. Airflow payloads as in its v1 reference (`get_dags`,
`get_dag_runs_batch`); dbt from the real artifacts in tests/fixtures."""

import json
import select
import shutil
import socket
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from werkzeug import Response

from statusgen.cli import main
from tests.conftest import DBT_TARGET

AIRFLOW = """
connections:
  af: {{type: airflow, api_version: 1, url: "{url}", token: "${{AF_TOKEN}}", timeout: 2s{extra}}}
sources:
  - {{id: sales, connection: af, tags: [sales]}}
  - {{id: payroll, connection: af, dag_id: hr_payroll}}
components:
  - {{id: sales, name: Sales pipelines, depends_on: [sales, payroll]}}
"""
DAGS = [("sales_orders", ["sales"]), ("sales_refunds", ["sales"]), ("hr_payroll", ["hr"])]


class FakeAirflow:
    """An Airflow 2 API whose answers the test switches: "ok", "refuse" (401) or "endless"
    (a DAG list that claims 10^12 entries, so paging never ends)."""

    def __init__(self, server, dags=DAGS):
        self.mode, self.dags = "ok", list(dags)
        server.expect_request("/api/v1/dags").respond_with_handler(self.dags_page)
        server.expect_request("/api/v1/dags/~/dagRuns/list", method="POST").respond_with_handler(self.runs)

    def dags_page(self, request):
        if self.mode == "refuse":
            return Response("unauthorized", 401)
        if request.args.get("paused") == "true":
            return _json({"dags": [], "total_entries": 0})
        if self.mode == "endless":
            return _json({"dags": [{"dag_id": "sales_orders", "tags": [{"name": "sales"}]}], "total_entries": 10**12})
        offset = int(request.args.get("offset", 0))
        page = [{"dag_id": d, "is_paused": False, "tags": [{"name": t} for t in tags]} for d, tags in self.dags][offset:]
        return _json({"dags": page, "total_entries": len(self.dags)})

    def runs(self, request):
        if self.mode == "refuse":
            return Response("unauthorized", 401)
        runs = [{"dag_id": d, "dag_run_id": f"scheduled__{d}", "state": "success", "start_date": "2026-11-22T05:00:00+00:00",
                 "end_date": "2026-11-22T05:10:00+00:00", "logical_date": "2026-11-22T05:00:00+00:00"}
                for d in json.loads(request.data)["dag_ids"]]
        return _json({"dag_runs": runs, "total_entries": len(runs)})


def _json(body):
    return Response(json.dumps(body), 200, content_type="application/json")


def cli(*args):
    return CliRunner().invoke(main, list(args), env={"AF_TOKEN": "t0k3n"}, catch_exceptions=False)


def edit_catalog(change):
    with open("history/catalog/catalog.json") as f:
        document = json.load(f)
    change(document)
    with open("history/catalog/catalog.json", "w") as f:
        json.dump(document, f)


def status(site="site"):
    with open(f"{site}/status.json") as f:
        document = json.load(f)
    return {c["id"]: c for c in document["components"]}, {s["id"]: s for s in document["sources"]}


@pytest.fixture
def silent_listener():
    """A port that accepts connections into its queue and never answers: an Airflow that hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener


def connections_waiting(listener) -> bool:
    readable, _, _ = select.select([listener], [], [], 0)
    return bool(readable)


def test_validate_asks_no_system(write_config, silent_listener):
    write_config(AIRFLOW.format(url=f"http://127.0.0.1:{silent_listener.getsockname()[1]}", extra=""))
    done = cli("validate")
    assert done.exit_code == 0, done.output
    assert "OK (1 connections, 2 sources, 1 components)" in done.output
    assert not connections_waiting(silent_listener)


def test_render_asks_no_system_and_shows_what_the_last_discovery_found(write_config, httpserver):
    FakeAirflow(httpserver)
    write_config(AIRFLOW.format(url=httpserver.url_for("/").rstrip("/"), extra=""))
    assert cli("collect", "--now", "2026-11-22T06:00:00Z").exit_code == 0
    asked = len(httpserver.log)
    done = cli("render", "--now", "2026-11-22T06:05:00Z")
    assert done.exit_code == 0, done.output
    assert len(httpserver.log) == asked
    components, sources = status()
    assert components["sales"]["sources"] == ["sales.sales_orders", "sales.sales_refunds", "payroll"]
    assert sources["sales.sales_orders"]["status"] == "operational"


def test_a_failed_discovery_keeps_the_components_and_says_why(write_config, httpserver):
    airflow = FakeAirflow(httpserver)
    write_config(AIRFLOW.format(url=httpserver.url_for("/").rstrip("/"), extra=""))
    cli("collect", "--now", "2026-11-22T06:00:00Z")
    airflow.mode = "refuse"  # a password that expired, say
    done = cli("run", "--now", "2026-11-22T06:15:00Z")
    assert "connection 'af': could not discover: authentication failed for connection af (HTTP 401)" in done.output
    components, sources = status()
    assert components["sales"]["sources"] == ["sales.sales_orders", "sales.sales_refunds", "payroll"]
    assert sources["sales.sales_orders"]["status"] == "unknown"
    assert sources["sales.sales_orders"]["message"] == (
        "could not discover what 'af' holds: authentication failed for connection af (HTTP 401)")
    with open("site/components/sales.html") as page:
        assert "sales_orders" in page.read()  # the member keeps its name and its bar


def test_a_first_discovery_that_fails_shows_the_pattern_as_unknown_with_the_reason(write_config, httpserver):
    FakeAirflow(httpserver).mode = "refuse"
    write_config(AIRFLOW.format(url=httpserver.url_for("/").rstrip("/"), extra=""))
    cli("run", "--now", "2026-11-22T06:00:00Z")
    components, sources = status()
    assert components["sales"]["sources"] == ["sales", "payroll"]
    assert sources["sales"]["status"] == "unknown"
    assert sources["sales"]["message"].startswith("could not discover what 'af' holds: authentication failed")


def test_a_discovery_that_never_ends_is_cut_at_the_connection_timeout(write_config, httpserver):
    FakeAirflow(httpserver).mode = "endless"
    write_config(AIRFLOW.format(url=httpserver.url_for("/").rstrip("/"), extra=""))
    done = cli("collect", "--now", "2026-11-22T06:00:00Z")
    assert "connection 'af': could not discover: discovery timed out after 2s" in done.output
    assert cli("validate").exit_code == 0


def test_more_sources_than_max_discovered_is_a_clear_failure(write_config, httpserver):
    FakeAirflow(httpserver, dags=[(f"sales_{n}", ["sales"]) for n in range(5)])
    write_config(AIRFLOW.format(url=httpserver.url_for("/").rstrip("/"), extra=", max_discovered: 3"))
    done = cli("collect", "--now", "2026-11-22T06:00:00Z")
    assert ("could not discover: found 5 sources, more than max_discovered (3): narrow include, exclude or tags, "
            "or raise max_discovered") in done.output


def test_a_dag_that_is_really_gone_leaves_and_its_history_stays(write_config, httpserver):
    airflow = FakeAirflow(httpserver)
    write_config(AIRFLOW.format(url=httpserver.url_for("/").rstrip("/"), extra=""))
    cli("collect", "--now", "2026-11-22T06:00:00Z")
    airflow.dags = [d for d in DAGS if d[0] != "sales_refunds"]
    cli("run", "--now", "2026-11-22T06:15:00Z")
    components, _ = status()
    assert components["sales"]["sources"] == ["sales.sales_orders", "payroll"]
    with duckdb.connect() as db:
        kept = db.execute("SELECT count(*) FROM read_parquet('history/runs/*/*.parquet') WHERE source_id = 'sales.sales_refunds'")
        assert kept.fetchall() == [(1,)]


def test_dbt_exposures_survive_a_target_dir_that_went_missing(write_config, tmp_path):
    target = tmp_path / "target"
    shutil.copytree(DBT_TARGET, target)
    write_config("""
        connections:
          shop: {type: dbt, target_dir: target, exposures_as_components: true}
        sources:
          - {id: revenue, connection: shop, node: model.shop.revenue_daily}
        components:
          - {id: revenue, name: Revenue, depends_on: [revenue]}
        """)
    cli("run", "--now", "2026-11-22T12:00:00Z")
    before, _ = status()
    assert {"revenue_dashboard", "marketing_roi_report"} <= set(before)
    shutil.rmtree(target)  # a typo in target_dir does the same
    done = cli("run", "--now", "2026-11-22T12:15:00Z")
    assert "connection 'shop': could not discover: manifest.json not found in the dbt target folder target;" in done.output
    after, sources = status()
    assert after["revenue_dashboard"]["sources"] == before["revenue_dashboard"]["sources"]
    member = before["revenue_dashboard"]["sources"][-1]
    assert sources[member]["status"] == "unknown"
    assert sources[member]["message"].startswith("could not discover what 'shop' holds:")


def test_only_the_first_shard_refreshes_the_catalog(write_config, httpserver):
    airflow = FakeAirflow(httpserver)
    write_config(AIRFLOW.format(url=httpserver.url_for("/").rstrip("/"), extra=""))
    # Collection lists the DAGs too (for their pauses and schedules): the catalog file says who discovered.
    cli("collect", "--now", "2026-11-22T06:00:00Z", "--shard", "2/2")
    assert not Path("history/catalog/catalog.json").exists()
    cli("collect", "--now", "2026-11-22T06:00:00Z", "--shard", "1/2")
    assert Path("history/catalog/catalog.json").exists()
    assert airflow.mode == "ok"


def test_a_catalog_from_a_newer_statusgen_is_refused_with_its_version(write_config, httpserver):
    FakeAirflow(httpserver)
    write_config(AIRFLOW.format(url=httpserver.url_for("/").rstrip("/"), extra=""))
    cli("collect", "--now", "2026-11-22T06:00:00Z")
    edit_catalog(lambda document: document.update(version=2))
    done = CliRunner().invoke(main, ["render", "--now", "2026-11-22T06:05:00Z"], env={"AF_TOKEN": "t"})
    assert done.exit_code == 1
    assert "history/catalog/catalog.json: expected catalog version 1, found 2" in done.output


def test_a_catalog_entry_that_no_longer_fits_its_connection_is_rediscovered(write_config, httpserver):
    FakeAirflow(httpserver)
    write_config(AIRFLOW.format(url=httpserver.url_for("/").rstrip("/"), extra=""))
    cli("collect", "--now", "2026-11-22T06:00:00Z")
    # As after a change of the connection's type, or of a plugin's models:
    edit_catalog(lambda document: document["connections"]["af"]["expanded"]["sales"][0].update(no_such_setting=1))
    rendered = cli("render", "--now", "2026-11-22T06:05:00Z")
    assert rendered.exit_code == 0 and "what connection 'af' discovered no longer fits its settings" in rendered.output
    collected = cli("collect", "--now", "2026-11-22T06:10:00Z")
    assert collected.exit_code == 0
    with open("history/catalog/catalog.json") as f:
        assert "no_such_setting" not in f.read()
