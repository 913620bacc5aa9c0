"""pipeline.advance: the demo's runs that show nothing still leave history as `run` would."""

import duckdb

from statusgen import pipeline
from statusgen.config import load_config
from statusgen.history import History
from tests.conftest import utc


def _parts(history, day):
    return sorted(p.name for p in (history.root / "observations" / f"date={day}").glob("part-*.parquet"))


def test_runs_of_one_process_maintain_history_when_a_day_has_finished(write_config, tmp_path, monkeypatch):
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as db:
        db.execute("CREATE TABLE orders AS SELECT TIMESTAMP '2026-11-20 03:00' AS loaded_at")
    config = load_config(write_config("""
        connections:
          wh: {type: sql, database: wh.duckdb}
        sources:
          - {id: orders_raw, connection: wh, query: SELECT max(loaded_at) FROM orders}
        components:
          - {id: orders, name: Orders, depends_on: [orders_raw]}
        """), {})
    history = History(tmp_path / "history")
    compactions = []
    maintain = pipeline.maintain
    monkeypatch.setattr(pipeline, "maintain", lambda config, history, now: compactions.append(now) or maintain(config, history, now))
    moments = [utc(2026, 11, 20, 6), utc(2026, 11, 20, 18), utc(2026, 11, 21, 6), utc(2026, 11, 21, 18)]
    for previous, moment in zip([None, *moments], moments):
        pipeline.advance(config, history, moment, previous)
    assert compactions == [moments[0], moments[2]]  # the first run, then the first of a new day
    assert len(_parts(history, "2026-11-20")) == 1  # the finished day compacted as at every run
    assert len(_parts(history, "2026-11-21")) == 2
