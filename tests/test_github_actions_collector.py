"""The github_actions collector against payloads shaped as GitHub documents them:
https://docs.github.com/en/rest/actions/workflow-runs#list-workflow-runs-for-a-workflow
(the example response's fields, conclusions from the same page's `conclusion` enum)."""

import time
from datetime import timedelta

import pytest

from statusgen.collectors.github_actions import (
    GithubActionsCollector,
    GithubActionsConnection,
    GithubActionsSource,
)
from statusgen.errors import CollectorError
from statusgen.status import RunState
from tests.conftest import collected, context, utc

NOW = utc(2026, 11, 22, 12)
PATH = "/repos/acme/pipelines/actions/workflows/nightly.yml/runs"


def workflow_run(run_id, status, conclusion, updated, attempt=1):
    return {
        "id": run_id, "name": "Nightly load", "node_id": "WFR_kwLOBbl2Ks8AAAAB", "head_branch": "main",
        "head_sha": "acb5820ced9479c074f688cc328bf03f341a511d", "path": ".github/workflows/nightly.yml",
        "run_number": 562, "event": "schedule", "status": status, "conclusion": conclusion, "workflow_id": 159038,
        "url": f"https://api.github.com/repos/acme/pipelines/actions/runs/{run_id}",
        "html_url": f"https://github.com/acme/pipelines/actions/runs/{run_id}",
        "created_at": "2026-11-22T02:00:05Z", "updated_at": updated, "run_attempt": attempt,
        "run_started_at": "2026-11-22T02:00:10Z",
    }


def collector(server, **settings):
    connection = GithubActionsConnection(type="github_actions", repository="acme/pipelines", api_url=server.url_for("/"),
                                         token="ghp_s3cr3t", timeout=timedelta(seconds=5), **settings)
    return GithubActionsCollector("gh", connection)


SOURCE = [GithubActionsSource(id="nightly", connection="gh", workflow="nightly.yml", branch="main")]


def test_conclusions_map_onto_run_states(httpserver):
    runs = [
        workflow_run(1, "completed", "success", "2026-11-22T02:10:00Z"),
        workflow_run(2, "completed", "failure", "2026-11-22T03:10:00Z", attempt=2),
        workflow_run(3, "completed", "timed_out", "2026-11-22T04:10:00Z"),
        workflow_run(4, "completed", "cancelled", "2026-11-22T05:10:00Z"),
        workflow_run(5, "completed", "action_required", "2026-11-22T06:10:00Z"),
        workflow_run(6, "completed", "skipped", "2026-11-22T07:10:00Z"),
        workflow_run(7, "in_progress", None, "2026-11-22T11:59:00Z"),
        workflow_run(8, "completed", "startup_failure", "2026-11-22T08:10:00Z"),
    ]
    httpserver.expect_request(PATH, headers={"Authorization": "Bearer ghp_s3cr3t", "X-GitHub-Api-Version": "2022-11-28"}).respond_with_json(
        {"total_count": len(runs), "workflow_runs": runs}
    )
    (report,) = collected(collector(httpserver), SOURCE, None, NOW)
    assert [(r.run_id, r.state) for r in report.runs] == [
        ("1", RunState.SUCCESS), ("2", RunState.FAILED), ("3", RunState.FAILED), ("4", RunState.CANCELLED),
        ("5", RunState.WARNING), ("7", RunState.RUNNING), ("8", RunState.FAILED),
    ]
    first = report.runs[0]
    assert first.url == "https://github.com/acme/pipelines/actions/runs/1"
    assert (first.started_at, first.ended_at) == (utc(2026, 11, 22, 2, 0, 10), utc(2026, 11, 22, 2, 10))
    assert report.runs[1].message == "attempt 2"
    assert report.runs[5].ended_at is None
    args = httpserver.log[0][0].args
    assert (args["branch"], args["per_page"], "created" in args) == ("main", "100", False)  # see the conditional-request test


def test_unchanged_answers_come_back_as_304_from_the_cache(httpserver, tmp_path):
    body = {"total_count": 1, "workflow_runs": [workflow_run(1, "completed", "success", "2026-11-22T02:10:00Z")]}
    since = utc(2026, 11, 22, 11)
    httpserver.expect_ordered_request(PATH).respond_with_json(body, headers={"ETag": 'W/"abc"'})
    httpserver.expect_ordered_request(PATH, headers={"If-None-Match": 'W/"abc"'}).respond_with_data("", status=304)
    (first,) = collected(collector(httpserver), SOURCE, since, NOW, tmp_path)
    (second,) = collected(collector(httpserver), SOURCE, since, NOW, tmp_path)  # a later collection, a new process
    assert first.runs == second.runs and second.runs[0].run_id == "1"
    httpserver.check_assertions()


def test_an_exhausted_rate_limit_waits_for_reset_or_says_when(httpserver):
    reset = str(int(time.time()) + 3600)
    httpserver.expect_request(PATH).respond_with_json(
        {"message": "API rate limit exceeded"}, status=403, headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}
    )
    with pytest.raises(CollectorError, match=r"gh: rate limited until \d\d:\d\d:\d\d UTC"):
        collected(collector(httpserver), SOURCE, None, NOW)


