"""sql: freshness queries against DuckDB (built in) or any database SQLAlchemy reaches.

Each row a source's `query` returns is one load: its time, and optionally its row count.
`SELECT max(loaded_at), count(*) FROM raw.orders` reports the latest load; a query that
lists loads, `SELECT loaded_at, count(*) FROM raw.orders WHERE loaded_at > $since GROUP BY 1`,
lets history record every load even when collections are further apart than loads.
`$since` is where the collection's window starts: the previous collection less the
connection's `overlap` (a load stored twice is kept once), or `first_lookback` before `$now`
on the first collection (1 day here, not the usual 30: a query that lists every load in a
month of frequent loads would pass MAX_ROWS); `$now` is this collection.
"""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterator, Literal, Sequence

import duckdb
from pydantic import Field, SecretStr, model_validator

from statusgen.collectors import Collector
from statusgen.collectors.context import CollectContext, WindowedConnection
from statusgen.collectors.timestamps import utc_time
from statusgen.config import Duration, RelativePath, SourceConfig
from statusgen.errors import CollectorError
from statusgen.records import Run, SourceReport
from statusgen.status import RunState

MAX_ROWS = 10_000
_PARAMETER = re.compile(r"\$(since|now)\b")

# Runs one query with its parameters and returns at most MAX_ROWS + 1 rows.
Execute = Callable[[str, dict[str, datetime]], list[tuple]]


class SqlConnection(WindowedConnection):
    type: Literal["sql"]
    first_lookback: Duration = Field(timedelta(days=1), description="How far back $since reaches on the first collection.")
    database: RelativePath | None = Field(None, description="A DuckDB database file, opened read-only.")
    url: SecretStr | None = Field(None, description="A SQLAlchemy URL (postgresql+psycopg://…, snowflake://…); from the environment.")

    @model_validator(mode="after")
    def _one_database(self) -> SqlConnection:
        if bool(self.database) == bool(self.url):
            raise ValueError("give exactly one of database (a DuckDB file) or url (SQLAlchemy)")
        return self

    def secret_values(self) -> list[str]:
        values = super().secret_values()
        match = re.match(r"^[^:]+://[^:/@]*:([^@]+)@", self.url.get_secret_value()) if self.url else None
        return values + ([match.group(1)] if match else [])


class SqlSource(SourceConfig):
    query: str = Field(min_length=1, description="Returns one row per load: load time [, row count]; may use $since and $now.")


class SqlCollector(Collector):
    type: ClassVar[str] = "sql"
    Connection = SqlConnection
    Source = SqlSource
    batch_size: ClassVar[int] = 10_000  # one database connection serves every query

    def collect(self, sources: Sequence[SqlSource], context: CollectContext) -> list[SourceReport]:
        window = {"since": context.read_from, "now": context.now}
        run = _duckdb if self.connection.database else _sqlalchemy
        return run(self.connection, lambda execute: [self._report(execute, s, window) for s in sources])

    def _report(self, execute: Execute, source: SqlSource, window: dict[str, datetime]) -> SourceReport:
        used = set(_PARAMETER.findall(self.query_of(source)))
        # Warehouse timestamp columns conventionally hold UTC without a zone.
        parameters = {name: window[name].astimezone(timezone.utc).replace(tzinfo=None) for name in used}
        try:
            rows = execute(self.query_of(source), parameters)
        except CollectorError as exc:
            return SourceReport(source.id, error=str(exc))
        if len(rows) > MAX_ROWS:
            return SourceReport(source.id, error=f"query returned more than {MAX_ROWS} rows; narrow it with $since")
        loads = []
        for row in rows:
            try:
                loaded_at = _as_time(row[0])
            except ValueError:
                return SourceReport(source.id, error=f"the query's first column must be a timestamp, found {type(row[0]).__name__}")
            if loaded_at is None:
                continue
            count = row[1] if len(row) > 1 and isinstance(row[1], int) else None
            loads.append(Run(source.id, f"loaded@{loaded_at.isoformat()}", RunState.SUCCESS, ended_at=loaded_at, rows_loaded=count))
        if not loads:
            return SourceReport(source.id, message="no loads found" + (" since the previous collection" if "since" in used else ""))
        return SourceReport(source.id, runs=loads)

    def query_of(self, source: SqlSource) -> str:
        """The query a source runs; presets (dlt) write it for the user."""
        return source.query


