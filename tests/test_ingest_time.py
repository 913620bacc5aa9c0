"""Issue #12: every output tells one story, whatever times an API reports.

A run that claims to end after the collection that saw it counts from that collection;
runs that end at the same instant are ordered by one rule everywhere. Each test drives the
CLI against a Prefect-shaped API served locally, then reads every output the site has.
"""

import json
import re
from datetime import datetime

import duckdb
import pytest
from click.testing import CliRunner
from werkzeug import Response

from statusgen.cli import main
from statusgen.history import History
from statusgen.ingest import bounded
from statusgen.records import Run
from statusgen.status import RunState
from tests.conftest import utc


class Prefect:
    """The flow runs a Prefect server lists, as the test changes them between collections."""

    def __init__(self, httpserver):
        self.runs: list[dict] = []
        httpserver.expect_request("/api/flows/filter").respond_with_json([{"id": "f1", "name": "etl"}])
        httpserver.expect_request("/api/flow_runs/filter").respond_with_handler(self._answer)
        self.url = httpserver.url_for("/api")

    def finish(self, run_id: str, state: str, start: str, end: str) -> None:
        self.runs.insert(0, {"id": run_id, "flow_id": "f1", "deployment_id": None, "state_type": state,
                             "state": {"type": state, "name": state.title(), "message": None},
                             "start_time": start, "end_time": end})

    def _answer(self, request):
        # The finished-runs query filters on end_time; the other asks for Late runs.
        finished = "end_time" in json.loads(request.data)["flow_runs"]
        return Response(json.dumps(self.runs if finished else []), content_type="application/json")


@pytest.fixture
def prefect(httpserver):
    return Prefect(httpserver)


@pytest.fixture
def statusgen(prefect, write_config, tmp_path):
    config = write_config(
        f"""
        site: {{audience: internal}}
        connections:
          pf: {{type: prefect, api_url: "{prefect.url}"}}
        sources:
          - {{id: etl, connection: pf, flow: etl}}
        components:
          - {{id: orders, name: Orders, depends_on: [etl]}}
        """
    )
    runner = CliRunner()

    def run(command: str, now: str) -> str:
        result = runner.invoke(main, [command, "-c", str(config), "--now", now])
        assert result.exit_code == 0, result.output
        return result.output

    return run


def outputs(site) -> dict:
    """What every reader of the site sees for the one component and its source."""
    index = (site / "index.html").read_text()
    status = json.loads((site / "status.json").read_text())
    summary = json.loads((site / "api/v2/summary.json").read_text())
    usual, marks = re.search(r'<div class="strip u-(\w+)"[^>]*>(.*?)</div>', index).groups()
    # Today, the last of site.days: the mark whose days (from its column, over its span) reach it.
    marked = [status for column, span, status in re.findall(r'<i class="c(\d+)(?: w(\d+))?(?: h\d)? s-(\w+)">', marks)
              if int(column) + int(span or 1) - 1 == 90]
    # The component's page lists every day, newest first.
    said = re.search(r"<tr><td>([^<]*)</td><td>([^<]*)</td></tr>", (site / "components/orders.html").read_text()).groups()
    today = (marked[0] if marked else usual, ": ".join(said))
    return {
        "banner": re.search(r'class="banner s-(\w+)"', index)[1],
        "pill": re.search(r'class="pill s-(\w+)"', index)[1],
        "status.json": status["status"],
        "component": status["components"][0]["status"],
        "source": status["sources"][0]["status"],
        "last run": status["sources"][0]["last_run_state"],
        "summary.json": summary["components"][0]["status"],
        "badge": json.loads((site / "badges/orders.json").read_text())["message"],
        "today's bar": today[0],
        "since": summary["components"][0]["updated_at"],
        "last success": status["sources"][0]["last_success_at"],
        "bar label": today[1],
    }


FAILING = {"banner": "failing", "pill": "failing", "status.json": "failing", "component": "failing", "source": "failing",
           "last run": "failed", "summary.json": "major_outage", "badge": "failing", "today's bar": "failing"}


def stored_runs(tmp_path) -> dict[str, tuple]:
    snapshot = History(tmp_path / "history").open()
    try:
        rows = snapshot.db.execute("SELECT run_id, started_at, ended_at, message FROM runs").fetchall()
    finally:
        snapshot.close()
    return {run_id: rest for run_id, *rest in rows}


