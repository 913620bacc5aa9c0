"""dbt: reads the artifacts of a dbt project's latest invocations from its `target/` folder.

- `run_results.json` gives each model's (seed's, snapshot's, test's) latest result; tests
  attached to a model count against it.
- `sources.json` (from `dbt source freshness`) gives each source's `max_loaded_at`, which
  becomes a load event, and dbt's own freshness criteria, used when sources.yaml sets none.
- `manifest.json` ties tests to models, and exposures to what they depend on.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal, Sequence

from pydantic import Field

from statusgen.collectors import Collector, Discovery
from statusgen.config import ComponentConfig, ConnectionConfig, RelativePath, SourceConfig
from statusgen.collectors.timestamps import utc_time
from statusgen.errors import CollectorError
from statusgen.records import Run, SourceReport
from statusgen.status import Freshness, RunState, worse_state

# dbt's result statuses (dbt-core artifacts/schemas/results.py). None: not a data event,
# the previous status holds (`reused` and `no-op` nodes were not rebuilt).
NODE_STATE: dict[str, RunState | None] = {
    "success": RunState.SUCCESS,
    "pass": RunState.SUCCESS,
    "partial success": RunState.WARNING,
    "warn": RunState.WARNING,
    "skipped": RunState.SKIPPED,
    "error": RunState.FAILED,
    "fail": RunState.FAILED,
    "runtime error": RunState.FAILED,
    "reused": None,
    "no-op": None,
}

# What a failing test does to the model it is attached to.
TEST_STATE: dict[str, RunState | None] = {
    "pass": None,
    "skipped": None,
    "warn": RunState.WARNING,
    "fail": RunState.FAILED,
    "error": RunState.FAILED,
}

_PERIOD = {"minute": 60, "hour": 3600, "day": 86400}


class DbtConnection(ConnectionConfig):
    type: Literal["dbt"]
    target_dir: RelativePath = Field(description="The dbt project's target/ folder holding its artifacts.")
    docs_url: str | None = Field(None, pattern=r"^https?://", description="Hosted dbt docs, to link each node.")
    exposures_as_components: bool = Field(False, description="One component per dbt exposure.")
    exposures_group: str = Field("Dashboards and reports", description="Group of the exposure components.")
    max_artifact_mb: int = Field(512, ge=1, description="Larger artifacts are refused, not read.")


class DbtSource(SourceConfig):
    node: str = Field(pattern=r"^(source|model|seed|snapshot|test)\.", description="A dbt unique_id.")


class DbtCollector(Collector):
    type: ClassVar[str] = "dbt"
    Connection = DbtConnection
    Source = DbtSource
    batch_size: ClassVar[int] = 10_000  # every artifact is read once per collection

    def collect(self, sources: Sequence[DbtSource], since, now) -> list[SourceReport]:
        artifacts = _Artifacts(self.connection)
        return [self._report(source, artifacts) for source in sources]

    def _report(self, source: DbtSource, artifacts: _Artifacts) -> SourceReport:
        try:
            if source.node.startswith("source."):
                return self._source_report(source, artifacts)
            return self._node_report(source, artifacts)
        except CollectorError as exc:
            return SourceReport(source.id, error=str(exc))

    def _source_report(self, source: DbtSource, artifacts: _Artifacts) -> SourceReport:
        result = artifacts.results("sources.json").get(source.node)
        if result is None:
            raise CollectorError(f"{source.node} is not in sources.json (run `dbt source freshness`)")
        freshness = _criteria(result.get("criteria") or {})
        if result.get("status") == "runtime error":
            return SourceReport(source.id, error=_first_line(result.get("error")) or "dbt could not check freshness")
        loaded_at = _timestamp(result.get("max_loaded_at"))
        if loaded_at is None:
            return SourceReport(source.id, message="dbt found no loaded rows", freshness=freshness)
        load = Run(source.id, f"loaded@{loaded_at.isoformat()}", RunState.SUCCESS, ended_at=loaded_at, url=self._url(source.node))
        return SourceReport(source.id, runs=[load], freshness=freshness)

    def _node_report(self, source: DbtSource, artifacts: _Artifacts) -> SourceReport:
        results = artifacts.results("run_results.json")
        result = results.get(source.node)
        if result is None:
            return SourceReport(source.id, message="not part of the latest dbt invocation")
        state = NODE_STATE.get(result.get("status"))
        if state is None:
            return SourceReport(source.id, message=f"dbt reported {result.get('status')!r}; nothing was rebuilt")
        problems = [_first_line(result.get("message"))] if state is not RunState.SUCCESS else []
        for test_id in artifacts.tests_of(source.node):
            test = results.get(test_id)
            test_state = TEST_STATE.get(test.get("status")) if test else None
            if test_state is not None:
                state = worse_state(state, test_state)
                problems.append(f"test {artifacts.node_name(test_id)} {test['status']}ed")
        started, ended = _timing(result, artifacts.generated_at("run_results.json"))
        rows = (result.get("adapter_response") or {}).get("rows_affected")
        run = Run(
            source.id,
            artifacts.invocation_id("run_results.json"),
            state,
            started_at=started,
            ended_at=ended,
            url=self._url(source.node),
            rows_loaded=rows if isinstance(rows, int) and rows >= 0 else None,
            message="; ".join(p for p in problems if p) or None,
        )
        return SourceReport(source.id, runs=[run], message=run.message)

    def _url(self, node: str) -> str | None:
        if not self.connection.docs_url:
            return None
        kind = node.split(".", 1)[0]
        return f"{self.connection.docs_url.rstrip('/')}/#!/{kind}/{node}"

    def discover(self, declared: Sequence[DbtSource]) -> Discovery:
        if not self.connection.exposures_as_components:
            return Discovery()
        manifest = _Artifacts(self.connection).manifest()
        by_node = {s.node: s for s in declared}
        sources: list[DbtSource] = []
        components = []
        for exposure in sorted(manifest.get("exposures", {}).values(), key=lambda e: e["unique_id"]):
            upstream = _ancestors(manifest.get("parent_map", {}), exposure["unique_id"])
            ids = []
            for node in sorted(n for n in upstream if n.split(".", 1)[0] in {"source", "model", "snapshot", "seed"}):
                if node not in by_node:
                    by_node[node] = DbtSource(id=node, connection=self.name, node=node)
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
        return Discovery(sources, components)


class _Artifacts:
    """Reads each artifact at most once per collection, remembering why one failed."""

    def __init__(self, connection: DbtConnection):
        self.dir = Path(connection.target_dir)
        self.limit = connection.max_artifact_mb * 1024 * 1024
        self._loaded: dict[str, Any] = {}

    def _load(self, name: str) -> dict:
        if name not in self._loaded:
            try:
                self._loaded[name] = self._read(name)
            except CollectorError as exc:
                self._loaded[name] = exc
        value = self._loaded[name]
        if isinstance(value, CollectorError):
            raise value
        return value

    def _read(self, name: str) -> dict:
        path = self.dir / name
        try:
            if path.stat().st_size > self.limit:
                raise CollectorError(f"{name} is larger than {self.limit // 1024 // 1024} MB")
            data = json.loads(path.read_bytes())
        except FileNotFoundError:
            raise CollectorError(f"{name} not found in the dbt target folder") from None
        except OSError as exc:
            raise CollectorError(f"cannot read {name}: {exc.strerror}") from None
        except ValueError as exc:
            raise CollectorError(f"{name} is not valid JSON: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("metadata"), dict):
            raise CollectorError(f"{name} is not a dbt artifact (no metadata)")
        return data

    def results(self, name: str) -> dict[str, dict]:
        key = f"{name}#results"
        if key not in self._loaded:
            results = self._load(name).get("results")
            if not isinstance(results, list):
                raise CollectorError(f"{name} has no results list")
            self._loaded[key] = {r["unique_id"]: r for r in results if isinstance(r, dict) and "unique_id" in r}
        return self._loaded[key]

    def invocation_id(self, name: str) -> str:
        return str(self._load(name)["metadata"].get("invocation_id") or self.generated_at(name).isoformat())

    def generated_at(self, name: str) -> datetime:
        stamp = _timestamp(self._load(name)["metadata"].get("generated_at"))
        if stamp is None:
            raise CollectorError(f"{name} has no generated_at")
        return stamp

    def manifest(self) -> dict:
        return self._load("manifest.json")

    def tests_of(self, node: str) -> list[str]:
        """Tests attached to `node`. Without a manifest no test counts: the model's own result still does."""
        key = "tests#by-node"
        if key not in self._loaded:
            by_node: dict[str, list[str]] = {}
            try:
                nodes = self.manifest().get("nodes", {})
            except CollectorError:
                nodes = {}
            for unique_id, info in nodes.items():
                if info.get("resource_type") != "test":
                    continue
                attached = info.get("attached_node")
                targets = [attached] if attached else (info.get("depends_on") or {}).get("nodes", [])
                for target in targets:
                    by_node.setdefault(target, []).append(unique_id)
            self._loaded[key] = by_node
        return self._loaded[key].get(node, [])

    def node_name(self, unique_id: str) -> str:
        try:
            return self.manifest()["nodes"][unique_id]["name"]
        except (CollectorError, KeyError):
            return unique_id.split(".")[2] if unique_id.count(".") >= 2 else unique_id


