"""The dagster collector's error handling: GraphQL answers errors with HTTP 200, shaped as
https://docs.dagster.io/api/graphql documents them (PythonError, `errors`); the server
itself is tested in test_dagster_real.py."""

import json
from datetime import timedelta

import pytest

from statusgen.collectors.dagster import (
    DagsterCollector,
    DagsterConnection,
    DagsterSource,
)
from statusgen.errors import CollectorError
from tests.conftest import collected, utc

NOW = utc(2026, 11, 22, 12)


def collector(server, **settings):
    return DagsterCollector("plus", DagsterConnection(type="dagster", url=server.url_for("/prod"), timeout=timedelta(seconds=5), **settings))


def test_errors_inside_a_200_answer_are_read_by_typename(httpserver):
    httpserver.expect_request("/prod/graphql", headers={"Dagster-Cloud-Api-Token": "user:t0k"}).respond_with_json(
        {"data": {"s0": {"__typename": "PythonError", "message": "dagster._core.errors.DagsterUserCodeUnreachableError"}}}
    )
    (report,) = collected(collector(httpserver, token="user:t0k"), [DagsterSource(id="j", connection="plus", job="etl")], None, NOW)
    assert report.error == "Dagster: dagster._core.errors.DagsterUserCodeUnreachableError"
    body = json.loads(httpserver.log[0][0].data)
    assert body["variables"]["v0"] == "etl"  # names travel as variables, never spliced into the query


def test_a_graphql_error_fails_the_connection(httpserver):
    httpserver.expect_request("/prod/graphql").respond_with_json({"errors": [{"message": "Cannot query field 'x'"}]})
    with pytest.raises(CollectorError, match="plus: GraphQL error: Cannot query field 'x'"):
        collected(collector(httpserver), [DagsterSource(id="a", connection="plus", asset="raw/orders")], None, NOW)


def test_dagster_plus_freshness_verdicts_become_runs(httpserver):
    asset = {"__typename": "Asset", "hasDefinitionOrRecord": True,
             "assetMaterializations": [{"timestamp": "1795330800000", "runId": "r-1"}],
             "assetHealth": {"freshnessStatus": "DEGRADED"}, "freshnessStatusChangedTimestamp": 1795341600000.5}
    httpserver.expect_request("/prod/graphql").respond_with_json({"data": {"s0": asset, "failed": {"__typename": "Runs", "results": []}}})
    (report,) = collected(collector(httpserver), [DagsterSource(id="a", connection="plus", asset="raw/orders")], None, NOW)
    assert [(r.run_id, r.state.value) for r in report.runs] == [("r-1", "success"), ("freshness@2026-11-22T10:00:00+00:00", "failed")]


def test_a_successful_latest_run_is_the_materialization_it_made_not_a_run_of_its_own(httpserver):
    """`assetsLatestInfo` names the asset's latest run whatever the window: once its
    materialization (the same run id) is older than the window read, a successful latest run
    must not come back as a second run, with other times, under that run id."""
    asset = {"__typename": "Asset", "hasDefinitionOrRecord": True, "assetMaterializations": []}
    latest = [{"assetKey": {"path": ["raw", "orders"]},
               "latestRun": {"runId": "r-1", "status": "SUCCESS", "startTime": 1795330790.5, "endTime": 1795330801.5}}]
    httpserver.expect_request("/prod/graphql").respond_with_json(
        {"data": {"s0": asset, "failed": {"__typename": "Runs", "results": []}, "latest": latest}})
    (report,) = collected(collector(httpserver), [DagsterSource(id="a", connection="plus", asset="raw/orders")], NOW - timedelta(hours=1), NOW)
    assert report.runs == []
