"""`statusgen status`: what the page says, in the terminal, from history alone; and the
levels of --fail-on."""

import json

import duckdb
import pytest
from click.testing import CliRunner

from statusgen.cli import main


@pytest.fixture
def history(write_config, tmp_path):
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as db:
        db.execute("CREATE TABLE orders (loaded_at TIMESTAMP)")
        db.execute("INSERT INTO orders VALUES ('2026-11-22 02:00')")
    write_config("""
        site: {timezone: Europe/Amsterdam}
        connections:
          wh: {type: sql, database: wh.duckdb}
        sources:
          - {id: orders_raw, name: Orders raw, connection: wh, query: "SELECT max(loaded_at) FROM orders", freshness: {error_after: 6h}}
          - {id: gone, connection: wh, query: "SELECT max(loaded_at) FROM no_such_table"}
        components:
          - {id: orders, name: Orders, depends_on: [orders_raw]}
          - {id: other, name: Other, depends_on: [gone]}
        """)
    assert CliRunner().invoke(main, ["run", "--now", "2026-11-22T12:00:00Z"]).exit_code == 0
    return tmp_path


def status(*args):
    return CliRunner().invoke(main, ["status", "--now", "2026-11-22T12:05:00Z", *args])


def test_a_table_of_components_and_their_sources_in_the_site_zone(history):
    done = status()
    lines = done.output.splitlines()
    assert lines[0].split() == ["COMPONENT", "/", "SOURCE", "STATUS", "SINCE", "WHY"]
    assert lines[1].split()[:2] == ["Orders", "failing"]
    assert lines[2].split()[:3] == ["Orders", "raw", "failing"]
    assert "CET" in lines[1]
    assert lines[-1] == "overall: failing; last collected 2026-11-22 13:00 CET"
    assert done.exit_code == 0


def test_json_is_what_the_site_publishes_as_status_json(history):
    done = status("--json")
    published = json.loads((history / "site/status.json").read_text())
    answered = json.loads(done.output)
    assert answered["components"] == published["components"] and answered["sources"] == published["sources"]


def test_it_asks_no_system(history):
    (history / "wh.duckdb").unlink()  # a collection would now fail; the status comes from history
    done = status()
    assert done.exit_code == 0 and done.output.splitlines()[1].split()[:2] == ["Orders", "failing"]
    assert json.loads(status("--json").output)["status"] == "failing"


@pytest.mark.parametrize("level, exit_code", [("failing", 1), ("degraded", 1), ("unknown", 1)])
def test_fail_on_levels_include_everything_worse(history, level, exit_code):
    assert status("--fail-on", level).exit_code == exit_code


def test_fail_on_unknown_catches_what_degraded_lets_through(write_config, tmp_path):
    write_config("""
        connections:
          wh: {type: sql, database: missing.duckdb}
        sources:
          - {id: a, connection: wh, query: "SELECT now()"}
        components:
          - {id: a, name: A, depends_on: [a]}
        """)
    runner = CliRunner()
    assert runner.invoke(main, ["collect", "--now", "2026-11-22T12:00:00Z", "--fail-on", "degraded"]).exit_code == 0
    failed = runner.invoke(main, ["collect", "--now", "2026-11-22T12:10:00Z", "--fail-on", "unknown"])
    assert failed.exit_code == 1 and "1 source(s) unknown or worse: a" in failed.output
