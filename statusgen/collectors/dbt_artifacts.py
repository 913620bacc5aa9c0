"""dbt artifacts → runs: the logic the dbt and dbt_cloud collectors share.

- `run_results.json` gives each model's (seed's, snapshot's, test's) latest result; tests
  attached to a model count against it. A dbt Cloud run writes one per step: a node's
  result is its latest.
- `sources.json` (from `dbt source freshness`) gives each source's `max_loaded_at`, which
  becomes a load event, and dbt's own freshness criteria, used when sources.yaml sets none.
- `manifest.json` ties tests to models, and exposures to what they depend on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Sequence

from statusgen.collectors.timestamps import utc_time
from statusgen.config import did_you_mean
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

# The nodes a source can follow, by the prefix of their unique_id.
NODE_ID_PATTERN = r"^(source|model|seed|snapshot|test)\."
_PERIOD = {"minute": 60, "hour": 3600, "day": 86400}


def report(source_id: str, node: str, artifacts: Artifacts, url: str | None) -> SourceReport:
    """The report of one dbt node; a problem with an artifact makes it unknown."""
    try:
        found = source_report(source_id, node, artifacts, url) if node.startswith("source.") else node_report(source_id, node, artifacts, url)
    except CollectorError as exc:
        found = SourceReport(source_id, error=str(exc))
    # A misspelt node reads as one dbt did not run: only a node with no result is looked up.
    missing = _missing(node, artifacts) if not found.runs else None
    return SourceReport(source_id, error=missing) if missing else found


def _missing(node: str, artifacts: Artifacts) -> str | None:
    """Why `node` has no result when the manifest does not have it; None when it does, or has none."""
    try:
        manifest = artifacts.manifest()
    except CollectorError:
        return None
    known = [*(manifest.get("nodes") or {}), *(manifest.get("sources") or {})]
    if not known or node in known:
        return None
    return f"no dbt node named {node!r} in the manifest{did_you_mean(node, known)}"


def source_report(source_id: str, node: str, artifacts: Artifacts, url: str | None) -> SourceReport:
    result = artifacts.freshness().get(node)
    if result is None:
        raise CollectorError(f"{node} is not in sources.json (run `dbt source freshness`)")
    freshness = _criteria(result.get("criteria") or {})
    if result.get("status") == "runtime error":
        return SourceReport(source_id, error=_first_line(result.get("error")) or "dbt could not check freshness")
    loaded_at = _timestamp(result.get("max_loaded_at"))
    if loaded_at is None:
        return SourceReport(source_id, message="dbt found no loaded rows", freshness=freshness)
    load = Run(source_id, f"loaded@{loaded_at.isoformat()}", RunState.SUCCESS, ended_at=loaded_at, url=url)
    # The load itself succeeded; dbt's verdict on its age is the reason a page shows it late.
    verdict = _verdict(result, loaded_at) if result.get("status") in ("warn", "error") else None
    return SourceReport(source_id, runs=[load], freshness=freshness, message=verdict)


def _verdict(result: dict, loaded_at: datetime) -> str:
    checked = _timestamp(result.get("snapshotted_at"))
    criteria = result.get("criteria") or {}
    rules = [f"{word} after {_period(criteria.get(key))}" for word, key in (("warn", "warn_after"), ("error", "error_after")) if _period(criteria.get(key))]
    return "".join([
        f"dbt source freshness: {result['status']}, last loaded {_minute(loaded_at)}",
        f" (checked {_minute(checked)})" if checked else "",
        f"; {', '.join(rules)}" if rules else "",
    ])


def _period(rule: Any) -> str | None:
    """A dbt freshness rule in dbt's own words, `2 days`; None when it sets none."""
    count, period = _rule(rule)
    return f"{count} {period}{'' if count == 1 else 's'}" if count else None


def _minute(value: datetime) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC"


def node_report(source_id: str, node: str, artifacts: Artifacts, url: str | None) -> SourceReport:
    found = artifacts.node_results().get(node)
    if found is None:
        return SourceReport(source_id, message="not part of the latest dbt invocation")
    result = found.fields
    state = NODE_STATE.get(result.get("status"))
    if state is None:
        return SourceReport(source_id, message=f"dbt reported {result.get('status')!r}; nothing was rebuilt")
    started, ended = found.timing()
    rows = (result.get("adapter_response") or {}).get("rows_affected")
    build = Run(
        source_id,
        found.invocation_id,
        state,
        started_at=started,
        ended_at=ended,
        url=url,
        rows_loaded=rows if isinstance(rows, int) and rows >= 0 else None,
        message=_first_line(result.get("message")) if state is not RunState.SUCCESS else None,
    )
    runs = [build, *_tests_run(source_id, node, artifacts, url)]
    return SourceReport(source_id, runs=runs, message="; ".join(r.message for r in runs if r.message) or None)


