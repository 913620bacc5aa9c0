"""A third-party collector needs statusgen.sdk and nothing else."""

from datetime import timedelta
from importlib.metadata import EntryPoint

import pytest
from click.testing import CliRunner

import statusgen.collectors as collectors
import statusgen.sdk as sdk
from statusgen import pipeline
from statusgen.cli import main
from statusgen.config import load_config
from statusgen.history import History
from statusgen.sdk import (
    CollectContext,
    Collector,
    Run,
    RunState,
    SourceConfig,
    SourceReport,
    WindowedConnection,
    collect_context,
)
from tests.conftest import utc


class Heartbeat(Collector):
    """Reports each beat its server lists since the window's start."""

    type = "heartbeat"

    class Connection(WindowedConnection):
        url: str

    class Source(SourceConfig):
        beat: str

    def collect(self, sources, context: CollectContext):
        client = context.api(self.connection.url)
        beats = client.get("/beats", {"after": context.read_from.isoformat()})
        return [SourceReport(s.id, runs=[Run(s.id, at, RunState.SUCCESS, ended_at=utc(*map(int, at.split("-")))) for at in beats[s.beat]])
                for s in sources]


class OldHeartbeat(Collector):
    """Written for the protocol before the context: collect(sources, since, now)."""

    type = "old_heartbeat"

    def collect(self, sources, since, now):
        return []


class OldDiscovery(Heartbeat):
    """Collects as it should, but discovers as before the context: discover(declared)."""

    def discover(self, declared):
        return sdk.Discovery()


def test_everything_the_sdk_names_is_there():
    assert [name for name in sdk.__all__ if not hasattr(sdk, name)] == []
    assert {"CollectContext", "Context", "WindowedConnection", "collect_context", "discover_context"} <= set(sdk.__all__)


def test_a_collector_written_against_the_sdk_alone_runs(write_config, tmp_path, monkeypatch, httpserver):
    for after in ("2026-10-23T12:00:00+00:00", "2026-11-22T10:55:00+00:00"):  # 30 days back, then the last collection less 65m
        httpserver.expect_request("/beats", query_string={"after": after}).respond_with_json({"tick": ["2026-11-22-11"]})
    monkeypatch.setitem(collectors.registry(), "heartbeat", Heartbeat)  # as an entry point would add it
    path = write_config(f"""
        connections: {{hb: {{type: heartbeat, url: "{httpserver.url_for('/')}", overlap: 65m}}}}
        sources: [{{id: beat, connection: hb, beat: tick}}]
        components: [{{id: beat, name: Beat, depends_on: [beat]}}]
        """)
    config = load_config(path, {})
    history = History(tmp_path / "history")
    for hour in (12, 13):
        summary = pipeline.collect(config, history, utc(2026, 11, 22, hour))
        assert [(line.source_id, line.status.value, line.runs) for line in summary.lines] == [("beat", "operational", 1)]
        assert summary.requests == {"hb": 1}
    assert len(httpserver.log) == 2


def test_the_sdk_builds_the_runners_context_for_a_collectors_own_tests(httpserver):
    httpserver.expect_request("/beats", query_string={"after": "2026-11-22T10:55:00+00:00"}).respond_with_json({"tick": ["2026-11-22-11"]})
    connection = Heartbeat.Connection(type="heartbeat", url=httpserver.url_for("/"), overlap=timedelta(minutes=65))
    context = collect_context("hb", connection, utc(2026, 11, 22, 13), since=utc(2026, 11, 22, 12))
    (report,) = Heartbeat("hb", connection).collect([Heartbeat.Source(id="beat", connection="hb", beat="tick")], context)
    assert [r.ended_at for r in report.runs] == [utc(2026, 11, 22, 11)] and context.api.requests_made == 1


def installed(monkeypatch, target):
    entry = EntryPoint("old_heartbeat", target, collectors.ENTRY_POINT_GROUP)
    monkeypatch.setattr(collectors, "entry_points", lambda group: [entry] if group == collectors.ENTRY_POINT_GROUP else [])
    collectors.registry.cache_clear()


@pytest.fixture(autouse=True)
def fresh_registry():
    yield
    collectors.registry.cache_clear()  # nothing a test installed outlives it


def test_a_collector_written_for_the_old_protocol_is_refused_before_anything_runs(monkeypatch, write_config):
    installed(monkeypatch, "tests.test_sdk:OldHeartbeat")
    path = write_config("""
        connections: {}
        sources: []
        components: []
        """)
    with pytest.raises(collectors.IncompatibleCollector) as refused:
        load_config(path, {})
    assert str(refused.value) == (
        "the collector of connection type 'old_heartbeat' (tests.test_sdk:OldHeartbeat) defines collect(self, sources, since, now), "
        "but statusgen calls collect(sources, context): the context carries now, since, read_from, cache_dir and api "
        "(see statusgen.sdk). Upgrade the package that provides it, or uninstall it."
    )
    result = CliRunner().invoke(main, ["validate", "-c", str(path)])
    assert result.exit_code == 2 and "defines collect(self, sources, since, now)" in result.output


def test_a_discovery_written_for_the_old_protocol_is_refused_too(monkeypatch):
    installed(monkeypatch, "tests.test_sdk:OldDiscovery")
    with pytest.raises(collectors.IncompatibleCollector, match=r"defines discover\(self, declared\), but statusgen calls discover\(declared, context\)"):
        collectors.registry()
