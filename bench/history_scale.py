"""History at scale: N sources × D days, an observation every 5 minutes and a run every hour.

Writes the history as statusgen's compacted day files (DuckDB generates the rows), then
times a full render against the floor, DuckDB's raw `GROUP BY source, day` count over the
same Parquet, and reports bytes on disk per observation and the process's peak memory.
"""

from __future__ import annotations

import resource
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb

from statusgen.collectors.sql import SqlConnection, SqlSource
from statusgen.config import ComponentConfig, Config, HistoryConfig, SiteConfig
from statusgen.history import COMPACTED_KEY, SCHEMA_VERSION, VERSION_KEY, History
from statusgen.site import build_model, render_pages

NOW = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)


def generate(root: Path, sources: int, days: int) -> int:
    """Write the history; returns the number of observation rows."""
    db = duckdb.connect()
    db.execute("SET TimeZone = 'UTC'")
    meta = f"KV_METADATA {{'{VERSION_KEY}': '{SCHEMA_VERSION}', '{COMPACTED_KEY}': '[]'}}"
    total = 0
    for offset in range(days, -1, -1):
        day = (NOW - timedelta(days=offset)).date()
        for dataset, every, sql in (
            ("observations", 5, """
                SELECT 's' || lpad(s::VARCHAR, 4, '0') AS source_id, 'gen' AS collection_id, t AS collected_at,
                       'operational' AS status, 'success' AS latest_state, t - INTERVAL 20 MINUTE AS last_success_at,
                       CASE WHEN hash(s, t) % 500 = 0 THEN 'HTTP 503' END AS error, NULL::VARCHAR AS message,
                       (hash(s, t) % 400)::INTEGER AS latency_ms, 7200::BIGINT AS warn_after_s, 21600::BIGINT AS error_after_s
                FROM range(?) r(s), generate_series(?::TIMESTAMP, ?::TIMESTAMP - INTERVAL 1 MINUTE, INTERVAL 5 MINUTE) g(t)"""),
            ("runs", 60, """
                SELECT 's' || lpad(s::VARCHAR, 4, '0') AS source_id, 'r' || epoch(t)::BIGINT AS run_id,
                       CASE WHEN hash(s, t) % 40 = 0 THEN 'failed' ELSE 'success' END AS state,
                       t - INTERVAL 4 MINUTE AS started_at, t AS ended_at, NULL::VARCHAR AS url,
                       (hash(s, t) % 10000)::BIGINT AS rows_loaded, NULL::VARCHAR AS message,
                       t + INTERVAL 3 MINUTE AS collected_at, 'gen' AS collection_id
                FROM range(?) r(s), generate_series(?::TIMESTAMP, ?::TIMESTAMP - INTERVAL 1 MINUTE, INTERVAL 1 HOUR) g(t)"""),
        ):
            folder = root / dataset / f"date={day.isoformat()}"
            folder.mkdir(parents=True)
            start = datetime.combine(day, datetime.min.time())
            end = min(start + timedelta(days=1), NOW.replace(tzinfo=None))
            target = str(folder / "part-gen--compacted.parquet").replace("'", "''")
            db.execute(f"COPY ({sql} ORDER BY source_id, 3) TO '{target}' (FORMAT parquet, COMPRESSION zstd, {meta})",
                       [sources, start, end])
            if dataset == "observations":
                total += db.execute(f"SELECT count(*) FROM '{target}'").fetchone()[0]
    return total


def config_for(sources: int) -> Config:
    connection = SqlConnection(type="sql", database=Path("unused.duckdb"))
    source_configs = [SqlSource(id=f"s{i:04}", connection="wh", query="SELECT 1") for i in range(sources)]
    components = [ComponentConfig(id=f"c{i:04}", name=f"Table {i}", group=f"Group {i % 12}",
                                  depends_on=[f"s{j:04}" for j in range(i * 5, min(i * 5 + 5, sources))])
                  for i in range((sources + 4) // 5)]
    return Config(Path("bench.yaml"), SiteConfig(), HistoryConfig(), {"wh": connection}, source_configs, components)


def run(sources: int = 1000, days: int = 90) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="statusgen-bench-") as folder:
        root = Path(folder)
        started = time.perf_counter()
        observations = generate(root, sources, days)
        generated = time.perf_counter() - started
        size = sum(p.stat().st_size for p in (root / "observations").rglob("*.parquet"))

        floor_started = time.perf_counter()
        duckdb.sql(f"SELECT source_id, date_trunc('day', collected_at), count(*) FROM '{root}/observations/*/*.parquet' GROUP BY ALL").fetchall()
        floor = time.perf_counter() - floor_started

        config = config_for(sources)
        render_started = time.perf_counter()
        snapshot = History(root).open()
        model = build_model(config, snapshot, NOW)
        render_pages(model)
        snapshot.close()
        render = time.perf_counter() - render_started
    return {
        "sources": sources,
        "days": days,
        "observations": observations,
        "generate_s": generated,
        "bytes_per_observation": size / observations,
        "floor_s": floor,
        "render_s": render,
        "ratio": render / floor,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
