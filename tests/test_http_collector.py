"""The http collector against a local JSON endpoint."""

from datetime import timedelta

import pytest

from statusgen.collectors.http import HttpCollector, HttpConnection, HttpSource
from statusgen.errors import CollectorError
from statusgen.status import RunState
from tests.conftest import collected, utc

NOW = utc(2026, 11, 22, 12)


def collect(server, headers=None, **source):
    connection = HttpConnection(type="http", url=server.url_for("/"), headers=headers or {}, timeout=timedelta(seconds=5))
    (report,) = collected(HttpCollector("heartbeats", connection), [HttpSource(id="fn", connection="heartbeats", **source)], None, NOW)
    return report


def test_timestamp_and_state_at_json_paths(httpserver):
    httpserver.expect_request("/status/export", headers={"X-Api-Key": "k3y"}).respond_with_json(
        {"jobs": [{"last": {"finished_at": "2026-11-22T11:30:00Z", "result": "FAILED"}}]}
    )
    report = collect(httpserver, headers={"X-Api-Key": "k3y"}, path="status/export",
                     timestamp="jobs[0].last.finished_at", state="jobs[0].last.result")
    (run,) = report.runs
    assert (run.state, run.ended_at) == (RunState.FAILED, utc(2026, 11, 22, 11, 30))


def test_epoch_milliseconds_and_custom_states(httpserver):
    httpserver.expect_request("/hb").respond_with_json({"ts": 1795334400000, "s": "GREEN"})
    report = collect(httpserver, path="hb", timestamp="ts", state="s", states={"green": "success"})
    assert report.runs[0].state is RunState.SUCCESS
    assert report.runs[0].ended_at == utc(2026, 11, 22, 8)


def test_an_answering_endpoint_without_paths_is_a_heartbeat_seen_now(httpserver):
    httpserver.expect_request("/ping").respond_with_json({"ok": True})
    (run,) = collect(httpserver, path="ping").runs
    assert (run.state, run.ended_at) == (RunState.SUCCESS, NOW)


@pytest.mark.parametrize(
    ("body", "source", "message"),
    [
        ({"a": 1}, {"timestamp": "b.c"}, "nothing at b.c in the answer"),
        ({"t": "last tuesday"}, {"timestamp": "t"}, "t is not a time: 'last tuesday'"),
        ({"s": "weird"}, {"state": "s"}, "unexpected state 'weird' at s; map it under `states`"),
    ],
)
def test_answers_that_do_not_fit_are_clear_errors(httpserver, body, source, message):
    httpserver.expect_request("/x").respond_with_json(body)
    with pytest.raises(CollectorError, match=message):
        collect(httpserver, path="x", **source)


def test_an_error_status_is_an_error(httpserver):
    httpserver.expect_request("/x").respond_with_data("nope", status=404)
    with pytest.raises(CollectorError, match="not found: http://localhost:\\d+/x"):
        collect(httpserver, path="x")
