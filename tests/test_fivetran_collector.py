"""The fivetran collector against payloads shaped as Fivetran documents them:
https://fivetran.com/docs/rest-api/api-reference/connections/connection-details and
https://fivetran.com/docs/rest-api/api-reference/groups/list-all-connections-in-group."""

from datetime import timedelta

import pytest

from statusgen.collectors.fivetran import (
    FivetranCollector,
    FivetranConnection,
    FivetranSource,
)
from statusgen.status import Freshness, RunState
from tests.conftest import collected, context, utc

NOW = utc(2026, 11, 22, 12)


def connection(id_, schema, succeeded, failed, paused=False, setup="connected", tasks=(), frequency=60):
    return {
        "id": id_, "group_id": "projected_sickle", "service": "salesforce", "service_version": 1, "schema": schema,
        "connected_by": "monitoring_assuring", "created_at": "2025-06-01T10:00:00.000000Z",
        "succeeded_at": succeeded, "failed_at": failed, "paused": paused, "pause_after_trial": False,
        "sync_frequency": frequency, "schedule_type": "auto",
        "status": {"setup_state": setup, "schema_status": "ready", "sync_state": "scheduled", "update_state": "on_schedule",
                   "is_historical_sync": False, "tasks": list(tasks), "warnings": []},
        "config": {},
    }


def collector(server):
    settings = FivetranConnection(type="fivetran", api_key="k3y", api_secret="s3cret", api_url=server.url_for("/").rstrip("/"),
                                  timeout=timedelta(seconds=5))
    return FivetranCollector("fivetran", settings)


def test_last_success_and_failure_become_runs_with_a_promise_from_the_sync_frequency(httpserver):
    body = connection("speak_inexpensive", "salesforce", "2026-11-22T10:00:00.000000Z", "2026-11-22T11:00:00.000000Z",
                      setup="broken", tasks=[{"code": "reconnect", "message": "Reconnect"}])
    httpserver.expect_request("/v1/connections/speak_inexpensive", headers={"Accept": "application/json;version=2"}).respond_with_json(
        {"code": "Success", "data": body})
    (report,) = collected(collector(httpserver), [FivetranSource(id="sf", connection="fivetran", connection_id="speak_inexpensive")], None, NOW)
    assert [(r.state, r.ended_at) for r in report.runs] == [(RunState.SUCCESS, utc(2026, 11, 22, 10)), (RunState.FAILED, utc(2026, 11, 22, 11))]
    assert report.runs[-1].message == "setup is broken: reconnect it in Fivetran; Reconnect"
    assert report.runs[0].url == "https://fivetran.com/dashboard/connections/speak_inexpensive/status"
    assert report.freshness == Freshness(timedelta(hours=2), timedelta(hours=4))
    assert httpserver.log[0][0].authorization.username == "k3y"


def test_connections_found_by_schema_in_a_group_with_cursor_paging(httpserver):
    page1 = [connection("a1", "salesforce", "2026-11-22T10:00:00Z", None)]
    page2 = [connection("b2", "hubspot", None, "2026-11-22T09:00:00Z"), connection("c3", "stripe", None, None, paused=True)]
    httpserver.expect_ordered_request("/v1/groups/projected_sickle/connections", query_string={"limit": "1000"}).respond_with_json(
        {"code": "Success", "data": {"items": page1, "next_cursor": "eyJza2lwIjoxfQ"}})
    httpserver.expect_ordered_request("/v1/groups/projected_sickle/connections", query_string={"limit": "1000", "cursor": "eyJza2lwIjoxfQ"}).respond_with_json(
        {"code": "Success", "data": {"items": page2}})
    sources = [FivetranSource(id=s, connection="fivetran", group_id="projected_sickle", schema=s) for s in ("salesforce", "hubspot", "stripe", "zendesk")]
    c = collector(httpserver)
    ctx = context(c, None, NOW)
    reports = {r.source_id: r for r in c.collect(sources, ctx)}
    assert reports["salesforce"].runs[0].state is RunState.SUCCESS
    assert reports["hubspot"].runs[0].state is RunState.FAILED
    assert reports["stripe"].error == "Fivetran connection stripe is paused"
    assert reports["zendesk"].error == "no connection with schema 'zendesk' in group projected_sickle"
    assert ctx.api.requests_made == 2


def test_a_source_names_one_connection_one_way():
    with pytest.raises(ValueError, match="give connection_id, or group_id with schema"):
        FivetranSource(id="x", connection="fivetran", group_id="g")


def test_a_manually_scheduled_connection_makes_no_promise_of_its_own(httpserver):
    """`schedule_type: manual`: Fivetran syncs only when triggered (by an orchestrator, or
    the API) and ignores `sync_frequency`; only sources.yaml can say when data is due."""
    body = connection("speak_inexpensive", "salesforce", "2026-11-21T06:00:00.000000Z", None, frequency=360) | {"schedule_type": "manual"}
    httpserver.expect_request("/v1/connections/speak_inexpensive").respond_with_json({"code": "Success", "data": body})
    c = collector(httpserver)
    ctx = context(c, None, NOW)
    (report,) = c.collect([FivetranSource(id="sf", connection="fivetran", connection_id="speak_inexpensive")], ctx)
    assert report.freshness is None and [r.state for r in report.runs] == [RunState.SUCCESS]
    assert ctx.api.requests_made == 1
