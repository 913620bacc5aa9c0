"""dbt: the artifacts of a dbt project's latest invocations, from its `target/` folder.

The artifacts' meaning lives in dbt_artifacts (shared with dbt_cloud); this module adds
the folder, links into hosted dbt docs, and exposures as components.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal, Sequence

from pydantic import Field

from statusgen.collectors import Collector, Discovery
from statusgen.collectors.context import CollectContext, Context
from statusgen.collectors.dbt_artifacts import (
    NODE_ID_PATTERN,
    Artifacts,
    ancestors,
    folder_reader,
    report,
)
from statusgen.config import (
    ComponentConfig,
    ConnectionConfig,
    RelativePath,
    SourceConfig,
)
from statusgen.records import SourceReport


class DbtConnection(ConnectionConfig):
    type: Literal["dbt"]
    target_dir: RelativePath = Field(description="The dbt project's target/ folder holding its artifacts.")
    docs_url: str | None = Field(None, pattern=r"^https?://", description="Hosted dbt docs, to link each node.")
    exposures_as_components: bool = Field(False, description="One component per dbt exposure.")
    exposures_group: str = Field("Dashboards and reports", description="Group of the exposure components.")
    max_artifact_mb: int = Field(512, ge=1, description="Larger artifacts are refused, not read.")


class DbtSource(SourceConfig):
    node: str = Field(pattern=NODE_ID_PATTERN, description="A dbt unique_id.")


class DbtCollector(Collector):
    type: ClassVar[str] = "dbt"
    Connection = DbtConnection
    Source = DbtSource
    batch_size: ClassVar[int] = 10_000  # every artifact is read once per collection

    def collect(self, sources: Sequence[DbtSource], context: CollectContext) -> list[SourceReport]:
        artifacts = self._artifacts()
        return [report(source.id, source.node, artifacts, self._url(source.node)) for source in sources]

    def _artifacts(self) -> Artifacts:
        return Artifacts(folder_reader(Path(self.connection.target_dir), self.connection.max_artifact_mb * 1024 * 1024))

    def _url(self, node: str) -> str | None:
        if not self.connection.docs_url:
            return None
        kind = node.split(".", 1)[0]
        return f"{self.connection.docs_url.rstrip('/')}/#!/{kind}/{node}"

    def discover(self, declared: Sequence[DbtSource], context: Context) -> Discovery:
        if not self.connection.exposures_as_components:
            return Discovery()
        manifest = self._artifacts().manifest()
        by_node = {s.node: s for s in declared}
        sources: list[DbtSource] = []
        components = []
        parents = manifest.get("parent_map", {})
        lineage: dict[str, list[str]] = {}
        for exposure in sorted(manifest.get("exposures", {}).values(), key=lambda e: e["unique_id"]):
            upstream = ancestors(parents, exposure["unique_id"])
            lineage.update({node: sorted(parents.get(node, [])) for node in upstream | {exposure["unique_id"]}})
            ids = []
            for node in sorted(n for n in upstream if n.split(".", 1)[0] in {"source", "model", "snapshot", "seed"} and _built(manifest, n)):
                if node not in by_node:
                    by_node[node] = DbtSource(id=node, connection=self.name, node=node, name=_display_name(manifest, node))
                    sources.append(by_node[node])
                ids.append(by_node[node].id)
            if not ids:
                continue
            owner = exposure.get("owner") or {}
            components.append(
                ComponentConfig(
                    id=exposure["name"],
                    name=exposure.get("label") or exposure["name"],
                    group=self.connection.exposures_group,
                    description=exposure.get("description") or "",
                    owner=owner.get("name") or owner.get("email") or "",
                    url=exposure.get("url") if str(exposure.get("url") or "").startswith(("http://", "https://")) else None,
                    depends_on=ids,
                )
            )
        return Discovery(sources, components, lineage=lineage)


def _built(manifest: dict, node: str) -> bool:
    """Whether dbt runs `node` itself: an ephemeral model is inlined into the models over it and
    has no result of its own, so as a source it would be unknown for ever; its parents stand
    for it among an exposure's sources."""
    config = ((manifest.get("nodes") or {}).get(node) or {}).get("config") or {}
    return config.get("materialized") != "ephemeral"


def _display_name(manifest: dict, node: str) -> str:
    """What dbt calls `node`: a model's name (`marketing_roi`), a source's `raw.orders`, so a
    discovered node reads like a declared one rather than as its unique_id."""
    source = (manifest.get("sources") or {}).get(node) or {}
    if source.get("source_name") and source.get("name"):
        return f"{source['source_name']}.{source['name']}"
    return ((manifest.get("nodes") or {}).get(node) or {}).get("name") or node
