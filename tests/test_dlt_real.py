"""The dlt collector on the `_dlt_loads` table a real dlt pipeline wrote into DuckDB."""

import subprocess
from datetime import datetime, timedelta, timezone

import duckdb
import pytest

from statusgen.collectors.dlt import DltCollector, DltConnection, DltSource
from statusgen.status import RunState
from tests.conftest import context
from tests.servers import venv

pytestmark = pytest.mark.integration

PIPELINE = '''
import sys
import dlt

pipeline = dlt.pipeline(pipeline_name="shop", destination=dlt.destinations.duckdb(sys.argv[1]), dataset_name="shop_data",
                        pipelines_dir=sys.argv[2])
for batch in range(2):
    pipeline.run([{"id": batch * 10 + i, "amount": i} for i in range(10)], table_name="orders")
'''


def test_each_completed_dlt_load_is_a_load_event(tmp_path):
    env_dir = venv("dlt")
    database = tmp_path / "shop.duckdb"
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    done = subprocess.run([str(env_dir / "bin/python"), str(tmp_path / "pipeline.py"), str(database), str(tmp_path / "pipelines")],
                          capture_output=True, text=True, timeout=300, env={"RUNTIME__DLTHUB_TELEMETRY": "false", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-3000:]
    with duckdb.connect(str(database), read_only=True) as db:
        loads = db.execute("SELECT inserted_at FROM shop_data._dlt_loads WHERE status = 0 ORDER BY 1").fetchall()
    assert len(loads) == 2

    collector = DltCollector("lake", DltConnection(type="dlt", database=database))
    now = datetime.now(timezone.utc)
    sources = [DltSource(id="shop", connection="lake", pipeline="shop", dataset="shop_data"),
               DltSource(id="other", connection="lake", pipeline="other", dataset="shop_data")]
    shop, other = collector.collect(sources, context(collector, now - timedelta(hours=1), now))
    assert [r.state for r in shop.runs] == [RunState.SUCCESS, RunState.SUCCESS]
    assert [r.ended_at for r in shop.runs] == [t.astimezone(timezone.utc) for (t,) in loads]
    assert other.runs == [] and other.message == "no loads found since the previous collection"
