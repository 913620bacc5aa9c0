"""Everything a collector needs, from one module: a third-party collector imports from here
and from nothing else in statusgen, so the rest can change without breaking it.

    from statusgen.sdk import Collector, ConnectionConfig, SourceConfig, SourceReport, Run, RunState

A collector is a small class: `type`, its `Connection` and `Source` settings (pydantic
models: unknown keys are errors, `SecretStr` values are scrubbed from every message), and
`collect(sources, context)` returning one `SourceReport` per source. It maps one API onto
runs and reports, and nothing else: the timeline decides every status.
"""

from statusgen.collectors import Collector, Discovery
from statusgen.collectors.api import ApiClient
from statusgen.collectors.timestamps import utc_time
from statusgen.config import ConnectionConfig, Duration, RelativePath, SourceConfig
from statusgen.errors import CollectorError
from statusgen.records import Run, SourceReport
from statusgen.status import Freshness, RunState

__all__ = [
    "ApiClient",
    "Collector",
    "CollectorError",
    "ConnectionConfig",
    "Discovery",
    "Duration",
    "Freshness",
    "RelativePath",
    "Run",
    "RunState",
    "SourceConfig",
    "SourceReport",
    "utc_time",
]
