"""The looker collector against payloads shaped as Looker's API 4.0 documents them:
https://cloud.google.com/looker/docs/reference/looker-api/latest/methods/ApiAuth/login and
https://cloud.google.com/looker/docs/reference/looker-api/latest/methods/Datagroup/all_datagroups."""

from datetime import timedelta

from statusgen.collectors.looker import LookerCollector, LookerConnection, LookerSource
from statusgen.status import RunState
from tests.conftest import collected, context, utc

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
    ctx = context(collector, None, NOW)
    orders, revenue, ghost = collector.collect(sources, ctx)
    assert [(r.state, r.ended_at) for r in orders.runs] == [(RunState.SUCCESS, utc(2026, 11, 22, 11))]  # its last check
    assert orders.message == "last triggered 2026-11-22 08:00 UTC"
    assert [(r.state, r.ended_at) for r in revenue.runs] == [(RunState.FAILED, utc(2026, 11, 22, 11))]
    assert revenue.runs[-1].message == "SQL Error: relation revenue does not exist"
    assert ghost.error == "no datagroup x::y in Looker"
    assert ctx.api.requests_made == 2


def looker(httpserver, groups):
    httpserver.expect_request("/api/4.0/login", method="POST").respond_with_json({"access_token": "tok-123"})
    httpserver.expect_request("/api/4.0/datagroups").respond_with_json(groups)
    connection = LookerConnection(type="looker", url=httpserver.url_for("/").rstrip("/"), client_id="abc", client_secret="s3cret",
                                  timeout=timedelta(seconds=5))
    return LookerCollector("looker", connection)


def test_a_good_check_after_a_failed_one_is_green_again_as_on_lookers_page(httpserver):
    """`trigger_error` is "the error of the last trigger check": once a check succeeds it is empty."""
    failed = datagroup("2", "finance", "revenue_datagroup", 1795248000, 1795345200, error="SQL Error: timeout")  # checked 11:00
    source = [LookerSource(id="revenue", connection="looker", datagroup="finance::revenue_datagroup")]
    (first,) = collected(looker(httpserver, [failed]), source, None, NOW)
    httpserver.clear()
    recovered = datagroup("2", "finance", "revenue_datagroup", 1795248000, 1795345500)  # checked 11:05, no error
    (second,) = collected(looker(httpserver, [recovered]), source, None, NOW)
    latest = max(first.runs + second.runs, key=lambda r: r.ended_at)
    assert (latest.state, latest.ended_at) == (RunState.SUCCESS, utc(2026, 11, 22, 11, 5))


def test_a_trigger_is_not_new_data_and_a_datagroup_without_one_says_so(httpserver):
    """`triggered_at` is when the trigger fired: an `interval_trigger` fires on a clock, so it
    says nothing of new data; a datagroup with only `max_cache_age` is never checked nor triggered."""
    clock = datagroup("1", "ecommerce", "hourly", 1795341600, 1795345200)  # triggered 10:00, checked 11:00
    aged = datagroup("3", "ecommerce", "daily_cache", 0, 0) | {"trigger_value": None}
    sources = [LookerSource(id="hourly", connection="looker", datagroup="ecommerce::hourly"),
               LookerSource(id="aged", connection="looker", datagroup="ecommerce::daily_cache")]
    c = looker(httpserver, [clock, aged])
    ctx = context(c, None, NOW)
    hourly, only_age = c.collect(sources, ctx)
    assert [(r.state, r.ended_at) for r in hourly.runs] == [(RunState.SUCCESS, utc(2026, 11, 22, 11))]  # the check, not the trigger
    assert hourly.message == "last triggered 2026-11-22 10:00 UTC"
    assert only_age.runs == [] and only_age.message == "Looker checks no trigger for this datagroup (max_cache_age only)"
    assert ctx.api.requests_made == 2
