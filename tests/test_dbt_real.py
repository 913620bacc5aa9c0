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