def test_a_run_ending_in_2099_counts_from_the_collection_that_saw_it(prefect, statusgen, tmp_path):
    # Prefect lists the 2099 run again at every collection: its end is always after `since`.
    prefect.finish("r1", "COMPLETED", "2026-11-22T11:00:00Z", "2099-01-01T00:00:00Z")
    first = statusgen("collect", "2026-11-22T12:00:00Z")
    prefect.finish("r2", "FAILED", "2026-11-22T12:40:00Z", "2026-11-22T12:50:00Z")
    statusgen("collect", "2026-11-22T13:00:00Z")
    prefect.finish("r3", "FAILED", "2026-11-22T13:40:00Z", "2026-11-22T13:50:00Z")
    last = statusgen("collect", "2026-11-22T14:00:00Z")
    statusgen("render", "2026-11-22T14:00:00Z")

    seen = outputs(tmp_path / "site")
    assert {k: seen[k] for k in FAILING} == FAILING
    assert seen["since"] == "2026-11-22T12:50:00Z"  # the first failed run, not a render time
    assert seen["last success"] == "2026-11-22T12:00:00Z"
    assert seen["bar label"] == "Nov 22: 1 h 10 min failing, 2 failed runs, partly no data"
    assert first.splitlines()[1].split()[:3] == ["etl", "operational", "0s"]
    assert last.splitlines()[1].split()[:3] == ["etl", "failing", "2h"]

    started, ended, message = stored_runs(tmp_path)["r1"]
    assert (started, ended) == (utc(2026, 11, 22, 11).replace(tzinfo=None), utc(2026, 11, 22, 12).replace(tzinfo=None))
    assert message == "reported ending 2099-01-01 00:00 UTC, later than the collection that saw it; counted as ending 2026-11-22 12:00 UTC"


def test_a_history_written_before_the_fix_is_read_with_the_same_bound(prefect, statusgen, tmp_path):
    """Older statusgen wrote future times as reported, once per collection that listed them."""
    history = History(tmp_path / "history")
    future = Run("etl", "r1", RunState.SUCCESS, utc(2026, 11, 22, 11), utc(2099, 1, 1))
    failed = Run("etl", "r2", RunState.FAILED, utc(2026, 11, 22, 12, 40), utc(2026, 11, 22, 12, 50))
    history.append("20261122T120000Z-old00001", utc(2026, 11, 22, 12), [future], [])
    history.append("20261122T130000Z-old00002", utc(2026, 11, 22, 13), [future, failed], [])
    assert {k: v[1] for k, v in stored_runs(tmp_path).items()} == {
        "r1": utc(2026, 11, 22, 12).replace(tzinfo=None),  # its first sighting, not its last
        "r2": utc(2026, 11, 22, 12, 50).replace(tzinfo=None),
    }

    prefect.finish("r1", "COMPLETED", "2026-11-22T11:00:00Z", "2099-01-01T00:00:00Z")
    prefect.finish("r2", "FAILED", "2026-11-22T12:40:00Z", "2026-11-22T12:50:00Z")
    statusgen("collect", "2026-11-22T14:00:00Z")
    statusgen("render", "2026-11-22T14:00:00Z")
    seen = outputs(tmp_path / "site")
    assert {k: seen[k] for k in FAILING} == FAILING
    assert (seen["since"], seen["last success"]) == ("2026-11-22T12:50:00Z", "2026-11-22T12:00:00Z")
    assert stored_runs(tmp_path)["r1"][1] == utc(2026, 11, 22, 12).replace(tzinfo=None)


@pytest.mark.parametrize("listed_first", ["COMPLETED", "FAILED"])
@pytest.mark.parametrize("one_collection", [True, False], ids=["seen together", "seen apart"])
def test_runs_ending_at_the_same_instant_give_one_verdict_everywhere(prefect, statusgen, tmp_path, listed_first, one_collection):
    """The worse state counts as the later run: a failure is never hidden by the order runs are listed in."""
    second = {"COMPLETED": "FAILED", "FAILED": "COMPLETED"}[listed_first]
    prefect.finish("a", listed_first, "2026-11-22T12:00:00Z", "2026-11-22T12:30:00Z")
    if not one_collection:
        statusgen("collect", "2026-11-22T12:45:00Z")
        prefect.runs.clear()  # so the tie is between history and what the next collection sees
    prefect.finish("b", second, "2026-11-22T12:10:00Z", "2026-11-22T12:30:00Z")
    statusgen("collect", "2026-11-22T13:00:00Z")
    statusgen("render", "2026-11-22T13:00:00Z")
    seen = outputs(tmp_path / "site")
    assert {k: seen[k] for k in FAILING} == FAILING
    assert seen["since"] == "2026-11-22T12:30:00Z"
    # Two days on, the tie lies before the timeline cache's cutoff: the render that writes
    # the cache and the one that starts from it agree with the first.
    statusgen("collect", "2026-11-24T13:00:00Z")
    for _ in range(2):
        statusgen("render", "2026-11-24T13:00:00Z")
        seen = outputs(tmp_path / "site")
        assert ({k: seen[k] for k in FAILING}, seen["since"]) == (FAILING, "2026-11-22T12:30:00Z")
    assert (tmp_path / "history/cache/timeline.parquet").exists()


