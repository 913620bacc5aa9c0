"""History at scale: N sources × D days, an observation every 5 minutes and a run every hour.

The history is written as statusgen leaves it: finished days compacted into one file each,
yesterday and today still one part per collection (DuckDB generates the rows). Then, in
the order a scheduled job meets them:

1. the compaction that merges yesterday and writes each day's digest, the latest file and the repeated runs' file (scenario 4);
2. the floor: DuckDB's raw `GROUP BY source, day` count over the observations;
3. a full render, as a fresh process meets it (no file metadata remembered);
4. one more collection, then the render again: the incremental render, and the daily
   rollups alone (seconds per status per day of every source and component);
5. the render under cProfile, for where the time goes;
6. retention down to 30 days (scenario 4).
"""

from __future__ import annotations

import cProfile
import pstats
import resource
import tempfile
import time
from dataclasses import MISSING, fields
from datetime import datetime, timedelta, timezone
from pathlib import Path
from unittest.mock import patch

import duckdb

from bench.clock import Clock
from statusgen.collectors.sql import SqlConnection, SqlSource
from statusgen.config import ComponentConfig, Config, HistoryConfig, SiteConfig
from statusgen.garbage import held_off
from statusgen.history import COMPACTED_KEY, History
from statusgen.history.schema import OBSERVATION_COLUMNS, RUN_COLUMNS, stamped
from statusgen.pipeline import statuses_now
from statusgen.records import Observation, Run
from statusgen.site import build_model, parallel, render_pages
from statusgen.status import Freshness
from statusgen.timeline import Timeline, Window

NOW = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)
EVERY = timedelta(minutes=5)

# How the benchmark makes each column of today's history files; the columns themselves, their
# order and their types come from statusgen's records (statusgen.history.schema), so a column
# added there is written here too (its field's default) or fails the generator at once.
OBSERVED = {
    "source_id": "'s' || lpad(s::VARCHAR, 4, '0')",
    "collection_id": "'c' || epoch(t)::BIGINT",
    "collected_at": "t",
    "latest_state": "'success'",
    "last_success_at": "t - INTERVAL 20 MINUTE",
    "error": "CASE WHEN hash(s, t) % 500 = 0 THEN 'HTTP 503' END",
    "message": "NULL",
    "latency_ms": "hash(s, t) % 400",
    "warn_after_s": "7200",
    "error_after_s": "21600",
}
RAN = {
    "source_id": "'s' || lpad(s::VARCHAR, 4, '0')",
    "run_id": "'r' || epoch(t)::BIGINT",
    "state": "CASE WHEN hash(s, t) % 40 = 0 THEN 'failed' ELSE 'success' END",
    "started_at": "t - INTERVAL 4 MINUTE",
    "ended_at": "t",
    "rows_loaded": "hash(s, t) % 10000",
    "collected_at": "t + INTERVAL 3 MINUTE",
    "collection_id": "'c' || epoch(t + INTERVAL 3 MINUTE)::BIGINT",
}


def rows_sql(record: type, columns: dict[str, str], made: dict[str, str], every: str) -> str:
    """SQL for `record`'s rows with exactly `columns`: one per source `s` and instant `t`,
    `every` apart from $start to $end, each column made as `made` says or else its field's default."""
    unknown = set(made) - set(columns)
    if unknown:
        raise ValueError(f"not a column of history's {record.__name__} any more: {sorted(unknown)}")
    defaults = {f.name: f.default for f in fields(record) if f.default is not MISSING}
    values = []
    for column, kind in columns.items():
        if column in made:
            value = made[column]
        elif column in defaults:
            value = "NULL" if defaults[column] is None else repr(defaults[column]).lower()
        else:
            raise ValueError(f"the benchmark does not make {record.__name__}.{column}, which history requires")
        values.append(f"CAST({value} AS {kind}) AS {column}")
    return (f"SELECT {', '.join(values)} "
            f"FROM range($sources) r(s), generate_series($start, $end - INTERVAL 1 SECOND, INTERVAL {every}) g(t)")


OBSERVATIONS = rows_sql(Observation, OBSERVATION_COLUMNS, OBSERVED, "5 MINUTE")
RUNS = rows_sql(Run, RUN_COLUMNS, RAN, "1 HOUR")


def _copy(db, sql: str, target: Path, sources: int, start: datetime, end: datetime, compacted: bool) -> None:
    # Not statusgen's write_parquet: its fsync of each of the ~470 files would make generating
    # (and tests/test_bench.py) several times slower, and nothing here needs to survive a crash.
    target.parent.mkdir(parents=True, exist_ok=True)
    meta = ", ".join(f"'{k}': '{v}'" for k, v in stamped({COMPACTED_KEY: "[]"} if compacted else None).items())
    quoted = str(target).replace("'", "''")
    db.execute(f"COPY ({sql} ORDER BY source_id, collected_at) TO '{quoted}' (FORMAT parquet, COMPRESSION zstd, KV_METADATA {{{meta}}})",
               {"sources": sources, "start": start.replace(tzinfo=None), "end": end.replace(tzinfo=None)})


