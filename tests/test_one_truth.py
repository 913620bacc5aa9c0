"""The timeline is the one truth: the pill, status.json, the Statuspage JSON, badges and the
bars all say its value at the last collection, whatever verdict a collection stored."""

import json

import pytest

from statusgen import pipeline
from statusgen.config import load_config
from statusgen.history import History
from statusgen.records import Observation, Run
from statusgen.status import RunState, Status
from tests.conftest import utc


@pytest.fixture
def config(write_config, tmp_path):
    path = write_config("""
        connections:
          wh: {type: sql, database: wh.duckdb}
        sources:
          - {id: orders_raw, connection: wh, query: "SELECT 1"}
        components:
          - {id: orders, name: Orders, depends_on: [orders_raw]}
        """)
    return load_config(path, {})


def observation(at, error=None):
    return Observation("orders_raw", f"c{at:%H%M}", at, None, None, error, None, 5)


def outputs(site):
    status = json.loads((site / "status.json").read_text())
    summary = json.loads((site / "api/v2/summary.json").read_text())
    badge = (site / "badges/orders.svg").read_text()
    return {
        "component": status["components"][0]["status"],
        "source": status["sources"][0]["status"],
        "summary.json": summary["components"][0]["status"],
        "badge": "failing" if ">failing<" in badge else "not failing",
    }


def test_a_stored_verdict_that_disagrees_with_the_runs_is_not_shown(config, tmp_path):
    # As histories written before run times were bounded at ingest hold: the collection
    # stored "operational" while the runs it had say the latest one failed.
    history = History(tmp_path / "history")
    runs = [Run("orders_raw", "a", RunState.SUCCESS, ended_at=utc(2026, 11, 22, 9)),
            Run("orders_raw", "b", RunState.FAILED, ended_at=utc(2026, 11, 22, 10))]
    history.append("c1", utc(2026, 11, 22, 11), runs, [observation(utc(2026, 11, 22, 11))])
    site = pipeline.render(config, history, tmp_path / "site", utc(2026, 11, 22, 11, 5))
    assert site.status is Status.FAILING
    assert outputs(tmp_path / "site") == {"component": "failing", "source": "failing", "summary.json": "major_outage",
                                          "badge": "failing"}
    (component,) = site.model.components
    assert component.since == utc(2026, 11, 22, 10) and component.bar[-1].worst is Status.FAILING


def test_a_source_unreachable_at_the_last_collection_is_unknown_from_then_on(config, tmp_path):
    history = History(tmp_path / "history")
    history.append("c1", utc(2026, 11, 22, 10), [Run("orders_raw", "a", RunState.SUCCESS, ended_at=utc(2026, 11, 22, 9))],
                   [observation(utc(2026, 11, 22, 10))])
    history.append("c2", utc(2026, 11, 22, 11), [], [observation(utc(2026, 11, 22, 11), error="HTTP 503")])
    site = pipeline.render(config, history, tmp_path / "site", utc(2026, 11, 22, 11))
    (component,) = site.model.components
    assert (component.status, component.since) == (Status.UNKNOWN, utc(2026, 11, 22, 11))
    assert component.sources[0].note == "HTTP 503"
    # The bar counts no time for that instant: the hour before it was operational.
    assert component.bar[-1].seconds.get(Status.UNKNOWN, 0) == 0
    assert [c.new for c in site.model.changes] == [Status.UNKNOWN]


def test_events_at_the_moment_of_the_last_collection_give_one_status(config, tmp_path):
    # Back after an outage with a run that ended as it was seen: both events sit at the last
    # collection; the status is what holds after both, every time.
    history = History(tmp_path / "history")
    history.append("c1", utc(2026, 11, 22, 10), [], [observation(utc(2026, 11, 22, 10), error="HTTP 503")])
    history.append("c2", utc(2026, 11, 22, 11), [Run("orders_raw", "b", RunState.FAILED, ended_at=utc(2026, 11, 22, 11))],
                   [observation(utc(2026, 11, 22, 11))])
    seen = {pipeline.render(config, history, tmp_path / f"site{n}", utc(2026, 11, 22, 11)).model.components[0].status for n in range(5)}
    assert seen == {Status.FAILING}


def test_a_failed_collection_does_not_erase_the_promise_the_system_declared(config, tmp_path):
    # dbt declares its sources' freshness; a collection that fails declares nothing.
    history = History(tmp_path / "history")
    declared = Observation("orders_raw", "c1", utc(2026, 11, 22, 9), None, None, None, None, 5, warn_after_s=3600, error_after_s=7200)
    history.append("c1", utc(2026, 11, 22, 9), [Run("orders_raw", "a", RunState.SUCCESS, ended_at=utc(2026, 11, 22, 8))], [declared])
    history.append("c2", utc(2026, 11, 22, 11), [], [observation(utc(2026, 11, 22, 11), error="target folder missing")])
    site = pipeline.render(config, history, tmp_path / "site", utc(2026, 11, 22, 11))
    (component,) = site.model.components
    assert component.sources[0].freshness.error_after.total_seconds() == 7200
    assert component.bar[-1].seconds.get(Status.FAILING) == 3600  # 10:00 to 11:00, past error_after
