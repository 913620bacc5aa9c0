"""The sql collector against real DuckDB database files."""

from datetime import timedelta

import duckdb
import pytest

from statusgen.collectors.sql import MAX_ROWS, SqlCollector, SqlConnection, SqlSource
from statusgen.errors import CollectorError
from statusgen.status import RunState
from tests.conftest import collected, utc

NOW = utc(2026, 11, 22, 12)


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "wh.duckdb"
    with duckdb.connect(str(path)) as db:
        db.execute("CREATE TABLE orders (id INT, loaded_at TIMESTAMP)")
        db.execute(
            "INSERT INTO orders VALUES (1, '2026-11-22 09:00'), (2, '2026-11-22 10:00'), (3, '2026-11-22 11:00'), (4, '2026-11-22 11:00')"
        )
        db.execute("CREATE TABLE events (happened TIMESTAMPTZ)")
        db.execute("INSERT INTO events VALUES ('2026-11-22 12:30:00+02:00')")
        db.execute("CREATE TABLE empty (loaded_at TIMESTAMP)")
    return path


def collect(database, queries, since=None, timeout=timedelta(seconds=10)):
    connection = SqlConnection(type="sql", database=database, timeout=timeout)
    sources = [SqlSource(id=sid, connection="wh", query=q) for sid, q in queries.items()]
    return {r.source_id: r for r in collected(SqlCollector("wh", connection), sources, since, NOW)}


def test_latest_load_and_row_count(warehouse):
    (report,) = collect(warehouse, {"orders": "SELECT max(loaded_at), count(*) FROM orders"}).values()
    (load,) = report.runs
    assert (load.state, load.ended_at, load.rows_loaded) == (RunState.SUCCESS, utc(2026, 11, 22, 11), 4)
    assert load.run_id == "loaded@2026-11-22T11:00:00+00:00"


def test_one_row_per_load_since_the_previous_collection(warehouse):
    query = "SELECT loaded_at, count(*) FROM orders WHERE loaded_at > $since GROUP BY 1 ORDER BY 1"
    (report,) = collect(warehouse, {"orders": query}, since=utc(2026, 11, 22, 9, 30)).values()
    assert [(r.ended_at.hour, r.rows_loaded) for r in report.runs] == [(10, 1), (11, 2)]
    (first,) = collect(warehouse, {"orders": query}).values()  # no previous collection: the last day
    assert len(first.runs) == 3


def test_a_load_committed_after_the_previous_collection_with_an_earlier_time_is_read(warehouse):
    # Stamped 10:58 when the load began, committed after the 11:00 collection: `$since`
    # reaches back the connection's overlap (5 minutes), so the next collection sees it.
    with duckdb.connect(str(warehouse)) as db:
        db.execute("INSERT INTO orders VALUES (5, '2026-11-22 10:58')")
    query = "SELECT loaded_at FROM orders WHERE loaded_at > $since ORDER BY 1"
    (report,) = collect(warehouse, {"orders": query}, since=utc(2026, 11, 22, 11)).values()
    assert [r.ended_at for r in report.runs] == [utc(2026, 11, 22, 10, 58), utc(2026, 11, 22, 11), utc(2026, 11, 22, 11)]


def test_zoned_timestamps_are_converted_to_utc(warehouse):
    (report,) = collect(warehouse, {"events": "SELECT max(happened) FROM events"}).values()
    assert report.runs[0].ended_at == utc(2026, 11, 22, 10, 30)


def test_no_rows_is_a_message_not_an_error(warehouse):
    (report,) = collect(warehouse, {"empty": "SELECT max(loaded_at) FROM empty"}).values()
    assert report.runs == [] and report.error is None and report.message == "no loads found"


def test_each_failing_query_fails_only_its_source(warehouse):
    found = collect(warehouse, {
        "typo": "SELECT max(loaded_at) FROM ordrs",
        "not_a_time": "SELECT count(*) FROM orders",
        "good": "SELECT max(loaded_at) FROM orders",
    })
    # The database's own words follow "query failed:"; their wording is DuckDB's to change.
    assert found["typo"].error.startswith("query failed: ") and "ordrs" in found["typo"].error
    assert found["not_a_time"].error == "the query's first column must be a timestamp, found int"
    assert found["good"].runs and found["good"].error is None


