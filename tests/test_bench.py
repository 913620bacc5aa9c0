"""The benchmarks' data is what today's statusgen reads: `python -m bench` is run by hand,
so without these a change of history's schema breaks it unnoticed (as schema 2's `paused`
did). Nothing here is timed: speed is judged by `python -m bench` alone."""

import duckdb

from bench import collection, history_scale
from statusgen.history import History
from statusgen.history.schema import COLUMNS
from statusgen.records import Observation


def test_the_generated_history_has_todays_columns_and_reads_and_compacts_as_statusgen_leaves_it(tmp_path):
    observations = history_scale.generate(tmp_path, sources=2, days=3)
    for dataset, columns in COLUMNS.items():
        described = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{tmp_path}/{dataset}/*/*.parquet', hive_partitioning = false, "
                               "union_by_name = true)").fetchall()
        assert [(name, kind) for name, kind, *_ in described] == list(columns.items())
    history = History(tmp_path)
    history.compact(history_scale.NOW)
    snapshot = history.open()
    try:
        assert snapshot.warnings == []
        assert snapshot.db.execute("SELECT count(*) FROM observations").fetchone()[0] == observations
        latest = snapshot.latest_observations()
        assert sorted(latest) == ["s0000", "s0001"] and all(isinstance(o, Observation) for o in latest.values())
        assert snapshot.recent_runs(1)["s0000"][0].ended_at < history_scale.NOW
    finally:
        snapshot.close()


def test_the_collection_benchmarks_server_answers_what_the_airflow_collector_reads():
    row = collection.measure(connections=1, dags=3)
    assert row["requests"] == 3  # a token, the paused DAGs, one page of runs
