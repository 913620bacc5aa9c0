"""dagster: job runs and asset materializations from Dagster's GraphQL API.

One query per collection asks for every watched job and asset at once (one alias each).
GraphQL errors arrive with HTTP 200, so each answer is read by its `__typename`. Run
times are float seconds; materialization timestamps are strings of milliseconds.
An asset's runs are its materializations, plus the failed runs that targeted it.

The same query asks for schedules, where a source has no promise in sources.yaml: a job's
running schedules (every code location's, in one `repositoriesOrError` field), and an
asset's cron freshness policy (`FreshnessPolicy.cron`, Dagster 1.11 and later), else the
running schedules that target it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, Literal, Sequence

from pydantic import Field, SecretStr, model_validator

from statusgen.collectors import Collector
from statusgen.collectors.context import CollectContext, WindowedConnection
from statusgen.collectors.schedules import needs_schedule, with_schedule
from statusgen.config import SourceConfig, did_you_mean
from statusgen.errors import CollectorError
from statusgen.records import Run, Schedule, SourceReport
from statusgen.status import RunState

# DagsterRunStatus.
RUN_STATUS: dict[str, RunState] = {
    "SUCCESS": RunState.SUCCESS,
    "FAILURE": RunState.FAILED,
    "CANCELED": RunState.CANCELLED,
    "CANCELING": RunState.RUNNING,
    "STARTED": RunState.RUNNING,
    "STARTING": RunState.RUNNING,
    "QUEUED": RunState.QUEUED,
    "NOT_STARTED": RunState.QUEUED,
    "MANAGED": RunState.RUNNING,
}
UNSUCCESSFUL_STATUSES = ("FAILURE", "CANCELED")
FINISHED_STATUSES = ("SUCCESS", *UNSUCCESSFUL_STATUSES)
FINISHED = f"[{', '.join(FINISHED_STATUSES)}]"
RUN_FIELDS = "runId status startTime endTime"
SCHEDULE_FIELDS = "cronSchedule executionTimezone scheduleState { status }"
ASSET_SCHEDULES = (
    "definition { internalFreshnessPolicy { __typename ... on CronFreshnessPolicy { deadlineCron lowerBoundDeltaSeconds timezone } } "
    f"targetingInstigators {{ __typename ... on Schedule {{ {SCHEDULE_FIELDS} }} }} }} "
)


class DagsterConnection(WindowedConnection):
    type: Literal["dagster"]
    url: str = Field(pattern=r"^https?://", description="The webserver (http://HOST:3000) or Dagster+ (https://ORG.dagster.cloud/DEPLOYMENT).")
    token: SecretStr | None = Field(None, description="Dagster+ user token (Dagster-Cloud-Api-Token header).")
    max_runs: int = Field(100, ge=1, le=1000, description="Runs (or materializations) read at most per source.")


class DagsterSource(SourceConfig):
    job: str | None = Field(None, min_length=1, description="A job's name.")
    asset: str | None = Field(None, min_length=1, description="An asset key, its parts joined by / (raw/orders).")

    @model_validator(mode="after")
    def _one_selector(self) -> DagsterSource:
        if bool(self.job) == bool(self.asset):
            raise ValueError("give exactly one of job or asset")
        return self


class DagsterCollector(Collector):
    type: ClassVar[str] = "dagster"
    Connection = DagsterConnection
    Source = DagsterSource
    batch_size: ClassVar[int] = 200  # aliases in one query

    def collect(self, sources: Sequence[DagsterSource], context: CollectContext) -> list[SourceReport]:
        c = self.connection
        headers = {"Dagster-Cloud-Api-Token": c.token.get_secret_value()} if c.token else {}
        client = context.api(c.url, headers=headers)
        query, variables = _query(sources, context.read_from.timestamp(), c.max_runs)
        answer = client.post("/graphql", {"query": query, "variables": variables})
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, dict):
            errors = answer.get("errors") if isinstance(answer, dict) else None
            reason = errors[0].get("message", "") if isinstance(errors, list) and errors and isinstance(errors[0], dict) else "no data"
            raise CollectorError(f"{self.name}: GraphQL error: {str(reason)[:200]}")
        failed_for_assets = _failed_asset_runs(data.get("failed"), data.get("latest"))
        job_schedules = _job_schedules(data.get("schedules"))
        reports = [self._report(source, data.get(f"s{i}"), failed_for_assets, job_schedules) for i, source in enumerate(sources)]
        return self._name_missing(client, sources, reports)

    def _name_missing(self, client, sources: Sequence[DagsterSource], reports: list[SourceReport]) -> list[SourceReport]:
        """A misspelt job reads as one that never ran: for jobs with no runs, and assets not
        found, ask once what Dagster has, so sources with runs cost no request more."""
        quiet = [s for s, r in zip(sources, reports) if s.job and not r.runs and not r.error]
        lost = [s for s, r in zip(sources, reports) if s.asset and r.error == _no_asset(s)]
        if not quiet and not lost:
            return reports
        fields = (["repositoriesOrError { __typename ... on RepositoryConnection { nodes { jobs { name } } } }"] if quiet else []) + (
            ["assetNodes { assetKey { path } }"] if lost else [])
        answer = client.post("/graphql", {"query": "{ " + " ".join(fields) + " }"})
        data = (answer.get("data") if isinstance(answer, dict) else None) or {}
        repositories = data.get("repositoriesOrError") or {}
        missing: dict[str, str] = {}
        if repositories.get("__typename") == "RepositoryConnection":  # else nothing is known to be missing
            jobs = {str(j.get("name")) for repo in repositories.get("nodes") or [] for j in repo.get("jobs") or []}
            missing |= {s.id: f"no job named {s.job!r} in Dagster{did_you_mean(s.job, jobs)}" for s in quiet if s.job not in jobs}
        assets = ["/".join(map(str, (n.get("assetKey") or {}).get("path") or [])) for n in data.get("assetNodes") or []]
        missing |= {s.id: _no_asset(s) + did_you_mean(s.asset, assets) for s in lost}
        return [replace(r, error=missing[r.source_id], message=None) if r.source_id in missing else r for r in reports]

    def _report(self, source: DagsterSource, item: Any, failed_for_assets: dict[tuple, list[dict]],
                job_schedules: dict[str, list[Schedule]]) -> SourceReport:
        kind = item.get("__typename") if isinstance(item, dict) else None
        if kind in ("PythonError", "InvalidPipelineRunsFilterError", "AssetNotFoundError"):
            return SourceReport(source.id, error=f"Dagster: {str(item.get('message') or kind)[:200]}")
        if source.job:
            if kind != "Runs":
                return SourceReport(source.id, error=f"Dagster answered {kind!r} for job {source.job}")
            runs = [self._run(r) for r in item.get("results") or []]
        else:
            if kind != "Asset" or not item.get("hasDefinitionOrRecord"):
                return SourceReport(source.id, error=_no_asset(source))
            key = tuple(source.asset.split("/"))
            runs = [self._materialization(m) for m in item.get("assetMaterializations") or []]
            materialized = {r.run_id for r in runs}
            runs += [self._run(r) for r in failed_for_assets.get(key, []) if r["runId"] not in materialized]
            runs += _freshness_verdict(item)
        runs = [replace(r, source_id=source.id) for r in runs]
        report = SourceReport(source.id, runs=runs, message=None if runs else "no finished runs in the window read")
        if not needs_schedule(source):
            return report
        return with_schedule(report, "Dagster", job_schedules.get(source.job, []) if source.job else _asset_schedules(item))

    def _run(self, item: dict[str, Any]) -> Run:
        state = RUN_STATUS.get(item.get("status"))
        if state is None:
            raise CollectorError(f"{self.name}: unknown Dagster run status {str(item.get('status'))[:40]!r}")
        return Run("", item["runId"], state, _seconds(item.get("startTime")), _seconds(item.get("endTime")), self._link(item["runId"]))

    def _materialization(self, item: dict[str, Any]) -> Run:
        at = _millis(item.get("timestamp"))
        run_id = item.get("runId") or f"materialized@{at.isoformat() if at else '?'}"
        return Run("", run_id, RunState.SUCCESS, ended_at=at, url=self._link(run_id) if item.get("runId") else None)

    def _link(self, run_id: str) -> str:
        return f"{self.connection.url.rstrip('/')}/runs/{run_id}"


def _no_asset(source: DagsterSource) -> str:
    return f"no asset named {source.asset!r} in Dagster"


def _query(sources: Sequence[DagsterSource], after: float, limit: int) -> tuple[str, dict[str, Any]]:
    """One GraphQL document, a variable per source so no name is spliced into the text."""
    declared, fields = ["$since: Float"], []
    variables: dict[str, Any] = {"since": after}
    if any(s.asset for s in sources):
        declared.append("$afterMs: String")
        variables["afterMs"] = str(int(after * 1000))
    for i, source in enumerate(sources):
        if source.job:
            declared.append(f"$v{i}: String")
            variables[f"v{i}"] = source.job
            fields.append(
                f"s{i}: runsOrError(filter: {{pipelineName: $v{i}, statuses: {FINISHED}, updatedAfter: $since}}, limit: {limit}) "
                f"{{ __typename ... on Runs {{ results {{ {RUN_FIELDS} }} }} ... on PythonError {{ message }} "
                f"... on InvalidPipelineRunsFilterError {{ message }} }}"
            )
        else:
            declared.append(f"$v{i}: AssetKeyInput!")
            variables[f"v{i}"] = {"path": source.asset.split("/")}
            fields.append(
                f"s{i}: assetOrError(assetKey: $v{i}) {{ __typename ... on Asset {{ hasDefinitionOrRecord "
                f"assetMaterializations(afterTimestampMillis: $afterMs, limit: {limit}) {{ timestamp runId }} "
                f"assetHealth {{ freshnessStatus }} freshnessStatusChangedTimestamp {ASSET_SCHEDULES if needs_schedule(source) else ''}}} "
                f"... on AssetNotFoundError {{ message }} }}"
            )
    if any(s.job and needs_schedule(s) for s in sources):
        fields.append(f"schedules: repositoriesOrError {{ __typename ... on RepositoryConnection {{ nodes {{ schedules {{ pipelineName {SCHEDULE_FIELDS} }} }} }} }}")
    assets = [{"path": s.asset.split("/")} for s in sources if s.asset]
    if assets:
        fields.append(
            f"failed: runsOrError(filter: {{statuses: [FAILURE], updatedAfter: $since}}, limit: {limit}) "
            f"{{ __typename ... on Runs {{ results {{ {RUN_FIELDS} assetSelection {{ path }} }} }} }}"
        )
        # A whole asset job's run has an empty assetSelection: Dagster names it as the asset's latest run.
        declared.append("$assets: [AssetKeyInput!]!")
        variables["assets"] = assets
        fields.append(f"latest: assetsLatestInfo(assetKeys: $assets) {{ assetKey {{ path }} latestRun {{ {RUN_FIELDS} }} }}")
    return f"query Status({', '.join(declared)}) {{ {' '.join(fields)} }}", variables


def _job_schedules(answer: Any) -> dict[str, list[Schedule]]:
    """Each job's running schedules, from every code location."""
    found: dict[str, list[Schedule]] = {}
    if isinstance(answer, dict) and answer.get("__typename") == "RepositoryConnection":
        for repository in answer.get("nodes") or []:
            for schedule in repository.get("schedules") or []:
                found.setdefault(str(schedule.get("pipelineName")), []).extend(_running(schedule))
    return found


