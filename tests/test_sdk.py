"""A third-party collector needs statusgen.sdk and nothing else."""

import statusgen.collectors as collectors
from statusgen import pipeline
from statusgen.config import load_config
from statusgen.history import History
from statusgen.sdk import Collector, ConnectionConfig, Run, RunState, SourceConfig, SourceReport
from tests.conftest import utc


def test_a_collector_written_against_the_sdk_alone_runs(write_config, tmp_path, monkeypatch):
    class Heartbeat(Collector):
        type = "heartbeat"

        class Connection(ConnectionConfig):
            pass

        class Source(SourceConfig):
            beat: str

        def collect(self, sources, context):
            return [SourceReport(s.id, runs=[Run(s.id, f"{s.beat}@{context.now:%H%M}", RunState.SUCCESS, ended_at=context.now)]) for s in sources]

    monkeypatch.setitem(collectors.registry(), "heartbeat", Heartbeat)  # as an entry point would add it
    path = write_config("""
        connections: {hb: {type: heartbeat}}
        sources: [{id: beat, connection: hb, beat: tick}]
        components: [{id: beat, name: Beat, depends_on: [beat]}]
        """)
    config = load_config(path, {})
    history = History(tmp_path / "history")
    summary = pipeline.collect(config, history, utc(2026, 11, 22, 12))
    assert [(line.source_id, line.status.value, line.runs) for line in summary.lines] == [("beat", "operational", 1)]
