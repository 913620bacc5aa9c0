"""The catalog: what discovery found, kept in history so that rendering needs no network.

Some sources stand for others (`include: [sales_*]` in Airflow) and some connections add
components of their own (dbt exposures). Finding them means asking a system, so it happens
in `collect` (see statusgen/discovery.py), never while the config loads. What was found is
saved here, one entry per connection; `render` and every later stage read it back. An entry
is replaced only by a discovery that succeeded, so a system that is down for a while never
makes components vanish: they keep their sources and their bars.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from statusgen import formats
from statusgen.config import ComponentConfig, Config, SourceConfig
from statusgen.errors import HistoryError
from statusgen.files import read_text, write_text
from statusgen.history import Layout


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


def path(history_root: Path) -> Path:
    return Layout(history_root).catalog


def read(history_root: Path, config: Config) -> Catalog:
    """The saved catalog, its sources rebuilt with their collectors' models; empty if none."""
    file = path(history_root)
    try:
        document = json.loads(read_text(file))
    except (FileNotFoundError, NotADirectoryError):  # nothing discovered yet; a bad history is named when written
        return Catalog()
    except (OSError, ValueError) as exc:
        raise HistoryError(f"cannot read {file}: {exc}; delete it and the next collection writes it again") from None
    formats.check("catalog", document.get("version") if isinstance(document, dict) else None, file)
    models = _source_models(config)
    entries, problems = {}, []
    connections = document.get("connections")
    for name, raw in connections.items() if isinstance(connections, dict) else []:
        if name not in models:
            continue  # a connection no longer in sources.yaml: nothing of it is shown
        source = models[name]
        try:
            entries[name] = Entry(
                discovered_at=datetime.fromisoformat(raw["discovered_at"]),
                sources=[source.model_validate(s) for s in raw["sources"]],
                components=[ComponentConfig.model_validate(c) for c in raw["components"]],
                expanded={group: [source.model_validate(m) for m in members] for group, members in raw["expanded"].items()},
                lineage=raw["lineage"],
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:  # pydantic's ValidationError is a ValueError
            problems.append(f"{file}: what connection {name!r} discovered no longer fits its settings "
                            f"({type(exc).__name__}); the next discovery finds it again")
    return Catalog(entries, tuple(problems))


def write(history_root: Path, catalog: Catalog) -> None:
    document = {"version": formats.CATALOG.version, "connections": {name: _json(entry) for name, entry in sorted(catalog.entries.items())}}
    write_text(path(history_root), json.dumps(document, indent=1, sort_keys=True) + "\n")


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


def _source_models(config: Config) -> dict[str, type[SourceConfig]]:
    from statusgen.collectors import registry

    collectors = registry()
    return {name: collectors[c.type].Source for name, c in config.connections.items() if c.type in collectors}


def _json(entry: Entry) -> dict[str, Any]:
    def dump(model) -> dict[str, Any]:
        return model.model_dump(mode="json", exclude_defaults=True)

    return {
        "discovered_at": entry.discovered_at.isoformat(),
        "sources": [dump(s) for s in entry.sources],
        "components": [dump(c) for c in entry.components],
        "expanded": {group: [dump(m) for m in members] for group, members in entry.expanded.items()},
        "lineage": entry.lineage,
    }