def _asset_schedules(asset: dict[str, Any]) -> list[Schedule]:
    """The cron of an asset's freshness policy, its owner's own word on when it is due; else
    the running schedules that materialize it."""
    definition = asset.get("definition") or {}
    policy = definition.get("internalFreshnessPolicy") or {}
    if policy.get("__typename") == "CronFreshnessPolicy" and isinstance(policy.get("deadlineCron"), str):
        # Its ticks are deadlines, not starts: a materialization within the lower bound before one meets it.
        within = timedelta(seconds=int(policy.get("lowerBoundDeltaSeconds") or 0))
        return [Schedule(policy["deadlineCron"], policy.get("timezone") or "UTC", landed_within=within)]
    return [found for s in definition.get("targetingInstigators") or [] if s.get("__typename") == "Schedule" for found in _running(s)]


def _running(schedule: dict[str, Any]) -> list[Schedule]:
    """A schedule's crons if it is running. Dagster takes a list of crons as one schedule and
    answers it as the list's Python text ("['0 2 * * *', '0 14 * * *']")."""
    if (schedule.get("scheduleState") or {}).get("status") != "RUNNING":
        return []
    cron = str(schedule.get("cronSchedule") or "")
    crons = re.findall(r"'([^']*)'", cron) if cron.startswith("[") else [cron]
    return [Schedule(c, schedule.get("executionTimezone") or "UTC") for c in crons if c]


