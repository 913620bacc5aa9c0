"""What a collector is given for one call, instead of attributes set on it from outside.

`collect(sources, context)` gets a `CollectContext`: the time of the collection, when these
sources were last collected, the moment to read runs from, a folder to keep state in between
collections, and `context.api(...)`, which makes HTTP clients bound to the connection's
timeout and the call's deadline and counts their requests. `discover(declared, context)`
gets the same without the window (a `Context`).

The window follows one rule for every collector, `read_from`: the previous collection less
the connection's `overlap` (clocks lag, and a run committed late carries an earlier time;
a run read twice is stored once), or, on the first collection, now less its
`first_lookback`; never before a bound the caller gives (what history keeps). A collector
that reads a window declares its connection as a `WindowedConnection`, so both settings are
written, defaulted and documented once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pydantic import Field

from statusgen.collectors.api import ApiClient
from statusgen.config import ConnectionConfig, Duration

FIRST_LOOKBACK = timedelta(days=30)
OVERLAP = timedelta(minutes=5)


class WindowedConnection(ConnectionConfig):
    """Base of the settings of a connection whose collector reads runs in a time window."""

    first_lookback: Duration = Field(FIRST_LOOKBACK, description="How far back the first collection reads runs.")
    overlap: Duration = Field(
        OVERLAP, description="How long before the previous collection each collection reads again: clocks and commits lag; a run read twice is kept once."
    )


def read_from(connection: ConnectionConfig, since: datetime | None, now: datetime, not_before: datetime | None = None) -> datetime:
    """The moment a collection reads runs from, in UTC: the one rule every collector follows."""
    overlap, first_lookback = (connection.overlap, connection.first_lookback) if isinstance(connection, WindowedConnection) else (OVERLAP, FIRST_LOOKBACK)
    start = since - overlap if since else now - first_lookback
    if not_before is not None:
        start = max(start, not_before)
    return start.astimezone(timezone.utc)


@dataclass(frozen=True)
class ApiClients:
    """Makes the HTTP clients of one call: each bounded by the connection's timeout, none
    starting a request past the call's deadline, every request counted for the summary."""

    connection_name: str
    timeout: float
    give_up_at: float | None = None  # monotonic; a caller that stopped waiting leaves a thread that must not go on asking
    _made: list[ApiClient] = field(default_factory=list, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def __call__(self, base_url: str, **settings) -> ApiClient:
        client = ApiClient(self.connection_name, base_url, timeout=self.timeout, give_up_at=self.give_up_at, **settings)
        with self._lock:
            self._made.append(client)
        return client

    @property
    def requests_made(self) -> int:
        with self._lock:
            return sum(client.requests_made for client in self._made)


@dataclass(frozen=True, kw_only=True)
class Context:
    """What `discover` is given."""

    now: datetime
    api: ApiClients
    cache_dir: Path | None  # where a collector may keep state between collections (ETags)


@dataclass(frozen=True, kw_only=True)
class CollectContext(Context):
    """What `collect` is given: a `Context`, and the window to read."""

    since: datetime | None  # when these sources were last collected; None the first time
    read_from: datetime  # by `read_from`, in UTC


def discover_context(name: str, connection: ConnectionConfig, now: datetime, *, cache_dir: Path | None = None,
                     give_up_at: float | None = None) -> Context:
    """The context of one discovery of connection `name`."""
    return Context(now=now, api=ApiClients(name, connection.timeout.total_seconds(), give_up_at), cache_dir=cache_dir)


def collect_context(name: str, connection: ConnectionConfig, now: datetime, since: datetime | None = None, *,
                    cache_dir: Path | None = None, give_up_at: float | None = None, not_before: datetime | None = None) -> CollectContext:
    """The context of one `collect` call for connection `name`, its window by `read_from`."""
    return CollectContext(now=now, api=ApiClients(name, connection.timeout.total_seconds(), give_up_at), cache_dir=cache_dir,
                          since=since, read_from=read_from(connection, since, now, not_before))
