"""The collector protocol and the registry of collectors by connection type.

A collector maps one system's API onto `Run`s and `SourceReport`s, and nothing else: it
never decides a status (statusgen.status does) and never touches history. Built-in and
third-party collectors load the same way, through the `statusgen.collectors` entry-point
group, so a package can add `type: mysystem` without changes here.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from typing import ClassVar, Sequence

from statusgen.collectors.context import CollectContext, Context
from statusgen.config import ComponentConfig, ConnectionConfig, SourceConfig
from statusgen.errors import StatusgenError
from statusgen.records import SourceReport

ENTRY_POINT_GROUP = "statusgen.collectors"

# The built-ins, checked by a test against the entry points pyproject.toml declares.
BUILTIN = {
    "airflow": "statusgen.collectors.airflow:AirflowCollector",
    "dagster": "statusgen.collectors.dagster:DagsterCollector",
    "dbt": "statusgen.collectors.dbt:DbtCollector",
    "dbt_cloud": "statusgen.collectors.dbt_cloud:DbtCloudCollector",
    "dlt": "statusgen.collectors.dlt:DltCollector",
    "fivetran": "statusgen.collectors.fivetran:FivetranCollector",
    "github_actions": "statusgen.collectors.github_actions:GithubActionsCollector",
    "http": "statusgen.collectors.http:HttpCollector",
    "looker": "statusgen.collectors.looker:LookerCollector",
    "prefect": "statusgen.collectors.prefect:PrefectCollector",
    "sql": "statusgen.collectors.sql:SqlCollector",
}


@dataclass(frozen=True)
class Discovery:
    """What a collector finds by itself: sources and components to add (dbt exposures),
    and declared sources that stand for many (`include: [sales_*]`) with what they matched."""

    sources: list[SourceConfig] = field(default_factory=list)
    components: list[ComponentConfig] = field(default_factory=list)
    expanded: dict[str, list[SourceConfig]] = field(default_factory=dict)
    lineage: dict[str, list[str]] = field(default_factory=dict)  # node → its parents, where the system knows them


class Collector:
    """Base of every collector.

    Subclasses set `type`, the pydantic models `Connection` and `Source` (their config
    keys; a collector that reads runs in a time window bases `Connection` on
    `WindowedConnection`), and implement `collect`. `batch_size` is how many sources one
    `collect` call takes: 1 lets the runner spread sources over threads; an API that lists
    many pipelines per request asks for larger batches.
    """

    type: ClassVar[str]
    Connection: ClassVar[type[ConnectionConfig]]
    Source: ClassVar[type[SourceConfig]]
    batch_size: ClassVar[int] = 1

    def __init__(self, name: str, connection: ConnectionConfig):
        self.name = name
        self.connection = connection

    def collect(self, sources: Sequence[SourceConfig], context: CollectContext) -> list[SourceReport]:
        """One report per source, from runs since `context.read_from`; HTTP clients come from `context.api`."""
        raise NotImplementedError

    def discover(self, declared: Sequence[SourceConfig], context: Context) -> Discovery:
        """Sources and components to add to the config; most collectors find none. Called
        by `collect` (never while the config loads), within the connection's timeout."""
        return Discovery()

    @classmethod
    def stands_for_others(cls, source: SourceConfig) -> bool:
        """Whether `source` is only a pattern that discovery expands (`include: [sales_*]`)."""
        return False


class IncompatibleCollector(StatusgenError):
    """An installed collector was written for another version of the collector protocol."""

    exit_code = 2  # like a config error: nothing was asked or written


# What statusgen calls, with how many arguments besides self.
_PROTOCOL = {"collect": ("collect(sources, context)", 2), "discover": ("discover(declared, context)", 2)}


@cache
def registry() -> dict[str, type[Collector]]:
    """Every installed collector by its connection type; one written against an older
    protocol stops every command at once, rather than failing in a worker thread later."""
    found: dict[str, type[Collector]] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        found[entry.name] = _compatible(entry.name, entry.value, entry.load())
    for name, target in BUILTIN.items():
        # Running from a source tree that was never installed has no entry points.
        if name not in found:
            module, _, attr = target.partition(":")
            found[name] = getattr(__import__(module, fromlist=[attr]), attr)
    return found


def _compatible(name: str, target: str, collector: type[Collector]) -> type[Collector]:
    for method, (wanted, count) in _PROTOCOL.items():
        signature = inspect.signature(getattr(collector, method))
        try:
            signature.bind(None, *[None] * count)
        except TypeError:
            raise IncompatibleCollector(
                f"the collector of connection type {name!r} ({target}) defines {method}{signature}, but statusgen calls {wanted}: "
                f"the context carries now, since, read_from, cache_dir and api (see statusgen.sdk). "
                f"Upgrade the package that provides it, or uninstall it."
            ) from None
    return collector
