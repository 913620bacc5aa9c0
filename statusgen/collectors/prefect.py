"""prefect: flow runs from a Prefect 3 server or Prefect Cloud.

Sources name a deployment (`flow-name/deployment-name`) or a flow (any deployment).
Flow-run records carry ids, not names, so names are resolved first (`/flows/filter`,
`/deployments/filter`), then every watched flow's finished runs come from one paginated
`/flow_runs/filter`, plus one for runs that are Late right now. A deployment's answer also
carries its schedules (`schedules: [{schedule: {cron, timezone}, active}]`): an active cron
one is reported as the source's schedule.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar, Iterator, Literal, Sequence

from pydantic import Field, SecretStr, model_validator

from statusgen.collectors import Collector
from statusgen.collectors.context import CollectContext, WindowedConnection
from statusgen.collectors.schedules import needs_schedule, with_schedule
from statusgen.collectors.timestamps import utc_time_or_none as _time
from statusgen.config import SourceConfig
from statusgen.errors import CollectorError
from statusgen.records import Run, Schedule, SourceReport
from statusgen.status import RunState

# A flow run's state type; the state name refines two of them.
STATE_TYPE: dict[str, RunState] = {
    "COMPLETED": RunState.SUCCESS,
    "FAILED": RunState.FAILED,
    "CRASHED": RunState.FAILED,
    "CANCELLED": RunState.CANCELLED,
    "CANCELLING": RunState.RUNNING,
    "RUNNING": RunState.RUNNING,  # includes "Retrying"
    "PENDING": RunState.QUEUED,
    "SCHEDULED": RunState.QUEUED,
    "PAUSED": RunState.RUNNING,
}
# "Late" is a SCHEDULED run past its start time: nothing is picking it up.
STATE_NAME: dict[str, RunState] = {"Late": RunState.WARNING}
FINISHED_TYPES = ["COMPLETED", "FAILED", "CRASHED", "CANCELLED"]
PAGE_LIMIT = 200  # the server refuses more


class PrefectConnection(WindowedConnection):
    type: Literal["prefect"]
    api_url: str = Field(pattern=r"^https?://", description="http://HOST:4200/api, or Cloud's .../accounts/ID/workspaces/ID.")
    api_key: SecretStr | None = Field(None, description="Prefect Cloud API key (sent as a bearer token).")
    auth_string: SecretStr | None = Field(None, description="Self-hosted basic auth, as user:password.")
    ui_url: str | None = Field(None, pattern=r"^https?://", description="Base of run links, if it cannot be derived.")

    @model_validator(mode="after")
    def _one_way_to_log_in(self) -> PrefectConnection:
        if self.api_key and self.auth_string:
            raise ValueError("give either api_key or auth_string, not both")
        return self


class PrefectSource(SourceConfig):
    deployment: str | None = Field(None, pattern=r"^[^/]+/[^/]+$", description="flow-name/deployment-name.")
    flow: str | None = Field(None, min_length=1, description="A flow's name: its runs from any deployment.")

    @model_validator(mode="after")
    def _one_selector(self) -> PrefectSource:
        if bool(self.deployment) == bool(self.flow):
            raise ValueError("give exactly one of deployment or flow")
        return self

    @property
    def flow_name(self) -> str:
        return self.flow or self.deployment.split("/", 1)[0]


class PrefectCollector(Collector):
    type: ClassVar[str] = "prefect"
    Connection = PrefectConnection
    Source = PrefectSource
    batch_size: ClassVar[int] = 10_000

    def collect(self, sources: Sequence[PrefectSource], context: CollectContext) -> list[SourceReport]:
        c = self.connection
        auth = tuple(c.auth_string.get_secret_value().split(":", 1)) if c.auth_string else None
        headers = {"Authorization": f"Bearer {c.api_key.get_secret_value()}"} if c.api_key else {}
        self.client = context.api(c.api_url, headers=headers, auth=auth)
        flows = {f["name"]: f["id"] for f in self._all("/flows/filter", {"flows": {"name": {"any_": sorted({s.flow_name for s in sources})}}})}
        wanted = sorted({s.deployment.split("/", 1)[1] for s in sources if s.deployment})
        deployments = {}
        if wanted:
            for d in self._all("/deployments/filter", {"deployments": {"name": {"any_": wanted}}, "flows": {"id": {"any_": list(flows.values())}}}):
                deployments[(d.get("flow_id"), d["name"])] = d
        flow_filter = {"id": {"any_": list(flows.values())}}
        finished = {"end_time": {"after_": context.read_from.isoformat()}, "state": {"type": {"any_": FINISHED_TYPES}}}
        late = {"state": {"name": {"any_": list(STATE_NAME)}}}
        runs = []
        if flows:
            for query in (finished, late):
                runs += self._all("/flow_runs/filter", {"flows": flow_filter, "flow_runs": query, "sort": "END_TIME_DESC"})
        reports = []
        for source in sources:
            flow_id = flows.get(source.flow_name)
            if flow_id is None:
                reports.append(SourceReport(source.id, error=f"no flow named {source.flow_name!r}"))
                continue
            if source.deployment:
                deployment = deployments.get((flow_id, source.deployment.split("/", 1)[1]))
                if deployment is None:
                    reports.append(SourceReport(source.id, error=f"no deployment named {source.deployment!r}"))
                    continue
                mine = [r for r in runs if r.get("deployment_id") == deployment["id"]]
            else:
                mine = [r for r in runs if r.get("flow_id") == flow_id]
            found = [replace(run, source_id=source.id) for run in map(self._run, mine) if run is not None]
            if source.deployment and deployment.get("paused"):  # its runs are still its past
                reports.append(SourceReport(source.id, runs=found, paused=True, message=f"Paused in Prefect (deployment {source.deployment})"))
                continue
            report = SourceReport(source.id, runs=found, message=None if found else "no finished runs in the window read")
            # A flow runs from any of its deployments, each on schedules of its own: only a
            # deployment source has one schedule to be judged by.
            if source.deployment and needs_schedule(source):
                report = with_schedule(report, "Prefect", _cron_schedules(deployment))
            reports.append(report)
        return reports

    def _all(self, path: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            page = self.client.post(path, {**body, "limit": PAGE_LIMIT, "offset": offset})
            if not isinstance(page, list) or not all(isinstance(item, dict) for item in page):
                raise CollectorError(f"{self.name}: unexpected answer from {path}: not a list")
            yield from page
            if len(page) < PAGE_LIMIT:
                return
            offset += PAGE_LIMIT

    def _run(self, item: dict[str, Any]) -> Run | None:
        state = item.get("state") or {}
        kind, name = state.get("type") or item.get("state_type"), state.get("name") or item.get("state_name")
        run_state = STATE_NAME.get(name) or STATE_TYPE.get(kind)
        if run_state is None:
            return None
        message = (state.get("message") or "")[:300] or None
        ended = _time(item.get("end_time"))
        if run_state is RunState.WARNING:  # Late: it should have started by now
            ended = _time(item.get("expected_start_time"))
            message = f"late: expected to start at {ended:%Y-%m-%d %H:%M} UTC" if ended else "late"
        return Run("", str(item["id"]), run_state, _time(item.get("start_time")), ended, self._link(item["id"]), message=message)

    def _link(self, run_id: str) -> str:
        return f"{ui_base(self.connection)}/runs/flow-run/{run_id}"


def _cron_schedules(deployment: dict[str, Any]) -> list[Schedule]:
    """A deployment's active cron schedules. Interval and RRule schedules give none: their
    ticks (every 90 minutes from an anchor, RFC 5545 rules) are not a cron's. Nor does a cron
    with `day_or: false`: it ticks only on days both its day fields match, where a five-field
    cron ticks on days either matches."""
    found = []
    for item in deployment.get("schedules") or []:
        schedule = item.get("schedule") if isinstance(item, dict) else None
        if isinstance(schedule, dict) and item.get("active", True) and isinstance(schedule.get("cron"), str) and schedule.get("day_or", True):
            found.append(Schedule(schedule["cron"], schedule.get("timezone") or "UTC"))
    return found


def ui_base(connection: PrefectConnection) -> str:
    """Prefect's UI beside its API: /api dropped on a server; app.prefect.cloud for Cloud."""
    if connection.ui_url:
        return connection.ui_url.rstrip("/")
    api = connection.api_url.rstrip("/")
    if api.startswith("https://api.prefect.cloud/api/accounts/"):
        parts = api.split("/")
        return f"https://app.prefect.cloud/account/{parts[5]}/workspace/{parts[7]}"
    return api.removesuffix("/api")
