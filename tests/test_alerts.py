"""Alerts: one announcement per change, through apprise to a local receiver, and a GitHub
issue per outage against a fake shaped as GitHub documents it
(https://docs.github.com/en/rest/issues/issues#create-an-issue, #update-an-issue,
https://docs.github.com/en/rest/issues/comments#create-an-issue-comment)."""

import json

import pytest

from statusgen.alerts import notify
from statusgen.config import (
    AlertsConfig,
    Config,
    GithubIssuesConfig,
    HistoryConfig,
    SiteConfig,
)
from statusgen.records import Run
from statusgen.site import ComponentView, GroupView, SiteModel, SourceView
from statusgen.status import Freshness, RunState, Status
from tests.conftest import utc

NOW = utc(2026, 11, 22, 12)


def model(**statuses):
    config = Config(file=None, site=SiteConfig(url="https://status.example.com"), history=HistoryConfig(), connections={},
                    sources=[], components=[])
    components = []
    for cid, status in statuses.items():
        source = SourceView(f"{cid}_src", f"{cid} loader", "wh", "sql", status, None, None, None, Freshness(),
                            "query failed" if status == Status.FAILING else None,
                            [Run(f"{cid}_src", "1", RunState.FAILED, url="https://airflow.example.com/dags/x/runs/1")] if status == Status.FAILING else [], [], None)
        components.append(ComponentView(cid, cid.title(), "Sales", "", "", None, status, utc(2026, 11, 22, 11, 30), None, [], [source]))
    return SiteModel(config, NOW, NOW, [GroupView("Sales", components)], [s for c in components for s in c.sources], {})


class Outbox:
    def __init__(self, fail=0):
        self.sent = []
        self.fail = fail

    def __call__(self, urls, title, body):
        self.sent.append((title, body))
        return self.fail


@pytest.fixture
def config():
    return AlertsConfig(urls=["json://127.0.0.1:9/"])


def test_each_change_is_announced_once_and_the_first_run_only_records(config, tmp_path):
    outbox = Outbox()
    assert notify(config, model(orders=Status.OPERATIONAL), tmp_path, outbox)[0] == []
    transitions, _ = notify(config, model(orders=Status.FAILING), tmp_path, outbox)
    assert [t.title() for t in transitions] == ["Orders: operational → failing"]
    notify(config, model(orders=Status.FAILING), tmp_path, outbox)  # a repeated or retried run
    notify(config, model(orders=Status.UNKNOWN), tmp_path, outbox)  # an API hiccup: not announced
    notify(config, model(orders=Status.OPERATIONAL), tmp_path, outbox)
    assert [title for title, _ in outbox.sent] == ["Orders: operational → failing", "Orders: failing → operational"]
    body = outbox.sent[0][1]
    assert "Orders (Sales) is failing, was operational, since 2026-11-22 11:30 UTC." in body
    assert "- orders loader: failing (query failed)" in body
    assert "Failing run: https://airflow.example.com/dags/x/runs/1" in body
    assert "Status page: https://status.example.com/components/orders.html" in body
    assert json.loads((tmp_path / "alerts/state.json").read_text())["announced"]["orders"]["status"] == "operational"


def test_a_failing_notifier_is_a_warning(config, tmp_path):
    notify(config, model(orders=Status.OPERATIONAL), tmp_path, Outbox())
    _, warnings = notify(config, model(orders=Status.DEGRADED), tmp_path, Outbox(fail=1))
    assert warnings == ["alert for orders could not be delivered to 1 of 1 targets"]


def test_apprise_delivers_to_a_json_receiver(tmp_path, httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    config = AlertsConfig(urls=[f"json://127.0.0.1:{httpserver.port}/hook"])
    notify(config, model(orders=Status.OPERATIONAL), tmp_path)
    notify(config, model(orders=Status.FAILING), tmp_path)
    (request, _), = httpserver.log
    payload = json.loads(request.data)
    assert payload["title"] == "Orders: operational → failing"
    assert "is failing, was operational" in payload["message"]


def test_an_unreachable_receiver_does_not_raise(tmp_path):
    from tests.servers import free_port

    config = AlertsConfig(urls=[f"json://127.0.0.1:{free_port()}/hook"])
    notify(config, model(orders=Status.OPERATIONAL), tmp_path)
    _, warnings = notify(config, model(orders=Status.FAILING), tmp_path)
    assert warnings == ["alert for orders could not be delivered to 1 of 1 targets"]


def test_one_github_issue_per_outage(tmp_path, httpserver):
    httpserver.expect_ordered_request("/repos/acme/data/issues", method="POST").respond_with_json(
        {"id": 1, "number": 7, "state": "open", "title": "Orders is failing"}, status=201)
    httpserver.expect_ordered_request("/repos/acme/data/issues/7/comments", method="POST").respond_with_json({"id": 11}, status=201)
    httpserver.expect_ordered_request("/repos/acme/data/issues/7/comments", method="POST").respond_with_json({"id": 12}, status=201)
    httpserver.expect_ordered_request("/repos/acme/data/issues/7", method="PATCH").respond_with_json({"number": 7, "state": "closed"})
    issues = GithubIssuesConfig(repository="acme/data", token="ghs_t0ken", api_url=httpserver.url_for("/").rstrip("/"))
    config = AlertsConfig(github_issues=issues)
    for status in (Status.OPERATIONAL, Status.FAILING, Status.DEGRADED, Status.OPERATIONAL):
        _, warnings = notify(config, model(orders=status), tmp_path)
        assert warnings == []
    httpserver.check_assertions()
    opened = json.loads(httpserver.log[0][0].data)
    assert opened["title"] == "Orders is failing" and opened["labels"] == ["data-status"]
    assert json.loads(httpserver.log[-1][0].data) == {"state": "closed", "state_reason": "completed"}
    assert httpserver.log[0][0].headers["Authorization"] == "Bearer ghs_t0ken"


def test_sources_can_be_announced_too(tmp_path):
    config = AlertsConfig(urls=["json://127.0.0.1:9/"], sources=True)
    outbox = Outbox()
    notify(config, model(orders=Status.OPERATIONAL), tmp_path, outbox)
    notify(config, model(orders=Status.FAILING), tmp_path, outbox)
    assert sorted(title for title, _ in outbox.sent) == ["Orders: operational → failing", "orders loader: operational → failing"]
    source_body = next(body for title, body in outbox.sent if title.startswith("orders loader"))
    assert source_body.startswith("orders loader (sql · wh) is failing, was operational")


def test_a_state_file_from_a_newer_statusgen_is_neither_read_nor_overwritten(config, tmp_path):
    state = tmp_path / "alerts/state.json"
    state.parent.mkdir()
    state.write_text('{"version": 2, "announced": {}, "more": "than this statusgen knows"}')
    outbox = Outbox()
    transitions, warnings = notify(config, model(orders=Status.FAILING), tmp_path, outbox)
    assert transitions == [] and outbox.sent == []
    assert warnings == [f"no alerts sent: {state}: expected alert state version 1, found 2; upgrade statusgen"]
    assert "than this statusgen knows" in state.read_text()