def test_a_runaway_query_is_interrupted(warehouse):
    # Every one of 10^15 rows must be hashed to know the sum, so no optimiser can fold the
    # query away (DuckDB 2 proves `range % 7 = 8` empty and answers at once).
    slow = "SELECT max(loaded_at) FROM orders WHERE (SELECT sum(hash(range)) FROM range(1000000000000000)) IS NOT NULL"
    (report,) = collect(warehouse, {"slow": slow}, timeout=timedelta(seconds=1)).values()
    assert report.error == "query timed out after 0:00:01"


def test_too_many_rows_are_refused(warehouse):
    (report,) = collect(warehouse, {"many": f"SELECT TIMESTAMP '2026-01-01' FROM range({MAX_ROWS + 1})"}).values()
    assert report.error == f"query returned more than {MAX_ROWS} rows; narrow it with $since"


def test_a_missing_database_fails_the_whole_connection(tmp_path):
    with pytest.raises(CollectorError, match="database file missing.duckdb not found"):
        collect(tmp_path / "missing.duckdb", {"a": "SELECT now()"})


def test_the_database_is_opened_read_only(warehouse):
    (report,) = collect(warehouse, {"write": "CREATE TABLE x AS SELECT now() AS t"}).values()
    assert report.error.startswith("query failed: ")
    with duckdb.connect(str(warehouse), read_only=True) as db:
        assert db.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'x'").fetchone() == (0,)


def test_a_query_names_the_file_as_duckdb_does_and_the_file_is_free_after(warehouse):
    (report,) = collect(warehouse, {"named": "SELECT max(loaded_at) FROM wh.main.orders"}).values()
    assert report.error is None and report.runs
    with duckdb.connect(str(warehouse)) as db:  # a loader may write between collections
        db.execute("INSERT INTO orders VALUES (5, '2026-11-22 11:30')")
    (report,) = collect(warehouse, {"latest": "SELECT max(loaded_at) FROM orders"}).values()
    assert report.runs[0].ended_at == utc(2026, 11, 22, 11, 30)


def test_any_sqlalchemy_database_through_a_url(tmp_path):
    import sqlite3

    path = tmp_path / "app.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE loads (loaded_at TEXT, n INTEGER)")
        db.executemany("INSERT INTO loads VALUES (?, ?)", [("2026-11-22 09:00:00", 5), ("2026-11-22 11:00:00", 7)])
    connection = SqlConnection(type="sql", url=f"sqlite:///{path}")
    sources = [
        SqlSource(id="loads", connection="app", query="SELECT loaded_at, n FROM loads WHERE loaded_at > $since ORDER BY 1"),
        SqlSource(id="typo", connection="app", query="SELECT max(x) FROM nowhere"),
    ]
    found = {r.source_id: r for r in collected(SqlCollector("app", connection), sources, utc(2026, 11, 22, 10), NOW)}
    assert [(r.ended_at, r.rows_loaded) for r in found["loads"].runs] == [(utc(2026, 11, 22, 11), 7)]
    assert found["typo"].error == "query failed: no such table: nowhere"


def test_a_url_password_is_among_the_secrets_to_scrub():
    connection = SqlConnection(type="sql", url="postgresql+psycopg://statusgen:pa55-w0rd@db.internal:5432/warehouse")
    assert "pa55-w0rd" in connection.secret_values()


def test_a_url_whose_driver_is_missing_says_which_extra_to_install():
    connection = SqlConnection(type="sql", url="nosuchdb+driver://u:p@127.0.0.1:1/db")
    with pytest.raises(CollectorError, match=r"no driver for nosuchdb\+driver URLs is installed"):
        collected(SqlCollector("x", connection), [SqlSource(id="a", connection="x", query="SELECT 1")], None, NOW)


def test_an_unreachable_database_fails_the_connection(tmp_path):
    connection = SqlConnection(type="sql", url=f"sqlite:///{tmp_path}/missing-dir/x.sqlite")
    with pytest.raises(CollectorError, match="cannot connect: .*unable to open database file"):
        collected(SqlCollector("x", connection), [SqlSource(id="a", connection="x", query="SELECT 1")], None, NOW)