def test_compacting_an_older_history_keeps_the_bound_of_the_first_sighting(tmp_path):
    history = History(tmp_path / "history")
    future = Run("etl", "r1", RunState.SUCCESS, utc(2099, 1, 1), utc(2099, 1, 1))
    history.append("20261122T120000Z-old00001", utc(2026, 11, 22, 12), [future], [])
    history.append("20261122T130000Z-old00002", utc(2026, 11, 22, 13), [future], [])
    assert history.compact(utc(2026, 11, 23, 1)).files_after == 1
    noon = utc(2026, 11, 22, 12).replace(tzinfo=None)
    assert stored_runs(tmp_path)["r1"][:2] == [noon, noon]


def test_an_older_history_of_single_sightings_is_read_with_the_bound(tmp_path):
    """Each run seen once, as most are: read as it is, but for the one time later than its collection."""
    history = History(tmp_path / "history")
    future = Run("etl", "r1", RunState.SUCCESS, utc(2026, 11, 22, 11), utc(2099, 1, 1))
    history.append("20261122T120000Z-old00001", utc(2026, 11, 22, 12), [future, Run("etl", "r2", RunState.FAILED, ended_at=utc(2026, 11, 22, 11))], [])
    snapshot = history.open()
    try:
        read = dict(snapshot.db.execute("SELECT run_id, ended_at FROM runs").fetchall())
    finally:
        snapshot.close()
    assert read == {"r1": datetime(2026, 11, 22, 12), "r2": datetime(2026, 11, 22, 11)}


def test_bounded_keeps_the_time_history_already_gave_a_run():
    seen = utc(2026, 11, 22, 14)
    run = Run("etl", "r1", RunState.SUCCESS, utc(2099, 1, 1), utc(2099, 1, 1, 1), message="Completed")
    again = bounded(run, seen, (utc(2026, 11, 22, 11), utc(2026, 11, 22, 12)))
    assert (again.started_at, again.ended_at) == (utc(2026, 11, 22, 11), utc(2026, 11, 22, 12))
    assert again.message == (
        "Completed; reported starting 2099-01-01 00:00 UTC, later than the collection that saw it; counted as starting 2026-11-22 11:00 UTC; "
        "reported ending 2099-01-01 01:00 UTC, later than the collection that saw it; counted as ending 2026-11-22 12:00 UTC"
    )
    assert bounded(run, seen).ended_at == seen
    on_time = Run("etl", "r2", RunState.FAILED, utc(2026, 11, 22, 13), seen)
    assert bounded(on_time, seen) is on_time


def test_a_load_time_in_the_future_is_a_last_success_at_the_collection_that_saw_it(write_config, tmp_path):
    """The same bound holds for what a collector reports as a load, not only for runs."""
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as db:
        db.execute("CREATE TABLE orders AS SELECT TIMESTAMP '2099-01-01' AS loaded_at")
    config = write_config(
        """
        connections:
          wh: {type: sql, database: wh.duckdb}
        sources:
          - {id: orders_raw, connection: wh, query: SELECT max(loaded_at) FROM orders, freshness: {warn_after: 2h, error_after: 6h}}
        components:
          - {id: orders, name: Orders, depends_on: [orders_raw]}
        """
    )
    runner = CliRunner()
    lines = []
    for now in ("2026-11-22T04:00:00Z", "2026-11-22T12:00:00Z"):
        result = runner.invoke(main, ["collect", "-c", str(config), "--now", now])
        assert result.exit_code == 0, result.output
        lines.append(result.output.splitlines()[1].split()[:3])
    # Read again at 12:00, the load still counts from 04:00: eight hours old, past error_after.
    assert lines == [["orders_raw", "operational", "0s"], ["orders_raw", "failing", "8h"]]