def _failed_asset_runs(failed: Any, latest: Any) -> dict[tuple, list[dict]]:
    """Each asset key's runs that did not materialize it: failed runs that selected it, and
    the run Dagster names as its latest, however it was launched, unless it succeeded: then
    it is a materialization, read in its own window (Dagster names it whatever the window);
    one entry per run id."""
    found: dict[tuple, dict[str, dict]] = {}
    if isinstance(failed, dict) and failed.get("__typename") == "Runs":
        for run in failed.get("results") or []:
            for key in run.get("assetSelection") or []:
                found.setdefault(tuple(key.get("path") or ()), {})[run["runId"]] = run
    for info in latest if isinstance(latest, list) else []:
        run = info.get("latestRun") if isinstance(info, dict) else None
        if isinstance(run, dict) and run.get("status") in UNSUCCESSFUL_STATUSES:
            found.setdefault(tuple((info.get("assetKey") or {}).get("path") or ()), {})[run["runId"]] = run
    return {key: list(runs.values()) for key, runs in found.items()}


# Dagster's own freshness verdict, where the deployment computes asset health (Dagster+).
FRESHNESS: dict[str, RunState] = {"WARNING": RunState.WARNING, "DEGRADED": RunState.FAILED}


def _freshness_verdict(asset: dict[str, Any]) -> list[Run]:
    """A stale verdict becomes a run at the moment Dagster changed it; a fresh one adds nothing."""
    state = FRESHNESS.get((asset.get("assetHealth") or {}).get("freshnessStatus"))
    at = _millis(asset.get("freshnessStatusChangedTimestamp"))
    if state is None or at is None:
        return []
    return [Run("", f"freshness@{at.isoformat()}", state, ended_at=at, message="Dagster marks the asset stale")]


def _seconds(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, timezone.utc) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _millis(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(float(value)) / 1000, timezone.utc)
    except (TypeError, ValueError):
        return None