def _ancestors(parent_map: dict[str, list[str]], node: str) -> set[str]:
    seen: set[str] = set()
    stack = list(parent_map.get(node, []))
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(parent_map.get(current, []))
    return seen


def _criteria(criteria: dict) -> Freshness | None:
    def seconds(rule: Any) -> timedelta | None:
        if not isinstance(rule, dict) or not rule.get("count") or rule.get("period") not in _PERIOD:
            return None
        return timedelta(seconds=int(rule["count"]) * _PERIOD[rule["period"]])

    promise = Freshness(seconds(criteria.get("warn_after")), seconds(criteria.get("error_after")))
    return promise if promise.warn_after or promise.error_after else None


def _timing(result: dict, fallback: datetime) -> tuple[datetime | None, datetime]:
    steps = {t.get("name"): t for t in result.get("timing") or [] if isinstance(t, dict)}
    step = steps.get("execute") or steps.get("compile") or {}
    return _timestamp(step.get("started_at")), _timestamp(step.get("completed_at")) or fallback


def _timestamp(value: Any) -> datetime | None:
    try:
        return utc_time(value) if isinstance(value, str) else None
    except ValueError:
        raise CollectorError(f"unreadable timestamp {value[:40]!r} in dbt artifact") from None


def _first_line(message: Any) -> str | None:
    if not isinstance(message, str) or not message.strip():
        return None
    lines = [line.strip() for line in message.strip().splitlines()]
    # dbt puts the node name on the first line and the database's reason on the second.
    text = lines[1] if len(lines) > 1 and lines[0].startswith(("Runtime Error", "Database Error", "Compilation Error")) else lines[0]
    return text[:300]
