"""A real dbt run on DuckDB, then the dbt collector on what it wrote."""

import os
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from statusgen.collectors.dbt import DbtCollector, DbtConnection, DbtSource
from statusgen.status import RunState
from tests.conftest import context, discovered
from tests.servers import venv

pytestmark = pytest.mark.integration

PROJECT = Path(__file__).parent / "dbt_project"


@pytest.fixture(scope="module")
def fresh_target(tmp_path_factory):
    out = tmp_path_factory.mktemp("dbt") / "target"
    dbt = venv("dbt")
    env = {**os.environ, "DBT_VENV": str(dbt), "DBT_ARTIFACTS_OUT": str(out)}
    subprocess.run([str(PROJECT / "regenerate.sh")], env=env, check=True, capture_output=True, timeout=600)
    return out


def test_a_real_dbt_build_and_freshness_run_map_onto_statuses(fresh_target):
    nodes = {
        "model.shop.fct_orders": RunState.SUCCESS,
        "model.shop.dim_customers": RunState.FAILED,
        "model.shop.revenue_daily": RunState.WARNING,
        "model.shop.ad_spend_daily": RunState.FAILED,
        "model.shop.marketing_roi": RunState.SKIPPED,
        "source.shop.raw.orders": RunState.SUCCESS,
    }
    collector = DbtCollector("shop", DbtConnection(type="dbt", target_dir=fresh_target, exposures_as_components=True))
    sources = [DbtSource(id=node, connection="shop", node=node) for node in nodes]
    now = datetime.now(timezone.utc)
    reports = {r.source_id: r for r in collector.collect(sources, context(collector, None, now))}
    assert {node: reports[node].runs[-1].state for node in nodes} == nodes  # a failed test comes after its build
    assert all(r.error is None for r in reports.values())
    assert {c.id for c in discovered(collector, sources, now).components} == {"revenue_dashboard", "marketing_roi_report"}


def test_dbt_graded_freshness_as_statusgen_does(fresh_target, tmp_path):
    # orders loaded 1 h ago, customers 30 h ago, ad spend 5 days ago (make_raw_tables.py):
    # dbt said pass, warn and error; the same criteria through statusgen's rule agree.
    from statusgen.status import Status
    from tests.conftest import timeline_status

    collector = DbtCollector("shop", DbtConnection(type="dbt", target_dir=fresh_target))
    tables = {"orders": Status.OPERATIONAL, "customers": Status.DEGRADED, "ad_spend": Status.FAILING}
    sources = [DbtSource(id=t, connection="shop", node=f"source.shop.raw.{t}") for t in tables]
    now = datetime.now(timezone.utc)
    for report in collector.collect(sources, context(collector, None, now)):
        (load,) = report.runs
        assert timeline_status(tmp_path / report.source_id, [(load.state, load.ended_at)], now, report.freshness) is tables[report.source_id]


SEEDS = {
    "dbt_project.yml": 'name: loads\nversion: "1.0.0"\nprofile: loads\nseed-paths: ["seeds"]\n',
    "profiles.yml": "loads:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: \"{{ env_var('LOADS_DUCKDB') }}\", threads: 1}\n",
    "seeds/orders_today.csv": "id,amount\n1,10\n2,20\n3,5\n",
    "seeds/refunds_today.csv": "id,amount\n",
}


def test_rows_a_real_dbt_run_reports_reach_the_status_through_min_rows(tmp_path, write_config):
    # dbt-duckdb reports no row count for models, but dbt's seeds report rows_affected: one
    # seed loads three rows, the other none (issue #14 item 4: an empty load is not a fresh table).
    from statusgen import pipeline
    from statusgen.config import load_config
    from statusgen.history import History
    from statusgen.status import Status

    project = tmp_path / "loads"
    for name, text in SEEDS.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_PROFILES_DIR": str(project),
           "LOADS_DUCKDB": str(tmp_path / "loads.duckdb")}
    subprocess.run([str(venv("dbt") / "bin/dbt"), "seed", "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
                   cwd=project, env=env, check=True, capture_output=True, timeout=600)
    write_config("""
        connections:
          loads: {type: dbt, target_dir: target}
        sources:
          - {id: orders, connection: loads, node: seed.loads.orders_today, min_rows: 3}
          - {id: refunds, connection: loads, node: seed.loads.refunds_today, min_rows: 1}
          - {id: refunds_any, connection: loads, node: seed.loads.refunds_today}
        components:
          - {id: sales, name: Sales, depends_on: [orders, refunds, refunds_any]}
    """)
    config = load_config(tmp_path / "sources.yaml")
    history = History(tmp_path / "history")
    now = datetime.now(timezone.utc)
    lines = {line.source_id: line.status for line in pipeline.collect(config, history, now).lines}
    assert lines == {"orders": Status.OPERATIONAL, "refunds": Status.DEGRADED, "refunds_any": Status.OPERATIONAL}
    sources = {s.id: s for s in pipeline.model(config, history, now).sources}
    assert [sources[s].runs[0].rows_loaded for s in lines] == [3, 0, 0]
    assert sources["refunds"].last_success_at is None and sources["refunds_any"].last_success_at is not None
