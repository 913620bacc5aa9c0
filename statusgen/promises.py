"""The promise each source is judged by, in one place for a collection's statuses and the page.

sources.yaml's `freshness` wins, and `freshness: none` means no promise at all; else the one
its system gives, as history holds it (Snapshot.declared_promises): the ages it declares
(dbt's `freshness:`, Fivetran's sync frequency), else the deadline its schedule implies
(statusgen.schedules); else none.
"""

from __future__ import annotations

from statusgen.config import Config
from statusgen.history import Snapshot
from statusgen.status import Freshness


def promises(config: Config, snapshot: Snapshot) -> dict[str, Freshness]:
    """Each of the config's sources' promise, by source id."""
    read = snapshot.declared_promises()
    return {s.id: s.promise(read.get(s.id), config.site.zone) for s in config.sources}
