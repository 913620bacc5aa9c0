"""sql: a freshness query against a DuckDB database file.

Each row a source's `query` returns is one load: its time, and optionally its row count.
`SELECT max(loaded_at), count(*) FROM raw.orders` reports the latest load; a query that
lists loads, `SELECT loaded_at, count(*) FROM raw.orders WHERE loaded_at > $since GROUP BY 1`,
lets history record every load even when collections are further apart than loads.
`$since` is the previous collection (24 hours before `$now` on the first), `$now` this one.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta, timezone
from typing import ClassVar, Literal, Sequence

import duckdb
from pydantic import Field

from statusgen.collectors import Collector
from statusgen.config import ConnectionConfig, RelativePath, SourceConfig
from statusgen.errors import CollectorError
from statusgen.records import Run, SourceReport
from statusgen.status import RunState


MAX_ROWS = 10_000
_PARAMETER = re.compile(r"\$(since|now)\b")


class SqlConnection(ConnectionConfig):
    type: Literal["sql"]
    database: RelativePath = Field(description="A DuckDB database file, opened read-only.")


class SqlSource(SourceConfig):
    query: str = Field(min_length=1, description="Returns one row per load: load time [, row count]; may use $since and $now.")


class SqlCollector(Collector):
    type: ClassVar[str] = "sql"
    Connection = SqlConnection
    Source = SqlSource
    batch_size: ClassVar[int] = 10_000  # one database connection serves every query

    def collect(self, sources: Sequence[SqlSource], since, now) -> list[SourceReport]:
        path = self.connection.database
        if not path.is_file():
            raise CollectorError(f"database file {path.name} not found")
        try:
            database = duckdb.connect(str(path), read_only=True)
        except duckdb.Error as exc:
            raise CollectorError(f"cannot open {path.name}: {_short(exc)}") from None
        try:
            window = {"since": since or now - timedelta(days=1), "now": now}
            return [self._report(database, source, window) for source in sources]
        finally:
            database.close()

    def _report(self, database: duckdb.DuckDBPyConnection, source: SqlSource, window: dict[str, datetime]) -> SourceReport:
        used = set(_PARAMETER.findall(source.query))
        # Warehouse TIMESTAMP columns conventionally hold UTC without a zone.
        parameters = {name: window[name].astimezone(timezone.utc).replace(tzinfo=None) for name in used}
        # A runaway query is interrupted so one source cannot hold up the others.
        timer = threading.Timer(self.connection.timeout.total_seconds(), database.interrupt)
        timer.start()
        try:
            rows = database.execute(source.query, parameters or None).fetchmany(MAX_ROWS + 1)
        except duckdb.InterruptException:
            return SourceReport(source.id, error=f"query timed out after {self.connection.timeout}")
        except duckdb.Error as exc:
            return SourceReport(source.id, error=f"query failed: {_short(exc)}")
        finally:
            timer.cancel()
        if len(rows) > MAX_ROWS:
            return SourceReport(source.id, error=f"query returned more than {MAX_ROWS} rows; narrow it with $since")
        loads = []
        for row in rows:
            if row[0] is None:
                continue
            if not isinstance(row[0], datetime):
                return SourceReport(source.id, error=f"the query's first column must be a timestamp, found {type(row[0]).__name__}")
            loaded_at = row[0].replace(tzinfo=timezone.utc) if row[0].tzinfo is None else row[0].astimezone(timezone.utc)
            count = row[1] if len(row) > 1 and isinstance(row[1], int) else None
            loads.append(Run(source.id, f"loaded@{loaded_at.isoformat()}", RunState.SUCCESS, ended_at=loaded_at, rows_loaded=count))
        if not loads:
            return SourceReport(source.id, message="no loads found" + (" since the previous collection" if "since" in used else ""))
        return SourceReport(source.id, runs=loads)


def _short(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:300]
