"""The prefect collector's Cloud settings and paging, against Prefect's documented API
(https://docs.prefect.io/v3/api-ref/rest-api/server/flow-runs/read-flow-runs); the server
itself is tested in test_prefect_real.py."""

import json
from datetime import timedelta

import pytest
from werkzeug import Response

from statusgen.collectors.prefect import (
    PrefectCollector,
    PrefectConnection,
    PrefectSource,
    ui_base,
)
from tests.conftest import context, utc

NOW = utc(2026, 11, 22, 12)


def test_cloud_links_point_at_the_app():
    connection = PrefectConnection(type="prefect", api_url="https://api.prefect.cloud/api/accounts/acc-1/workspaces/ws-2", api_key="pnu_x")
    assert ui_base(connection) == "https://app.prefect.cloud/account/acc-1/workspace/ws-2"


def test_api_key_is_a_bearer_token_and_runs_page_by_200(httpserver):
    httpserver.expect_request("/api/flows/filter", headers={"Authorization": "Bearer pnu_k3y"}).respond_with_json([{"id": "f1", "name": "etl"}])
    bodies = []

    def runs(request):
        body = json.loads(request.data)
        bodies.append((body["offset"], body["limit"], body["flow_runs"]))
        count = 200 if body["offset"] == 0 and "end_time" in body["flow_runs"] else 3 if "end_time" in body["flow_runs"] else 0
        page = [{"id": f"r{body['offset'] + i}", "flow_id": "f1", "deployment_id": None, "state_type": "COMPLETED",
                 "state_name": "Completed", "state": {"type": "COMPLETED", "name": "Completed", "message": None},
                 "start_time": "2026-11-22T10:00:00Z", "end_time": "2026-11-22T10:01:00Z"} for i in range(count)]
        return Response(json.dumps(page), content_type="application/json")

    httpserver.expect_request("/api/flow_runs/filter").respond_with_handler(runs)
    connection = PrefectConnection(type="prefect", api_url=httpserver.url_for("/api"), api_key="pnu_k3y", timeout=timedelta(seconds=5))
    collector = PrefectCollector("cloud", connection)
    (report,) = collector.collect([PrefectSource(id="etl", connection="cloud", flow="etl")], context(collector, None, NOW))
    assert len(report.runs) == 203
    assert [(o, limit) for o, limit, _ in bodies] == [(0, 200), (200, 200), (0, 200)]
    assert bodies[0][2]["end_time"] == {"after_": "2026-10-23T12:00:00+00:00"}
    assert bodies[2][2] == {"state": {"name": {"any_": ["Late"]}}}


def test_a_source_names_exactly_one_of_deployment_or_flow():
    with pytest.raises(ValueError, match="exactly one of deployment or flow"):
        PrefectSource(id="x", connection="p", deployment="a/b", flow="a")
