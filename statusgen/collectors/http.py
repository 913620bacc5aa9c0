"""http: any JSON endpoint, for the pipelines no orchestrator sees.

A cloud function's heartbeat, an in-house API, a vendor's status call: statusgen fetches
the source's `path`, and reads the time of the last run (`timestamp`) and/or its outcome
(`state`, mapped through `states`) at the given JSON paths.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, ClassVar, Literal, Sequence

from pydantic import Field, SecretStr

from statusgen.collectors import Collector
from statusgen.collectors.context import CollectContext
from statusgen.collectors.timestamps import utc_time
from statusgen.config import ConnectionConfig, SourceConfig
from statusgen.errors import CollectorError
from statusgen.records import Run, SourceReport
from statusgen.status import RunState

DEFAULT_STATES: dict[str, RunState] = {
    "success": RunState.SUCCESS,
    "succeeded": RunState.SUCCESS,
    "ok": RunState.SUCCESS,
    "warning": RunState.WARNING,
    "failed": RunState.FAILED,
    "failure": RunState.FAILED,
    "error": RunState.FAILED,
    "cancelled": RunState.CANCELLED,
    "running": RunState.RUNNING,
    "queued": RunState.QUEUED,
}
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class HttpConnection(ConnectionConfig):
    type: Literal["http"]
    url: str = Field(pattern=r"^https?://", description="Base URL; each source adds its path.")
    headers: dict[str, SecretStr] = Field({}, description="Sent with every request (secrets: ${VARIABLE}).")


class HttpSource(SourceConfig):
    path: str = Field("", description="Appended to the connection's url.")
    timestamp: str | None = Field(None, description="JSON path to the last run's time, e.g. data.last_run.finished_at.")
    state: str | None = Field(None, description="JSON path to the last run's outcome, e.g. data.last_run.status.")
    states: dict[str, RunState] = Field({}, description="Your values of `state` → run states; added to the defaults.")


class HttpCollector(Collector):
    type: ClassVar[str] = "http"
    Connection = HttpConnection
    Source = HttpSource

    def collect(self, sources: Sequence[HttpSource], context: CollectContext) -> list[SourceReport]:
        (source,) = sources
        headers = {k: v.get_secret_value() for k, v in self.connection.headers.items()}
        body = context.api(self.connection.url, headers=headers).get("/" + source.path.lstrip("/"))
        state = RunState.SUCCESS
        if source.state:
            value = _dig(body, source.state)
            states = {**DEFAULT_STATES, **{k.lower(): v for k, v in source.states.items()}}
            if str(value).lower() not in states:
                raise CollectorError(f"unexpected state {str(value)[:40]!r} at {source.state}; map it under `states`")
            state = states[str(value).lower()]
        ended = _time_at(body, source.timestamp) if source.timestamp else context.now
        return [SourceReport(source.id, runs=[Run(source.id, f"{state.value}@{ended.isoformat()}", state, ended_at=ended)])]


def _time_at(body: Any, path: str) -> datetime:
    value = _dig(body, path)
    try:
        stamp = utc_time(value)
    except (TypeError, ValueError):
        stamp = None
    if stamp is None:
        raise CollectorError(f"{path} is not a time: {str(value)[:40]!r}")
    return stamp


def _dig(data: Any, path: str) -> Any:
    """The value at a dotted path with [index] steps: `runs[0].finished_at`."""
    current = data
    for name, index in _STEP.findall(path):
        try:
            current = current[int(index)] if index else current[name]
        except (KeyError, IndexError, TypeError):
            raise CollectorError(f"nothing at {path} in the answer") from None
    return current
