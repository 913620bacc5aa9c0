"""The collection runner: concurrency, deadlines, and failures contained to their source."""

import threading
import time
from datetime import timedelta
from typing import ClassVar, Literal

import pytest
from pydantic import SecretStr

from statusgen import collectors
from statusgen.collect import collect_all
from statusgen.collectors import Collector
from statusgen.config import (
    Config,
    ConnectionConfig,
    HistoryConfig,
    SiteConfig,
    SourceConfig,
)
from statusgen.errors import CollectorError
from statusgen.records import Run, SourceReport
from statusgen.status import RunState
from tests.conftest import utc

NOW = utc(2026, 11, 22, 12)


class FakeConnection(ConnectionConfig):
    type: Literal["fake"]
    token: SecretStr = SecretStr("")


class FakeSource(SourceConfig):
    behaviour: str = "ok"
    url: str = ""  # for "late": what it asks once its batch has timed out


class FakeCollector(Collector):
    """Does what each source's `behaviour` says; records how many ran at once."""

    type: ClassVar[str] = "fake"
    Connection = FakeConnection
    Source = FakeSource
    in_flight = 0
    most_in_flight = 0
    lock = threading.Lock()

    def collect(self, sources, context):
        (source,) = sources
        counted = source.behaviour == "slow"
        with FakeCollector.lock:
            FakeCollector.in_flight += counted
            FakeCollector.most_in_flight = max(FakeCollector.most_in_flight, FakeCollector.in_flight)
        try:
            if source.behaviour == "crash":
                raise KeyError("boom")
            if source.behaviour == "refuse":
                raise CollectorError(f"authentication failed with token {self.connection.token.get_secret_value()}")
            if source.behaviour == "hang":
                time.sleep(5)
            if source.behaviour == "late":
                time.sleep(1.5)
                context.api(source.url).get("/after-the-timeout")
            if source.behaviour == "slow":
                time.sleep(0.2)
            if source.behaviour == "nothing":
                return []
            return [SourceReport(source.id, runs=[Run(source.id, "r1", RunState.SUCCESS, context.now, context.now)])]
        finally:
            with FakeCollector.lock:
                FakeCollector.in_flight -= counted


@pytest.fixture(autouse=True)
def fake_registry(monkeypatch):
    registry = dict(collectors.registry())
    registry["fake"] = FakeCollector
    monkeypatch.setattr("statusgen.collect.registry", lambda: registry)
    FakeCollector.most_in_flight = 0


def config(behaviours, timeout=timedelta(seconds=10), max_concurrency=4, token="s3cr3t-t0ken"):
    connection = FakeConnection(type="fake", timeout=timeout, max_concurrency=max_concurrency, token=token)
    sources = [FakeSource(id=f"s{i}", connection="fake", behaviour=b) for i, b in enumerate(behaviours)]
    return Config(file=None, site=SiteConfig(), history=HistoryConfig(), connections={"fake": connection}, sources=sources, components=[])


def test_one_crashing_or_silent_source_does_not_stop_the_others():
    found = collect_all(config(["ok", "crash", "nothing", "ok"]), NOW, {}).reports
    assert found["s0"].report.runs and found["s3"].report.runs
    assert found["s1"].report.error == "fake collector crashed: KeyError: 'boom'"
    assert found["s2"].report.error == "the collector returned nothing for this source"


def test_a_hung_source_times_out_and_the_run_finishes():
    started = time.monotonic()
    found = collect_all(config(["hang", "ok"], timeout=timedelta(seconds=1)), NOW, {}).reports
    assert time.monotonic() - started < 3
    assert found["s0"].report.error == "timed out after 1s"
    assert found["s1"].report.runs


def test_a_batch_past_its_timeout_asks_nothing_more(httpserver):
    # Its thread is abandoned, not stopped: were its clients not bounded by the batch's
    # deadline, it would go on asking for the life of the process.
    httpserver.expect_request("/after-the-timeout").respond_with_json({})
    settings = config(["late"], timeout=timedelta(seconds=1))
    settings.sources[0] = settings.sources[0].model_copy(update={"url": httpserver.url_for("/")})
    found = collect_all(settings, NOW, {}).reports
    assert found["s0"].report.error == "timed out after 1s"
    time.sleep(1.5)
    assert httpserver.log == []


def test_secrets_are_scrubbed_from_every_message():
    found = collect_all(config(["refuse"]), NOW, {}).reports
    assert found["s0"].report.error == "authentication failed with token ***"


def test_the_per_connection_limit_holds():
    collect_all(config(["slow"] * 8, max_concurrency=2), NOW, {}).reports
    assert FakeCollector.most_in_flight == 2


def test_every_report_says_how_long_it_took():
    found = collect_all(config(["slow"]), NOW, {}).reports
    assert found["s0"].latency_ms >= 200


def test_secrets_are_scrubbed_in_every_form_a_request_carries_them(write_config):
    import base64
    from urllib.parse import quote, quote_plus

    from statusgen.collect import scrubber
    from statusgen.config import load_config

    path = write_config("""
        connections:
          ft: {type: fivetran, api_key: "${KEY}", api_secret: "${SECRET}"}
          lk: {type: looker, url: "https://looker.example.com", client_id: the-client, client_secret: "${LK}"}
        """)
    secret, looker = "s3cret/+=&%? x", "lk secret&=/ä"
    scrub = scrubber(load_config(path, {"KEY": "the-key", "SECRET": secret, "LK": looker}))
    basic = base64.b64encode(f"the-key:{secret}".encode()).decode()
    for form in (secret, quote(secret, safe=""), quote_plus(secret), basic, basic.rstrip("="),
                 base64.urlsafe_b64encode(f"the-key:{secret}".encode()).decode(), base64.b64encode(secret.encode()).decode(),
                 quote_plus(looker), base64.b64encode(f"the-client:{looker}".encode()).decode()):
        assert scrub(f"you sent [{form}]") == "you sent [***]", form
    assert scrub("the-client alone is not a secret") == "the-client alone is not a secret"



def test_a_message_is_one_line_of_plain_text(write_config):
    # A line starting "::" in a CI log is a workflow command to GitHub Actions; escapes reach terminals.
    from statusgen.collect import scrubber
    from statusgen.config import load_config

    scrub = scrubber(load_config(write_config("connections: {}\n"), {}))
    assert scrub("failed\n::error title=x::planted\x1b[31m red\r") == "failed ::error title=x::planted [31m red "
