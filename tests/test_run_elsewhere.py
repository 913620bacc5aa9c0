"""statusgen's scheduled job where teams already run things: the example Airflow DAG
(docs/examples/airflow_statusgen_dag.py) run by a real Airflow 3 on 127.0.0.1."""

import shutil
import sys
import time
from pathlib import Path
from urllib.parse import quote

import duckdb
import pytest

from tests.servers import airflow_api, airflow_standalone, airflow_trigger

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).parent.parent / "docs/examples/airflow_statusgen_dag.py"


def test_the_example_dag_runs_statusgen_and_the_page_appears(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow")
    work = tmp_path_factory.mktemp("statusgen")
    (home / "dags").mkdir()
    shutil.copy(EXAMPLE, home / "dags")
    with duckdb.connect(str(work / "wh.duckdb")) as db:
        db.execute("CREATE TABLE orders AS SELECT now() AS loaded_at")
    (work / "sources.yaml").write_text(
        "connections:\n  wh: {type: sql, database: wh.duckdb}\n"
        "sources:\n  - {id: orders_raw, connection: wh, query: 'SELECT max(loaded_at) FROM orders'}\n"
        "components:\n  - {id: orders, name: Orders, depends_on: [orders_raw]}\n"
    )
    statusgen = Path(sys.executable).with_name("statusgen")  # its own environment, apart from Airflow's
    server, base = airflow_standalone(home, {
        "STATUSGEN_BIN": str(statusgen), "STATUSGEN_CONFIG": str(work / "sources.yaml"),
        "STATUSGEN_HISTORY": str(work / "history"), "STATUSGEN_SITE": str(work / "site"),
    })
    try:
        session = airflow_api(base)
        deadline = time.monotonic() + 120
        while "statusgen_status_page" not in {d["dag_id"] for d in session.get(f"{base}/api/v2/dags").json().get("dags", [])}:
            assert time.monotonic() < deadline, f"the example DAG was not parsed:\n{server.tail()}"
            time.sleep(1)
        run_id = airflow_trigger(session, base, "statusgen_status_page", server)
        deadline = time.monotonic() + 240
        while (state := session.get(f"{base}/api/v2/dags/statusgen_status_page/dagRuns/{quote(run_id, safe='')}", timeout=10).json()["state"]) not in (
                "success", "failed"):
            assert time.monotonic() < deadline, f"the DAG run did not finish:\n{server.tail()}"
            time.sleep(2)
        assert state == "success", server.tail()
        assert (work / "site/index.html").exists() and "Orders" in (work / "site/index.html").read_text()
        assert list((work / "history/observations").glob("date=*/part-*.parquet"))
    finally:
        server.stop()
