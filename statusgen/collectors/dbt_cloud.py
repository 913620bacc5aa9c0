"""dbt_cloud: job runs from dbt Cloud's Administrative API (v2), and the nodes inside them.

A source is a job (its runs), or one node of a job (`node:` a unique_id), read from the
artifacts of the job's latest finished run exactly as the dbt collector reads a target/
folder.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar, Literal, Sequence
from urllib.parse import quote

from pydantic import Field, SecretStr

from statusgen.collectors import Collector
from statusgen.collectors.api import ApiClient
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

    def collect(self, sources: Sequence[DbtCloudSource], since, now) -> list[SourceReport]:
        c = self.connection
        client = self.api(c.url, headers={"Authorization": f"Token {c.token.get_secret_value()}"})
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
        finished = next((i for i in items if i.get("status") in FINISHED), None)  # newest first
        artifacts = Artifacts(_artifact_reader(client, account, finished)) if finished else None
        reports = []
        for source in sources:
            if source.node is None:
                reports.append(SourceReport(source.id, runs=[replace(r, source_id=source.id) for r in runs]))
            elif artifacts is None:
                reports.append(SourceReport(source.id, message=f"job {job_id} has no finished run yet"))
            else:
                reports.append(report(source.id, source.node, artifacts, finished.get("href")))
        return reports

    def _runs(self, client: ApiClient, account: str, job_id: int) -> list[dict[str, Any]]:
        params = {"job_definition_id": job_id, "order_by": "-id", "limit": self.connection.max_runs}
        answer = client.get(f"{account}/runs/", params)
        items = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(items, list) or not all(isinstance(i, dict) and "id" in i for i in items):
            raise CollectorError(f"{self.name}: unexpected answer listing runs of job {job_id}")
        return items


def _artifact_reader(client: ApiClient, account: str, run: dict[str, Any]):
    def read(name: str) -> Any:
        try:
            return client.get(f"{account}/runs/{run['id']}/artifacts/{quote(name)}")
        except CollectorError as exc:
            raise CollectorError(f"{name} of dbt Cloud run {run['id']}: {exc}") from None

    return read


def _run(item: dict[str, Any]) -> Run:
    state = RUN_STATUS.get(item.get("status"))
    if state is None:
        raise CollectorError(f"unknown dbt Cloud run status {str(item.get('status'))[:20]!r}")
    url = item.get("href") if str(item.get("href") or "").startswith("https://") else None
    message = (item.get("status_message") or "")[:300] or None
    return Run("", str(item["id"]), state, _time(item.get("started_at")), _time(item.get("finished_at")), url, message=message)