def _as_time(value: Any) -> datetime | None:
    """A datetime, or the ISO text SQLite and some drivers return; naive means UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    if isinstance(value, str):
        return utc_time(value)
    raise ValueError(value)


class _Host:
    """An in-memory DuckDB that each DuckDB file is attached to, read-only, while a batch
    reads it: starting a database of its own for the file cost ~18 ms of CPU at every
    collection, attaching it ~1 ms. The file is attached under the name DuckDB gives a file
    it opens (its stem), so queries name it as they would; files of one name take turns."""

    RESERVED = {"memory", "system", "temp", "main"}

    def __init__(self) -> None:
        self._database: duckdb.DuckDBPyConnection | None = None
        self._turns: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    @contextmanager
    def reading(self, path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
        name = path.stem if path.stem not in self.RESERVED else f"{path.stem}_file"
        with self._lock:
            if self._database is None:
                self._database = duckdb.connect()
            turn = self._turns.setdefault(name, threading.Lock())
        with turn:
            session = self._database.cursor()
            try:
                try:
                    session.execute(f"ATTACH '{str(path).replace(chr(39), chr(39) * 2)}' AS \"{name}\" (READ_ONLY); USE \"{name}\"")
                except duckdb.Error as exc:
                    raise CollectorError(f"cannot open {path.name}: {_short(exc)}") from None
                try:
                    yield session
                finally:
                    session.execute(f"USE memory; DETACH \"{name}\"")
            finally:
                session.close()


_HOST = _Host()


def _duckdb(connection: SqlConnection, work: Callable[[Execute], list[SourceReport]]) -> list[SourceReport]:
    path = connection.database
    if not path.is_file():
        raise CollectorError(f"database file {path.name} not found")
    with _HOST.reading(path) as database:

        def execute(query: str, parameters: dict[str, datetime]) -> list[tuple]:
            # A runaway query is interrupted so one source cannot hold up the others.
            timer = threading.Timer(connection.timeout.total_seconds(), database.interrupt)
            timer.start()
            try:
                return database.execute(query, parameters or None).fetchmany(MAX_ROWS + 1)
            except duckdb.InterruptException:
                raise CollectorError(f"query timed out after {connection.timeout}") from None
            except duckdb.Error as exc:
                raise CollectorError(f"query failed: {_short(exc)}") from None
            finally:
                timer.cancel()

        return work(execute)


def _sqlalchemy(connection: SqlConnection, work: Callable[[Execute], list[SourceReport]]) -> list[SourceReport]:
    try:
        import sqlalchemy
    except ImportError:
        raise CollectorError("a url connection needs SQLAlchemy: pip install 'statusgen[sql]'") from None
    url = connection.url.get_secret_value()
    try:
        engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    except (ImportError, sqlalchemy.exc.NoSuchModuleError):
        scheme = url.split(":", 1)[0]
        raise CollectorError(f"no driver for {scheme} URLs is installed (see the extras: pip install 'statusgen[postgres]', …)") from None
    except sqlalchemy.exc.ArgumentError:
        raise CollectorError("the url is not a SQLAlchemy URL") from None
    try:
        database = engine.connect()
    except Exception as exc:  # drivers raise their own types; any of them means "cannot connect"
        raise CollectorError(f"cannot connect: {_short(exc)}") from None

    def execute(query: str, parameters: dict[str, datetime]) -> list[tuple]:
        try:
            result = database.execute(sqlalchemy.text(_PARAMETER.sub(r":\1", query)), parameters)
            return [tuple(row) for row in result.fetchmany(MAX_ROWS + 1)]
        except sqlalchemy.exc.SQLAlchemyError as exc:
            database.rollback()
            raise CollectorError(f"query failed: {_short(getattr(exc, 'orig', None) or exc)}") from None

    try:
        return work(execute)
    finally:
        database.close()
        engine.dispose()


def _short(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:300]
