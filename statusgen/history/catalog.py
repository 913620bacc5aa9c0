"""The catalog's file in history (catalog/catalog.json): what discovery found, saved so that
rendering needs no network. The data itself is statusgen.catalog's."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from statusgen import formats
from statusgen.catalog import Catalog, Entry
from statusgen.config import ComponentConfig, Config, SourceConfig
from statusgen.errors import HistoryError
from statusgen.files import read_text, write_text
from statusgen.history.layout import Layout


def read(layout: Layout, config: Config) -> Catalog:
    """The saved catalog, its sources rebuilt with their collectors' models; empty if none."""
    file = layout.catalog
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


def write(layout: Layout, catalog: Catalog) -> None:
    document = {"version": formats.CATALOG.version, "connections": {name: _json(entry) for name, entry in sorted(catalog.entries.items())}}
    write_text(layout.catalog, json.dumps(document, indent=1, sort_keys=True) + "\n")


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
