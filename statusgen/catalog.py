"""The catalog: what discovery found, kept in history so that rendering needs no network.

Some sources stand for others (`include: [sales_*]` in Airflow) and some connections add
components of their own (dbt exposures). Finding them means asking a system, so it happens
in `collect` (see statusgen/discovery.py), never while the config loads. What was found is
saved in history, one entry per connection; `render` and every later stage read it back. An entry
is replaced only by a discovery that succeeded, so a system that is down for a while never
makes components vanish: they keep their sources and their bars.

This module is the catalog's data alone, so that discovery, upstream of history, builds one
without importing history; statusgen/history/catalog.py reads and writes its file.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from statusgen.config import ComponentConfig, Config, SourceConfig


@dataclass(frozen=True)
class Entry:
    """One connection's last successful discovery.

    `expanded` maps each declared source that stands for others to the sources it matched;
    `sources` and `components` are added outright; `lineage` maps a node to its parents,
    where the system knows them (a dbt manifest), for later stages that look upstream.
    """

    discovered_at: datetime
    sources: list[SourceConfig] = field(default_factory=list)
    components: list[ComponentConfig] = field(default_factory=list)
    expanded: dict[str, list[SourceConfig]] = field(default_factory=dict)
    lineage: dict[str, list[str]] = field(default_factory=dict)

    def source_ids(self) -> set[str]:
        return {s.id for s in self.sources} | {m.id for members in self.expanded.values() for m in members}


@dataclass(frozen=True)
class Catalog:
    entries: dict[str, Entry] = field(default_factory=dict)
    # Entries that could not be read back (a connection's type changed, a plugin's models
    # did): left out, and rewritten by the next discovery that succeeds.
    problems: tuple[str, ...] = field(default=(), compare=False)


def apply(config: Config, catalog: Catalog) -> Config:
    """`config` with what the catalog found: pure, so every stage that applies it agrees."""
    sources, components = list(config.sources), list(config.components)
    for name, entry in sorted(catalog.entries.items()):
        if name not in config.connections:
            continue
        for group, members in entry.expanded.items():
            if members:  # else the group stays, and collecting it says it matched nothing
                sources = [s for s in sources if s.id != group]
                components = [_expand(c, group, [m.id for m in members]) for c in components]
        taken = {s.id for s in sources}
        added = entry.sources + [m for members in entry.expanded.values() for m in members]
        sources += [s for s in added if s.id not in taken]
        declared = {c.id for c in components}
        components += [c for c in entry.components if c.id not in declared]
    return replace(config, sources=sources, components=components)


def _expand(component: ComponentConfig, group: str, members: list[str]) -> ComponentConfig:
    if group not in component.depends_on:
        return component
    depends_on = [m for dep in component.depends_on for m in (members if dep == group else [dep])]
    return component.model_copy(update={"depends_on": list(dict.fromkeys(depends_on))})


def upstream(config: Config, catalog: Catalog) -> dict[str, frozenset[str]]:
    """Each source's ancestors among `config`'s sources, where its system gave lineage (a dbt
    manifest's parents, kept in the catalog): what lets a component name its root cause."""
    found: dict[str, frozenset[str]] = {}
    for name, entry in catalog.entries.items():
        by_node = {node: s.id for s in config.sources if s.connection == name and (node := getattr(s, "node", None))}
        seen: dict[str, frozenset[str]] = {}

        def ancestors(node: str, path: frozenset[str] = frozenset()) -> frozenset[str]:
            if node not in seen:
                parents = [p for p in entry.lineage.get(node, ()) if p not in path]  # a cycle is not lineage
                seen[node] = frozenset().union(*(ancestors(p, path | {node}) | {p} for p in parents))
            return seen[node]

        for node, source_id in by_node.items():
            found[source_id] = frozenset(by_node[a] for a in ancestors(node) if a in by_node)
    return found
