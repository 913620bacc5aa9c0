"""The context a collector is given, and the one rule that sets every collector's window."""

from datetime import timedelta, timezone

import duckdb
import pytest

from statusgen import pipeline
from statusgen.collectors import registry
from statusgen.collectors.context import WindowedConnection, collect_context
from statusgen.config import load_config
from statusgen.history import History
from tests.conftest import utc

NOW = utc(2026, 11, 22, 12)
BASE = {
    "airflow": {"url": "https://airflow.example.com"},
    "dagster": {"url": "https://dagster.example.com"},
    "prefect": {"api_url": "https://prefect.example.com/api"},
    "github_actions": {"repository": "acme/pipelines"},
    "sql": {"database": "wh.duckdb"},
    "dlt": {"database": "wh.duckdb"},
}


def connection(kind, **settings):
    return registry()[kind].Connection(type=kind, **BASE[kind], **settings)


def test_every_collector_that_reads_a_window_declares_it_the_same_way():
    windowed = {kind for kind, collector in registry().items() if issubclass(collector.Connection, WindowedConnection)}
    assert windowed == set(BASE)


@pytest.mark.parametrize("kind, first_lookback, overlap", [
    ("airflow", timedelta(days=30), timedelta(minutes=5)),
    ("dagster", timedelta(days=30), timedelta(minutes=5)),
    ("prefect", timedelta(days=30), timedelta(minutes=5)),
    ("github_actions", timedelta(days=30), timedelta(hours=6)),  # runs are listed by creation and last hours
    ("sql", timedelta(days=1), timedelta(minutes=5)),  # a first query listing a month of loads would pass MAX_ROWS
    ("dlt", timedelta(days=1), timedelta(minutes=5)),
])
def test_one_rule_with_each_connections_settings(kind, first_lookback, overlap):
    c = connection(kind)
    assert collect_context("c", c, NOW).read_from == NOW - first_lookback
    assert collect_context("c", c, NOW, utc(2026, 11, 22, 11)).read_from == utc(2026, 11, 22, 11) - overlap
    assert collect_context("c", connection(kind, overlap="1h"), NOW, utc(2026, 11, 22, 11)).read_from == utc(2026, 11, 22, 10)
    assert collect_context("c", connection(kind, first_lookback="2d"), NOW).read_from == NOW - timedelta(days=2)


def test_the_window_never_starts_before_the_callers_bound_and_is_in_utc():
    c = connection("airflow")
    bound = NOW - timedelta(days=10)
    assert collect_context("c", c, NOW, not_before=bound).read_from == bound
    assert collect_context("c", c, NOW, utc(2026, 11, 22, 11), not_before=bound).read_from == utc(2026, 11, 22, 10, 55)
    plus_two = timezone(timedelta(hours=2))
    start = collect_context("c", c, NOW.astimezone(plus_two), utc(2026, 11, 22, 11).astimezone(plus_two)).read_from
    assert start.tzinfo is timezone.utc and start == utc(2026, 11, 22, 10, 55)


def test_a_connection_without_window_settings_gets_the_defaults():
    c = registry()["http"].Connection(type="http", url="https://example.com")
    assert collect_context("c", c, NOW).read_from == NOW - timedelta(days=30)


def test_the_keys_configs_set_before_still_validate(write_config):
    path = write_config("""
        connections:
          af: {type: airflow, url: "https://airflow.example.com", first_lookback: 7d}
          dg: {type: dagster, url: "https://dagster.example.com", first_lookback: 7d}
          pf: {type: prefect, api_url: "https://prefect.example.com/api", first_lookback: 7d}
          gh: {type: github_actions, repository: acme/pipelines, first_lookback: 7d, overlap: 12h}
        sources: []
        components: []
        """)
    connections = load_config(path, {}).connections
    assert {name: c.first_lookback for name, c in connections.items()} == dict.fromkeys(["af", "dg", "pf", "gh"], timedelta(days=7))
    assert connections["gh"].overlap == timedelta(hours=12) and connections["af"].overlap == timedelta(minutes=5)


def test_no_collector_reads_from_before_what_history_keeps(write_config, tmp_path):
    duckdb.connect(str(tmp_path / "wh.duckdb")).close()
    path = write_config("""
        history: {retention_days: 2}
        connections:
          wh: {type: sql, database: wh.duckdb, first_lookback: 30d}
        sources:
          - {id: window, connection: wh, query: "SELECT CAST($since AS TIMESTAMP)"}
        components: [{id: window, name: Window, depends_on: [window]}]
        """)
    (line,) = pipeline.collect(load_config(path, {}), History(tmp_path / "history"), NOW).lines
    assert line.age == timedelta(days=2)  # the one load the query returns is $since
