"""What history's Parquet files hold: their columns, the versions they carry, and the SQL
rules every reader of them shares.

The columns read are always this version's, which is how older files are upgraded on read
(statusgen.formats says what each version changed).
"""

from __future__ import annotations

from datetime import datetime, timezone

from statusgen import formats
from statusgen.records import Observation, Run

SCHEMA_VERSION = formats.HISTORY.version
VERSION_KEY = "statusgen.schema_version"
COMPACTED_KEY = "statusgen.compacted_from"
MADE_FROM_KEY = "statusgen.made_from"

RUN_COLUMNS = {
    "source_id": "VARCHAR",
    "run_id": "VARCHAR",
    "state": "VARCHAR",
    "started_at": "TIMESTAMP",
    "ended_at": "TIMESTAMP",
    "url": "VARCHAR",
    "rows_loaded": "BIGINT",
    "message": "VARCHAR",
    "collected_at": "TIMESTAMP",
    "collection_id": "VARCHAR",
}
OBSERVATION_COLUMNS = {
    "source_id": "VARCHAR",
    "collection_id": "VARCHAR",
    "collected_at": "TIMESTAMP",
    "latest_state": "VARCHAR",
    "last_success_at": "TIMESTAMP",
    "error": "VARCHAR",
    "message": "VARCHAR",
    "paused": "BOOLEAN",  # the system said the source is switched off (since version 2)
    "latency_ms": "INTEGER",
    "warn_after_s": "BIGINT",
    "error_after_s": "BIGINT",
}
COLUMNS = {"runs": RUN_COLUMNS, "observations": OBSERVATION_COLUMNS}  # of each dataset in layout.DATASETS
REACHABILITY_COLUMNS = {"source_id": "VARCHAR", "collected_at": "TIMESTAMP", "ok": "BOOLEAN"}
# Whether an observation lets the source's runs decide its status: not when the collection
# failed, nor when the system said the source is paused (reached, and unknown by rule).
RUNS_DECIDE_SQL = "error IS NULL AND NOT coalesce(paused, false)"
_RUN_TIMES = ("started_at", "ended_at")


def stamped(metadata: dict[str, str] | None = None) -> dict[str, str]:
    """`metadata` with the version of the schema this statusgen writes, as every history file carries it."""
    return {VERSION_KEY: str(SCHEMA_VERSION), **(metadata or {})}


def readable(version: str | None) -> bool:
    return version is not None and version.isdigit() and int(version) <= SCHEMA_VERSION


def naive_utc(value: datetime | None) -> datetime | None:
    """History stores UTC without a zone; DuckDB would otherwise apply its session zone."""
    return None if value is None else value.astimezone(timezone.utc).replace(tzinfo=None)


def aware_utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=timezone.utc)


def runs_as_seen(relation: str) -> str:
    """Each run of `relation` as its newest sighting saw it (an observation, by contrast, is
    unique per source and collection).

    Files written before statusgen.ingest bounded times hold them as reported, once per
    collection that listed them. Such a time is bounded here as ingest bounds it, by the
    earliest time the run's sightings give, so those files read as if ingest had seen them
    (and compaction, reading through this, writes them bounded). Times written since never
    lie after their own collection: only the few runs that have such a sighting are looked up."""
    earliest = ", ".join(f"min(CASE WHEN {c} IS NOT NULL THEN least({c}, collected_at) END) AS {c}" for c in _RUN_TIMES)
    bounded = ", ".join(f"CASE WHEN n.{c} > n.collected_at THEN b.{c} ELSE n.{c} END AS {c}" for c in _RUN_TIMES)
    later = " OR ".join(f"{c} > collected_at" for c in _RUN_TIMES)
    return f"""
        WITH n AS (SELECT * FROM {relation}
                   QUALIFY row_number() OVER (PARTITION BY source_id, run_id ORDER BY collected_at DESC, collection_id DESC) = 1),
        b AS (SELECT source_id, run_id, {earliest} FROM {relation}
              SEMI JOIN (SELECT source_id, run_id FROM {relation} WHERE {later}) USING (source_id, run_id) GROUP BY ALL)
        SELECT n.* REPLACE ({bounded}) FROM n LEFT JOIN b USING (source_id, run_id)"""


def reachability_changes(seen: str) -> str:
    """SQL for the rows of the query `seen` (source_id, collected_at, ok) where a source's
    reachability changed. Of collections at one instant, one that reached the source counts
    last (reachable if any did): in any other order the outcome would vary between reads."""
    return f"""
        SELECT source_id, collected_at, ok FROM (
            SELECT source_id, collected_at, ok, lag(ok) OVER (PARTITION BY source_id ORDER BY collected_at, ok) AS was_ok FROM ({seen}))
        WHERE was_ok IS DISTINCT FROM ok"""


def as_held(run: Run) -> tuple:
    """What a run's row says besides when it was seen, as Snapshot._as_seen reads it back."""
    return (run.state.value, run.started_at, run.ended_at, run.url, run.rows_loaded, run.message)


def run_row(run: Run, collected_at: datetime, collection_id: str) -> tuple:
    return (
        run.source_id,
        run.run_id,
        run.state.value,
        naive_utc(run.started_at),
        naive_utc(run.ended_at),
        run.url,
        run.rows_loaded,
        run.message,
        collected_at,
        collection_id,
    )


def observation_row(o: Observation) -> tuple:
    return (
        o.source_id,
        o.collection_id,
        naive_utc(o.collected_at),
        o.latest_state.value if o.latest_state else None,
        naive_utc(o.last_success_at),
        o.error,
        o.message,
        o.paused,
        o.latency_ms,
        o.warn_after_s,
        o.error_after_s,
    )
