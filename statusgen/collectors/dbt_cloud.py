"""dbt_cloud: job runs from dbt Cloud's Administrative API (v2), and the nodes inside them.

A source is a job (its runs), or one node of a job (`node:` a unique_id), read from the
artifacts of the job's latest finished run that saved them, exactly as the dbt collector
reads a target/ folder. The artifact endpoint without `step` answers with the last step's
file, and dbt Cloud ends a run with "generate docs", which compiles every node: so each
step that ran a dbt command that builds or tests (the run's `run_steps`) is read on its
own, and a node's result is its latest over them.
"""

from __future__ import annotations

import shlex
from dataclasses import replace
from typing import Any, ClassVar, Literal, Sequence
from urllib.parse import quote

from pydantic import Field, SecretStr

from statusgen.collectors import Collector
from statusgen.collectors.api import ApiClient
from statusgen.collectors.context import CollectContext
from statusgen.collectors.dbt_artifacts import NODE_ID_PATTERN, Artifacts, report
from statusgen.collectors.timestamps import utc_time_or_none as _time
from statusgen.config import ConnectionConfig, SourceConfig
from statusgen.errors import CollectorError
from statusgen.records import Run, SourceReport
from statusgen.status import RunState

# dbt Cloud run status codes.
RUN_STATUS: dict[int, RunState] = {
    1: RunState.QUEUED,  # Queued
    2: RunState.QUEUED,  # Starting
    3: RunState.RUNNING,  # Running
    10: RunState.SUCCESS,  # Success
    20: RunState.FAILED,  # Error
    30: RunState.CANCELLED,  # Cancelled
}
FINISHED = {10, 20, 30}
STEP_RAN = {10, 20}  # a step that succeeded or failed wrote its artifacts; a cancelled one may not have

# The dbt commands whose steps are read, by the artifact they write; compile and docs
# generate write run_results too, but of compiling, so they would say every node succeeded.
STEP_ARTIFACT = {
    ("build",): "run_results.json",
    ("run",): "run_results.json",
    ("test",): "run_results.json",
    ("seed",): "run_results.json",
    ("snapshot",): "run_results.json",
    ("source", "freshness"): "sources.json",
    ("source", "snapshot-freshness"): "sources.json",  # its name before dbt 0.21
}


class DbtCloudConnection(ConnectionConfig):
    type: Literal["dbt_cloud"]
    account_id: int = Field(ge=1)
    token: SecretStr = Field(description="A service token with read access to jobs and runs.")
    url: str = Field("https://cloud.getdbt.com", pattern=r"^https?://", description="Your access URL, e.g. https://ACCOUNT.us1.dbt.com.")
    max_runs: int = Field(20, ge=1, le=100, description="The latest runs read per job.")


class DbtCloudSource(SourceConfig):
    job_id: int = Field(ge=1)
    node: str | None = Field(None, pattern=NODE_ID_PATTERN, description="A unique_id in the job's artifacts.")