def test_pages_until_the_total(httpserver):
    page1 = [workflow_run(i, "completed", "success", "2026-11-22T02:10:00Z") for i in range(100)]
    page2 = [workflow_run(100, "completed", "failure", "2026-11-22T03:10:00Z")]
    httpserver.expect_request(PATH, query_string={"per_page": "100", "branch": "main", "page": "1"}).respond_with_json(
        {"total_count": 101, "workflow_runs": page1})
    httpserver.expect_request(PATH, query_string={"per_page": "100", "branch": "main", "page": "2"}).respond_with_json(
        {"total_count": 101, "workflow_runs": page2})
    c = collector(httpserver)
    ctx = context(c, None, NOW)
    (report,) = c.collect(SOURCE, ctx)
    assert len(report.runs) == 101 and ctx.api.requests_made == 2


def test_a_missing_workflow(httpserver):
    httpserver.expect_request(PATH).respond_with_json({"message": "Not Found"}, status=404)
    with pytest.raises(CollectorError, match=r"not found: http://localhost:\d+/repos/acme/pipelines/actions/workflows/nightly.yml/runs: Not Found$"):
        collected(collector(httpserver), SOURCE, None, NOW)


def test_later_collections_ask_conditionally_whatever_their_window(httpserver, tmp_path):
    """An ETag answers one URL: a window start in the query would change it every collection."""
    body = {"total_count": 1, "workflow_runs": [workflow_run(1, "completed", "success", "2026-11-22T02:10:00Z")]}
    httpserver.expect_ordered_request(PATH).respond_with_json(body, headers={"ETag": 'W/"abc"'})
    httpserver.expect_ordered_request(PATH, headers={"If-None-Match": 'W/"abc"'}).respond_with_data("", status=304)
    (first,) = collected(collector(httpserver), SOURCE, utc(2026, 11, 22, 11), NOW, tmp_path)
    (second,) = collected(collector(httpserver), SOURCE, utc(2026, 11, 22, 11, 10), NOW + timedelta(minutes=10), tmp_path)
    assert first.runs == second.runs
    httpserver.check_assertions()


def test_a_secondary_rate_limit_waits_as_asked_not_taken_for_bad_credentials(httpserver):
    """GitHub's secondary rate limit: 403 or 429 with `retry-after`, quota left
    (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit)."""
    limited = {"retry-after": "3600", "x-ratelimit-remaining": "4990"}
    httpserver.expect_request(PATH).respond_with_json({"message": "You have exceeded a secondary rate limit."}, status=403, headers=limited)
    with pytest.raises(CollectorError, match=r"gh: rate limited until \d\d:\d\d:\d\d UTC; asked to retry after 3600s"):
        collected(collector(httpserver), SOURCE, None, NOW)
    httpserver.clear()
    httpserver.expect_ordered_request(PATH).respond_with_json({"message": "secondary rate limit"}, status=429,
                                                              headers={**limited, "retry-after": "0"})
    httpserver.expect_ordered_request(PATH).respond_with_json({"total_count": 0, "workflow_runs": []})
    c = collector(httpserver)
    ctx = context(c, None, NOW)
    c.collect(SOURCE, ctx)
    assert ctx.api.requests_made == 2


def test_a_run_lasting_days_is_followed_until_it_ends(httpserver, tmp_path):
    """GET /repos/{owner}/{repo}/actions/runs/{run_id}
    (https://docs.github.com/en/rest/actions/workflow-runs#get-a-workflow-run)."""
    long = workflow_run(7, "in_progress", None, "2026-11-22T02:10:00Z")
    httpserver.expect_ordered_request(PATH).respond_with_json({"total_count": 1, "workflow_runs": [long]})
    (first,) = collected(collector(httpserver), SOURCE, utc(2026, 11, 22, 11), NOW, tmp_path)
    assert [(r.run_id, r.state) for r in first.runs] == [("7", RunState.RUNNING)]
    # Three days and many runs later it finishes, created long before the window read.
    later = NOW + timedelta(days=3)
    newer = [workflow_run(100 + i, "completed", "success", "2026-11-25T02:10:00Z") | {"created_at": "2026-11-25T02:00:05Z"}
             for i in range(3)]
    httpserver.expect_ordered_request(PATH).respond_with_json({"total_count": 3, "workflow_runs": newer})
    httpserver.expect_ordered_request("/repos/acme/pipelines/actions/runs/7").respond_with_json(
        workflow_run(7, "completed", "failure", "2026-11-25T01:00:00Z"))
    c = collector(httpserver)
    (second,) = c.collect(SOURCE, context(c, later - timedelta(minutes=10), later, tmp_path))
    assert ("7", RunState.FAILED) in [(r.run_id, r.state) for r in second.runs]
    httpserver.check_assertions()
    # Once it has ended it is not asked for again.
    httpserver.expect_ordered_request(PATH).respond_with_json({"total_count": 3, "workflow_runs": newer})
    c = collector(httpserver)
    ctx = context(c, later, later + timedelta(minutes=10), tmp_path)
    c.collect(SOURCE, ctx)
    assert ctx.api.requests_made == 1
