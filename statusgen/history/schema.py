"""What history's Parquet files hold: their columns, the versions they carry, and the SQL
rules every reader of them shares.

The columns read are always this version's, which is how older files are upgraded on read
(statusgen.formats says what each version changed).
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar, get_args, get_type_hints

from statusgen import formats
from statusgen.records import Observation, Run
from statusgen.status import RunState

R = TypeVar("R")

SCHEMA_VERSION = formats.HISTORY.version
VERSION_KEY = "statusgen.schema_version"
COMPACTED_KEY = "statusgen.compacted_from"
MADE_FROM_KEY = "statusgen.made_from"
RULE_KEY = "statusgen.rule"  # which rule made a digest (statusgen/history/digests.py)

# A record's field is a column of the same name; its Python type gives the column's type.
_TYPES = {str: "VARCHAR", int: "BIGINT", bool: "BOOLEAN", datetime: "TIMESTAMP", RunState: "VARCHAR"}
# Milliseconds of one collection fit 32 bits, and files have always stored them so.
_NARROWER = {"latency_ms": "INTEGER"}
# What a run's row adds to the run: which collection saw it, and when.
SIGHTING = {"collected_at": "TIMESTAMP", "collection_id": "VARCHAR"}


def _field_types(record: type) -> dict[str, type]:
    """Each field of the dataclass `record` with its type, None taken out of an optional one."""
    hints = get_type_hints(record)
    found = {}
    for f in fields(record):
        kinds = [t for t in get_args(hints[f.name]) or (hints[f.name],) if t is not type(None)]
        found[f.name] = kinds[0]
    return found


def _columns(record: type) -> dict[str, str]:
    return {name: _NARROWER.get(name, _TYPES[kind]) for name, kind in _field_types(record).items()}


RUN_COLUMNS = {**_columns(Run), **SIGHTING}
OBSERVATION_COLUMNS = _columns(Observation)  # `paused` since version 2, `schedule_cron`, `schedule_timezone` and `schedule_landed_within_s` since 3
COLUMNS = {"runs": RUN_COLUMNS, "observations": OBSERVATION_COLUMNS}  # of each dataset in layout.DATASETS
REACHABILITY_COLUMNS = {"source_id": "VARCHAR", "collected_at": "TIMESTAMP", "ok": "BOOLEAN"}
# Whether an observation lets the source's runs decide its status: not when the collection
# failed, nor when the system said the source is paused (reached, and unknown by rule).
RUNS_DECIDE_SQL = "error IS NULL AND NOT coalesce(paused, false)"
# The observations whose latest a reader asks for, besides the latest of all: the latest that
# reached the source, and the latest that declared a promise.
REACHED_SQL = "error IS NULL"
DECLARED_SQL = "(warn_after_s IS NOT NULL OR error_after_s IS NOT NULL)"
_RUN_TIMES = ("started_at", "ended_at")
_LATER_THAN_SEEN = " OR ".join(f"{c} > collected_at" for c in _RUN_TIMES)  # a time ingest had not bounded


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


def runs_as_seen(relation: str, again: str | None = None) -> str:
    """Each run of `relation` as its newest sighting saw it (an observation, by contrast, is
    unique per source and collection).

    Files written before statusgen.ingest bounded times hold them as reported, once per
    collection that listed them. Such a time is bounded here as ingest bounds it, by the
    earliest time the run's sightings give, so those files read as if ingest had seen them
    (and compaction, reading through this, writes them bounded). A run seen once is bounded by
    its own collection; of the runs seen more than once, only the few that have a sighting with
    such a time are looked up, as times written since never lie after their own collection.

    Compacted days hold each run once, so most runs have one sighting: only the runs seen more
    than once are sorted by sighting (sorting every run, with all its columns, cost ≈ 3× the
    scan at 2 M runs). `again`: SQL of (source_id, run_id) holding at least those runs
    (statusgen/history/repeated.py); without it, every run's sightings are counted."""
    bounded_once = ", ".join(f"CASE WHEN {c} > collected_at THEN collected_at ELSE {c} END AS {c}" for c in _RUN_TIMES)
    earliest = ", ".join(f"min(CASE WHEN {c} IS NOT NULL THEN least({c}, collected_at) END) AS {c}" for c in _RUN_TIMES)
    bounded = ", ".join(f"CASE WHEN n.{c} > n.collected_at THEN b.{c} ELSE n.{c} END AS {c}" for c in _RUN_TIMES)
    return f"""
        WITH again AS ({again or f"SELECT source_id, run_id FROM {relation} GROUP BY ALL HAVING count(*) > 1"}),
        seen AS (SELECT * FROM {relation} SEMI JOIN again USING (source_id, run_id)),
        n AS (SELECT * FROM seen QUALIFY row_number() OVER (PARTITION BY source_id, run_id ORDER BY collected_at DESC, collection_id DESC) = 1),
        b AS (SELECT source_id, run_id, {earliest} FROM seen
              SEMI JOIN (SELECT source_id, run_id FROM seen WHERE {_LATER_THAN_SEEN}) USING (source_id, run_id) GROUP BY ALL)
        SELECT * REPLACE ({bounded_once}) FROM {relation} ANTI JOIN again USING (source_id, run_id)
        UNION ALL
        SELECT n.* REPLACE ({bounded}) FROM n LEFT JOIN b USING (source_id, run_id)"""


def seen_once(relation: str) -> str:
    """SQL that is true when every run of `relation` is seen once, at a time no later than its
    collection: runs_as_seen then gives each run as it is. Most histories written since ingest
    bounded times are so; checking costs far less than deduplicating."""
    return (f"NOT EXISTS (SELECT 1 FROM {relation} WHERE {_LATER_THAN_SEEN}) "
            f"AND NOT EXISTS (SELECT 1 FROM {relation} GROUP BY source_id, run_id HAVING count(*) > 1)")


def reachability_changes(seen: str) -> str:
    """SQL for the rows of the query `seen` (source_id, collected_at, ok) where a source's
    reachability changed. Of collections at one instant, one that reached the source counts
    last (reachable if any did): in any other order the outcome would vary between reads."""
    return f"""
        SELECT source_id, collected_at, ok FROM (
            SELECT source_id, collected_at, ok, lag(ok) OVER (PARTITION BY source_id ORDER BY collected_at, ok) AS was_ok FROM ({seen}))
        WHERE was_ok IS DISTINCT FROM ok"""


def column_values(records: Sequence[Any], columns: dict[str, str], **same: Any) -> list[list[Any]]:
    """The values of each of `columns` for `records`, each read from the field of its name (or
    given in `same`, the one value of every row), as history stores them."""
    return [[same[c] if c in same else _stored(getattr(r, c)) for r in records] for c in columns]


def records(kind: type[R], rows: Iterable[dict[str, Any]]) -> Iterator[R]:
    """The `kind` records that rows of history hold, each field from the column of its name."""
    # Each field's conversion looked up once, not per value: a render makes 15,000 runs.
    loaded = [(name, _loader(type_)) for name, type_ in _field_types(kind).items()]
    for row in rows:
        values = {}
        for name, load in loaded:
            value = row[name]
            values[name] = value if load is None or value is None else load(value)
        yield kind(**values)


def _stored(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    return naive_utc(value) if isinstance(value, datetime) else value


def _loader(kind: type) -> Callable[[Any], Any] | None:
    """How a stored value of a field of type `kind` becomes the field's value; None: as it is."""
    if kind is datetime:
        return aware_utc
    return kind if issubclass(kind, Enum) else None