class DbtCloudCollector(Collector):
    type: ClassVar[str] = "dbt_cloud"
    Connection = DbtCloudConnection
    Source = DbtCloudSource
    batch_size: ClassVar[int] = 10_000  # one run listing per job serves all its sources

    def collect(self, sources: Sequence[DbtCloudSource], context: CollectContext) -> list[SourceReport]:
        c = self.connection
        client = context.api(c.url, headers={"Authorization": f"Token {c.token.get_secret_value()}"})
        account = f"/api/v2/accounts/{c.account_id}"
        reports = []
        for job_id in sorted({s.job_id for s in sources}):
            mine = [s for s in sources if s.job_id == job_id]
            try:
                reports += self._job(client, account, job_id, mine)
            except CollectorError as exc:  # this job's answer only: the connection's other jobs stand
                reports += [SourceReport(s.id, error=str(exc)) for s in mine]
        return reports

    def _job(self, client: ApiClient, account: str, job_id: int, sources: list[DbtCloudSource]) -> list[SourceReport]:
        items = self._runs(client, account, job_id)
        runs = [_run(item) for item in items]
        finished = [i for i in items if i.get("status") in FINISHED]  # newest first
        # A run that saved no artifacts (cancelled, or failed before dbt ran) says nothing
        # about the nodes: they keep what the latest run that saved some said.
        saved = next((i for i in finished if i.get("artifacts_saved") is not False), None)
        artifacts: Artifacts | CollectorError | None = None
        if saved and any(s.node for s in sources):
            try:
                artifacts = self._artifacts(client, account, saved)
            except CollectorError as exc:  # the job's own runs were read: only its nodes are unknown
                artifacts = exc
        reports = []
        for source in sources:
            if source.node is None:
                reports.append(SourceReport(source.id, runs=[replace(r, source_id=source.id) for r in runs]))
            elif isinstance(artifacts, CollectorError):
                reports.append(SourceReport(source.id, error=str(artifacts)))
            elif artifacts is None:
                why = f"no finished run of job {job_id} saved artifacts" if finished else f"job {job_id} has no finished run yet"
                reports.append(SourceReport(source.id, message=why))
            else:
                reports.append(report(source.id, source.node, artifacts, saved.get("href")))
        return reports

    def _runs(self, client: ApiClient, account: str, job_id: int) -> list[dict[str, Any]]:
        params = {"job_definition_id": job_id, "order_by": "-id", "limit": self.connection.max_runs}
        answer = client.get(f"{account}/runs/", params)
        items = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(items, list) or not all(isinstance(i, dict) and "id" in i for i in items):
            raise CollectorError(f"{self.name}: unexpected answer listing runs of job {job_id}")
        return items

    def _artifacts(self, client: ApiClient, account: str, run: dict[str, Any]) -> Artifacts:
        """The run's artifacts, step by step (a step is named like "Invoke dbt with `dbt build`")."""
        answer = client.get(f"{account}/runs/{run['id']}/", {"include_related": '["run_steps"]'})
        data = answer.get("data") if isinstance(answer, dict) else None
        steps = data.get("run_steps") if isinstance(data, dict) else None
        if not isinstance(steps, list) or not all(isinstance(s, dict) and isinstance(s.get("index"), int) for s in steps):
            raise CollectorError(f"{self.name}: unexpected answer reading the steps of dbt Cloud run {run['id']}")
        where: dict[str, tuple[str, int | None]] = {}
        read_by_kind: dict[str, list[str]] = {"run_results.json": [], "sources.json": [], "manifest.json": []}
        for step in sorted(steps, key=lambda s: s["index"]):
            artifact = STEP_ARTIFACT.get(_command(step.get("name")))
            if artifact is None or step.get("status") not in STEP_RAN:
                continue
            for name in (artifact, "manifest.json"):
                label = f"{name} (step {step['index']})"
                where[label] = (name, step["index"])
                read_by_kind[name].append(label)
        return Artifacts(
            _artifact_reader(client, account, run, where),
            run_results=read_by_kind["run_results.json"],
            # Without a freshness step, whatever sources.json the endpoint gives for the run.
            sources=(read_by_kind["sources.json"] or ["sources.json"])[-1],
            manifest=(read_by_kind["manifest.json"] or ["manifest.json"])[-1],
        )


def _command(step_name: Any) -> tuple[str, ...]:
    """The dbt subcommand a step ran, ("source", "freshness"), from its name
    ("Invoke dbt with `dbt source freshness --select x`"); () for any other step."""
    quoted = str(step_name or "").partition("`")[2].partition("`")[0]
    try:
        words = [w for w in shlex.split(quoted) if not w.startswith("-")]
    except ValueError:
        return ()
    if words[:1] != ["dbt"]:
        return ()
    return tuple(words[1:3]) if words[1:2] == ["source"] else tuple(words[1:2])


def _artifact_reader(client: ApiClient, account: str, run: dict[str, Any], where: dict[str, tuple[str, int | None]]):
    """Reads the artifacts Artifacts names: `run_results.json (step 4)` is step 4's file."""

    def read(label: str) -> Any:
        name, step = where.get(label, (label, None))
        try:
            return client.get(f"{account}/runs/{run['id']}/artifacts/{quote(name)}", {"step": step} if step else None)
        except CollectorError as exc:
            raise CollectorError(f"{label} of dbt Cloud run {run['id']}: {exc}") from None

    return read


def _run(item: dict[str, Any]) -> Run:
    state = RUN_STATUS.get(item.get("status"))
    if state is None:
        raise CollectorError(f"unknown dbt Cloud run status {str(item.get('status'))[:20]!r}")
    url = item.get("href") if str(item.get("href") or "").startswith("https://") else None
    message = (item.get("status_message") or "")[:300] or None
    return Run("", str(item["id"]), state, _time(item.get("started_at")), _time(item.get("finished_at")), url, message=message)