def _tests_run(source_id: str, node: str, artifacts: Artifacts, url: str | None) -> list[Run]:
    """The tests of `node` that warned or failed, as one run of their own: they make the node
    degraded or failing, while its last success stays the build that succeeded."""
    results = artifacts.node_results()
    state, problems, counted = None, [], []
    for test_id in artifacts.tests_of(node):
        test = results.get(test_id)
        test_state = TEST_STATE.get(test.fields.get("status")) if test else None
        if test_state is None:
            continue
        state = test_state if state is None else worse_state(state, test_state)
        problems.append(f"test {artifacts.node_name(test_id)} {test.fields['status']}ed")
        counted.append((*test.timing(), test.invocation_id))
    if state is None:
        return []
    started = min((start for start, _, _ in counted if start), default=None)
    _, ended, invocation = max(counted, key=lambda test: test[1])
    return [Run(source_id, f"{invocation}/tests", state, started_at=started, ended_at=ended, url=url, message="; ".join(problems))]


def folder_reader(folder: Path, limit_bytes: int) -> Callable[[str], Any]:
    """Reads artifacts from a dbt target/ folder, refusing any larger than `limit_bytes`."""

    def read(name: str) -> Any:
        path = folder / name
        try:
            if path.stat().st_size > limit_bytes:
                raise CollectorError(f"{name} is larger than {limit_bytes // 1024 // 1024} MB")
            return json.loads(path.read_bytes())
        except FileNotFoundError:
            raise CollectorError(f"{name} not found in the dbt target folder {folder}") from None
        except OSError as exc:
            raise CollectorError(f"cannot read {name}: {exc.strerror}") from None
        except ValueError as exc:
            raise CollectorError(f"{name} is not valid JSON: {exc}") from None

    return read


@dataclass(frozen=True)
class NodeResult:
    """One node's result as dbt wrote it, with the invocation that wrote it."""

    fields: dict
    invocation_id: str
    generated_at: datetime

    def timing(self) -> tuple[datetime | None, datetime]:
        """When it started (if dbt says) and ended (else when its artifact was written)."""
        return _timing(self.fields, self.generated_at)


class Artifacts:
    """The artifacts of a dbt project's latest invocations, each read at most once,
    remembering why one failed.

    `read(name)` fetches an artifact (from a target/ folder, or from dbt Cloud) by the names
    given here: `run_results` lists the run_results of the steps in the order they ran (a
    target/ folder holds one; a dbt Cloud run one per step that ran dbt).
    """

    def __init__(
        self,
        read: Callable[[str], Any],
        run_results: Sequence[str] = ("run_results.json",),
        sources: str = "sources.json",
        manifest: str = "manifest.json",
    ):
        self.read = read
        self.run_results, self.sources, self.manifest_name = tuple(run_results), sources, manifest
        self._loaded: dict[str, Any] = {}

    def _load(self, name: str) -> dict:
        if name not in self._loaded:
            try:
                data = self.read(name)
                if not isinstance(data, dict) or not isinstance(data.get("metadata"), dict):
                    raise CollectorError(f"{name} is not a dbt artifact (no metadata)")
                self._loaded[name] = data
            except CollectorError as exc:
                self._loaded[name] = exc
        value = self._loaded[name]
        if isinstance(value, CollectorError):
            raise value
        return value

    def _results(self, name: str) -> dict[str, dict]:
        key = f"{name}#results"
        if key not in self._loaded:
            results = self._load(name).get("results")
            if not isinstance(results, list):
                raise CollectorError(f"{name} has no results list")
            self._loaded[key] = {r["unique_id"]: r for r in results if isinstance(r, dict) and "unique_id" in r}
        return self._loaded[key]

    def freshness(self) -> dict[str, dict]:
        """Each source's result in sources.json, by unique_id."""
        return self._results(self.sources)

    def node_results(self) -> dict[str, NodeResult]:
        """Each node's latest result over the steps, by unique_id. A later step that reused a
        node (`reused`, `no-op`) does not hide the result of the step that built it."""
        key = "run_results#merged"
        if key not in self._loaded:
            merged: dict[str, NodeResult] = {}
            for name in self.run_results:
                invocation, generated = self._invocation_id(name), self._generated_at(name)
                for unique_id, fields in self._results(name).items():
                    if unique_id not in merged or NODE_STATE.get(fields.get("status")) is not None:
                        merged[unique_id] = NodeResult(fields, invocation, generated)
            self._loaded[key] = merged
        return self._loaded[key]

    def _invocation_id(self, name: str) -> str:
        return str(self._load(name)["metadata"].get("invocation_id") or self._generated_at(name).isoformat())

    def _generated_at(self, name: str) -> datetime:
        stamp = _timestamp(self._load(name)["metadata"].get("generated_at"))
        if stamp is None:
            raise CollectorError(f"{name} has no generated_at")
        return stamp

    def manifest(self) -> dict:
        return self._load(self.manifest_name)

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


def ancestors(parent_map: dict[str, list[str]], node: str) -> set[str]:
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
        count, period = _rule(rule)
        return timedelta(seconds=count * _PERIOD[period]) if count else None

    promise = Freshness(seconds(criteria.get("warn_after")), seconds(criteria.get("error_after")))
    return promise if promise.warn_after or promise.error_after else None


def _rule(rule: Any) -> tuple[int, str]:
    """A dbt freshness rule ({count, period}) as (count, period); (0, "") when it sets none."""
    if not isinstance(rule, dict) or not rule.get("count") or rule.get("period") not in _PERIOD:
        return 0, ""
    return int(rule["count"]), rule["period"]


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
