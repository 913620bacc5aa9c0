"""The looker collector against payloads shaped as Looker's API 4.0 documents them:
https://cloud.google.com/looker/docs/reference/looker-api/latest/methods/ApiAuth/login and
https://cloud.google.com/looker/docs/reference/looker-api/latest/methods/Datagroup/all_datagroups."""

from datetime import timedelta

from statusgen.collectors.looker import LookerCollector, LookerConnection, LookerSource
from statusgen.status import RunState
from tests.conftest import utc

NOW = utc(2026, 11, 22, 12)


def datagroup(id_, model, name, triggered, checked, error=None):
    return {"can": {}, "created_at": 1763700000, "id": id_, "model_name": model, "name": name,
            "stale_before": 0, "trigger_check_at": checked, "trigger_error": error, "trigger_value": "2026-11-22",
            "triggered_at": triggered}


def test_datagroups_triggers_and_trigger_errors(httpserver):
    httpserver.expect_request("/api/4.0/login", method="POST", data="client_id=abc&client_secret=s3cret").respond_with_json(
        {"access_token": "tok-123", "token_type": "Bearer", "expires_in": 3600})
    ok = datagroup("1", "ecommerce", "orders_datagroup", 1795334400, 1795345200)  # triggered 08:00, checked 11:00
    broken = datagroup("2", "finance", "revenue_datagroup", 1795248000, 1795345200, error="SQL Error: relation revenue does not exist")
    httpserver.expect_request("/api/4.0/datagroups", headers={"Authorization": "token tok-123"}).respond_with_json([ok, broken])
    connection = LookerConnection(type="looker", url=httpserver.url_for("/").rstrip("/"), client_id="abc", client_secret="s3cret",
                                  timeout=timedelta(seconds=5))
    sources = [LookerSource(id=n, connection="looker", datagroup=d) for n, d in
               (("orders", "ecommerce::orders_datagroup"), ("revenue", "finance::revenue_datagroup"), ("ghost", "x::y"))]
    collector = LookerCollector("looker", connection)
    orders, revenue, ghost = collector.collect(sources, None, NOW)
    assert [(r.state, r.ended_at) for r in orders.runs] == [(RunState.SUCCESS, utc(2026, 11, 22, 8))]
    assert [(r.state, r.ended_at) for r in revenue.runs] == [(RunState.SUCCESS, utc(2026, 11, 21, 8)), (RunState.FAILED, utc(2026, 11, 22, 11))]
    assert revenue.runs[-1].message == "SQL Error: relation revenue does not exist"
    assert ghost.error == "no datagroup x::y in Looker"
    assert collector.requests_made == 2