def generate(root: Path, sources: int, days: int) -> int:
    """Write the history; returns the number of observation rows."""
    db = duckdb.connect()
    db.execute("SET TimeZone = 'UTC'")
    today = datetime.combine(NOW.date(), datetime.min.time(), timezone.utc)
    for offset in range(days, 1, -1):
        start = today - timedelta(days=offset)
        for dataset, sql in (("observations", OBSERVATIONS), ("runs", RUNS)):
            _copy(db, sql, root / dataset / f"date={start.date()}" / "part-gen--compacted.parquet", sources, start, start + timedelta(days=1), True)
    # Yesterday and today: one part per collection, as collections leave them.
    at = today - timedelta(days=1)
    while at < NOW:
        name = f"part-{at:%Y%m%dT%H%M%S}Z-bench.parquet"
        _copy(db, OBSERVATIONS, root / "observations" / f"date={at.date()}" / name, sources, at, at + EVERY, False)
        if at.minute == 0:
            _copy(db, RUNS, root / "runs" / f"date={at.date()}" / name, sources, at - timedelta(hours=1), at, False)
        at += EVERY
    return db.execute(f"SELECT count(*) FROM read_parquet('{root}/observations/*/*.parquet')").fetchone()[0]


def config_for(sources: int) -> Config:
    connection = SqlConnection(type="sql", database=Path("unused.duckdb"))
    source_configs = [SqlSource(id=f"s{i:04}", connection="wh", query="SELECT 1") for i in range(sources)]
    components = [ComponentConfig(id=f"c{i:04}", name=f"Table {i}", group=f"Group {i % 12}",
                                  depends_on=[f"s{j:04}" for j in range(i * 5, min(i * 5 + 5, sources))])
                  for i in range((sources + 4) // 5)]
    return Config(Path("bench.yaml"), SiteConfig(), HistoryConfig(), {"wh": connection}, source_configs, components)


def _render(root: Path, config: Config, now: datetime) -> Clock:
    """Model and pages, as a fresh process would spend them."""
    with Clock() as took:
        snapshot = History(root).open()
        render_pages(build_model(config, snapshot, now))
        snapshot.close()
    return took


def _rollups(root: Path, config: Config, now: datetime) -> Clock:
    """The daily rollups alone: seconds per status per day, for every source and component."""
    snapshot = History(root).open()
    window = Window.ending(now, config.site.days, config.site.zone)
    # No cache: other promises than the render's, so leave its timeline cache alone.
    timeline = Timeline(snapshot, {s.id: Freshness() for s in config.sources}, window, now,
                        members={c.id: c.depends_on for c in config.components})
    # The components' segments are made when first asked for: ask before the clock starts, so
    # that the rollups alone are timed, as the segments of the sources are.
    timeline.components_now()
    with Clock() as took, held_off():  # as build_model makes them
        timeline.source_days()
        timeline.component_days()
    snapshot.close()
    return took


def _collect_statuses(root: Path, config: Config, now: datetime) -> Clock:
    """What a collection adds since the timeline decides its lines' statuses:
    every source's status at the collection just written, by the timeline's rule at that instant
    (with the promises it reads from history)."""
    with Clock() as took:
        statuses_now(config, History(root), now)
    return took


def _files(root: Path) -> int:
    return sum(1 for _ in root.rglob("*.parquet"))


def _profile(root: Path, config: Config, now: datetime, top: int = 8) -> list[tuple[str, float]]:
    """statusgen's functions by CPU time spent in them and below, outermost first: CPU, as the
    wall clock on a shared machine counts other processes' turns against whichever function ran.
    The pages are drawn in this process alone, so that the profile sees all of their drawing."""
    profiler = cProfile.Profile(time.process_time)
    with patch.object(parallel, "FORKS", False):
        profiler.enable()
        _render(root, config, now)
        profiler.disable()
    stats = pstats.Stats(profiler).stats  # {(file, line, name): (calls, primitive, own, cumulative, callers)}
    ours = [(f"{Path(file).stem}.{name}", cumulative) for (file, _, name), (_, _, _, cumulative, _) in stats.items()
            if "/statusgen/" in file and file.endswith(".py") and not name.startswith("<")]
    return sorted(ours, key=lambda item: -item[1])[:top]


def run(sources: int = 1000, days: int = 90) -> dict:
    """Every figure: sizes and counts as numbers, each timed step as a Clock (wall and CPU)."""
    config = config_for(sources)
    with tempfile.TemporaryDirectory(prefix="statusgen-bench-") as folder:
        root = Path(folder)
        with Clock() as generated:
            observations = generate(root, sources, days)

        files_before = _files(root)
        with Clock() as first_compaction:
            History(root).compact(NOW)
        files_after = _files(root)
        with Clock() as next_compaction:
            History(root).compact(NOW)
        size = sum(p.stat().st_size for p in (root / "observations").rglob("*.parquet"))

        with Clock() as floor:
            duckdb.sql(f"SELECT source_id, date_trunc('day', collected_at), count(*) FROM '{root}/observations/*/*.parquet' GROUP BY ALL").fetchall()

        full = _render(root, config, NOW)
        later = NOW + EVERY
        db = duckdb.connect()
        db.execute("SET TimeZone = 'UTC'")
        _copy(db, OBSERVATIONS, root / "observations" / f"date={NOW.date()}" / f"part-{NOW:%Y%m%dT%H%M%S}Z-one-more.parquet",
              sources, NOW, later, False)
        incremental = _render(root, config, later)
        rollups = _rollups(root, config, later)
        collect_statuses = _collect_statuses(root, config, later)
        profile = _profile(root, config, later)

        kept_before = _files(root)
        with Clock() as retention:
            History(root).apply_retention(later, retention_days=30)
        kept_after = _files(root)
    return {
        "sources": sources,
        "days": days,
        "observations": observations,
        "generate": generated,
        "bytes_per_observation": size / observations,
        "floor": floor,
        "render": full,
        "incremental": incremental,
        "rollups": rollups,
        "collect_statuses": collect_statuses,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "compaction": (first_compaction, files_before, files_after, next_compaction),
        "retention": (retention, kept_before, kept_after),
        "profile": profile,
    }
