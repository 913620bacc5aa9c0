"""The github_actions collector against payloads shaped as GitHub documents them:
https://docs.github.com/en/rest/actions/workflow-runs#list-workflow-runs-for-a-workflow
(the example response's fields, conclusions from the same page's `conclusion` enum), and
https://docs.github.com/en/rest/repos/contents#get-repository-content for the workflow file."""

import base64
import time
from datetime import timedelta

import pytest

from statusgen.collectors.github_actions import (
    GithubActionsCollector,
    GithubActionsConnection,
    GithubActionsSource,
)
from statusgen.errors import CollectorError
from statusgen.records import Schedule
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


# A promise of its own in sources.yaml, so the workflow file is not read (see the schedule tests below).
SOURCE = [GithubActionsSource(id="nightly", connection="gh", workflow="nightly.yml", branch="main", freshness={"warn_after": "1d"})]


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


FILE = "/repos/acme/pipelines/contents/.github/workflows/nightly.yml"
SCHEDULED = [GithubActionsSource(id="nightly", connection="gh", workflow="nightly.yml")]


def workflow_file(text, path=".github/workflows/nightly.yml"):
    """GET /repos/{owner}/{repo}/contents/{path} for a file: its content base64-encoded, in lines."""
    return {
        "type": "file", "encoding": "base64", "size": len(text), "name": path.rsplit("/", 1)[-1], "path": path,
        "content": base64.encodebytes(text.encode()).decode(), "sha": "3d21ec53a331a6f037a91c368710b99387d012c1",
        "url": f"https://api.github.com/repos/acme/pipelines/contents/{path}",
        "git_url": "https://api.github.com/repos/acme/pipelines/git/blobs/3d21ec53a331a6f037a91c368710b99387d012c1",
        "html_url": f"https://github.com/acme/pipelines/blob/main/{path}",
        "download_url": f"https://raw.githubusercontent.com/acme/pipelines/main/{path}",
        "_links": {"self": f"https://api.github.com/repos/acme/pipelines/contents/{path}"},
    }


NIGHTLY = """name: Nightly load
on:
  schedule:
    - cron: '30 5 * * 1-5'
  workflow_dispatch:
jobs:
  load:
    runs-on: ubuntu-latest
    steps:
      - run: make load
"""
NO_RUNS = {"total_count": 0, "workflow_runs": []}


def test_the_workflow_files_one_cron_is_its_schedule_read_conditionally(httpserver, tmp_path):
    """`on.schedule` is a list of `cron:` entries, in UTC unless an entry names its `timezone`
    (https://docs.github.com/en/actions/reference/workflows-and-actions/events-that-trigger-workflows#schedule)."""
    httpserver.expect_request(PATH).respond_with_json(NO_RUNS)
    httpserver.expect_oneshot_request(FILE, headers={"Authorization": "Bearer ghp_s3cr3t"}).respond_with_json(
        workflow_file(NIGHTLY), headers={"ETag": '"3d21ec"'})
    httpserver.expect_oneshot_request(FILE, headers={"If-None-Match": '"3d21ec"'}).respond_with_data("", status=304)
    c = collector(httpserver)
    ctx = context(c, None, NOW, tmp_path)
    (first,) = c.collect(SCHEDULED, ctx)
    (second,) = collected(collector(httpserver), SCHEDULED, NOW, NOW + timedelta(minutes=30), tmp_path)
    assert first.schedule == second.schedule == Schedule("30 5 * * 1-5", "UTC")
    assert first.message == "no runs in the window read" and ctx.api.requests_made == 2
    assert [response.status_code for request, response in httpserver.log if request.path == FILE] == [200, 304]


def test_a_schedule_in_its_own_time_zone(httpserver):
    httpserver.expect_request(PATH).respond_with_json(NO_RUNS)
    text = NIGHTLY.replace("    - cron: '30 5 * * 1-5'\n", "    - cron: '30 5 * * 1-5'\n      timezone: Europe/Amsterdam\n")
    httpserver.expect_request(FILE).respond_with_json(workflow_file(text))
    (report,) = collected(collector(httpserver), SCHEDULED, None, NOW)
    assert report.schedule == Schedule("30 5 * * 1-5", "Europe/Amsterdam")


def test_several_crons_give_no_schedule_and_say_a_promise_is_needed(httpserver):
    httpserver.expect_request(PATH).respond_with_json(NO_RUNS)
    text = NIGHTLY.replace("    - cron: '30 5 * * 1-5'\n", "    - cron: '30 5 * * 1-5'\n    - cron: '0 12 * * *'\n")
    httpserver.expect_request(FILE).respond_with_json(workflow_file(text))
    (report,) = collected(collector(httpserver), SCHEDULED, None, NOW)
    assert report.schedule is None
    assert report.message == ("no runs in the window read; GitHub Actions starts it on 2 schedules (0 12 * * * UTC; 30 5 * * 1-5 UTC): "
                              "judged against its own schedule only with one schedule; give it a promise in sources.yaml")


def test_a_workflow_with_no_schedule_has_none(httpserver):
    httpserver.expect_request(PATH).respond_with_json(NO_RUNS)
    httpserver.expect_request(FILE).respond_with_json(workflow_file("on: [push, workflow_dispatch]\njobs: {}\n"))
    (report,) = collected(collector(httpserver), SCHEDULED, None, NOW)
    assert (report.schedule, report.message) == (None, "no runs in the window read")


def test_a_token_that_cannot_read_the_file_keeps_the_runs_and_says_which_permission(httpserver):
    """A fine-grained token without `contents: read` gets 403 "Resource not accessible by
    personal access token"; a private repository's file can answer 404 instead."""
    body = {"total_count": 1, "workflow_runs": [workflow_run(1, "completed", "success", "2026-11-22T02:10:00Z")]}
    httpserver.expect_request(PATH).respond_with_json(body)
    httpserver.expect_request(FILE).respond_with_json({"message": "Resource not accessible by personal access token"}, status=403)
    (report,) = collected(collector(httpserver), SCHEDULED, None, NOW)
    assert [r.run_id for r in report.runs] == ["1"] and report.schedule is None and report.error is None
    assert report.message == ("schedule not read: authentication failed for connection gh (HTTP 403) "
                              "(reading .github/workflows/nightly.yml needs the token's contents: read)")


def test_a_workflow_named_by_id_is_read_from_the_file_its_runs_name(httpserver):
    by_id = [GithubActionsSource(id="nightly", connection="gh", workflow="159038")]
    runs = [workflow_run(1, "completed", "success", "2026-11-22T02:10:00Z") | {"path": ".github/workflows/nightly.yml@main"}]
    httpserver.expect_request("/repos/acme/pipelines/actions/workflows/159038/runs").respond_with_json({"total_count": 1, "workflow_runs": runs})
    httpserver.expect_request(FILE).respond_with_json(workflow_file(NIGHTLY))
    (report,) = collected(collector(httpserver), by_id, None, NOW)
    assert report.schedule == Schedule("30 5 * * 1-5", "UTC")


def test_a_promise_in_sources_yaml_spares_the_request(httpserver):
    httpserver.expect_request(PATH).respond_with_json(NO_RUNS)
    c = collector(httpserver)
    ctx = context(c, None, NOW)
    (report,) = c.collect(SOURCE, ctx)
    assert report.schedule is None and ctx.api.requests_made == 1
