"""Everything a collector needs, from one module: a third-party collector imports from here
and from nothing else in statusgen, so the rest can change without breaking it.

    from statusgen.sdk import CollectContext, Collector, ConnectionConfig, SourceConfig, SourceReport, Run, RunState

A collector is a small class: `type`, its `Connection` and `Source` settings (pydantic
models: unknown keys are errors, `SecretStr` values are scrubbed from every message), and
`collect(sources, context)` returning one `SourceReport` per source. The `CollectContext`
says when (`now`), since when to read (`read_from`, by the one rule every collector follows:
base `Connection` on `WindowedConnection` to give users `first_lookback` and `overlap`),
where to keep state between collections (`cache_dir`, may be None), and makes HTTP clients
bound to the connection's timeout (`context.api(base_url)`). A collector maps one API onto
runs and reports, and nothing else: the timeline decides every status.

`collect_context` and `discover_context` build the contexts the runner gives, for tests.
"""

from statusgen.collectors import Collector, Discovery
from statusgen.collectors.api import ApiClient
from statusgen.collectors.context import (
    ApiClients,
    CollectContext,
    Context,
    WindowedConnection,
    collect_context,
    discover_context,
)
from statusgen.collectors.timestamps import utc_time
from statusgen.config import ConnectionConfig, Duration, RelativePath, SourceConfig
from statusgen.errors import CollectorError
from statusgen.records import Run, SourceReport
from statusgen.status import Freshness, RunState

__all__ = [
    "ApiClient",
    "ApiClients",
    "CollectContext",
    "Collector",
    "CollectorError",
    "ConnectionConfig",
    "Context",
    "Discovery",
    "Duration",
    "Freshness",
    "RelativePath",
    "Run",
    "RunState",
    "SourceConfig",
    "SourceReport",
    "WindowedConnection",
    "collect_context",
    "discover_context",
    "utc_time",
]
