"""airflow: DAG runs (or one task's runs) from Airflow's REST API.

Airflow 3 serves `/api/v2` (a JWT from `POST /auth/token`, or a given token); Airflow 2
serves `/api/v1` (basic auth or a bearer token). Their run payloads are alike, so one
code path reads both; the differences sit in `_VERSIONS`.

Requests do not grow with the number of DAGs one by one: every watched DAG's runs come
from one paginated batch call (the `~` "all DAGs" route), filtered to runs that ended
since the previous collection, so a skipped collection still reads the runs it missed.
The DAG list, read once per collection, says which DAGs are paused and each DAG's
schedule (its timetable), reported as a fact the promise is derived from (statusgen.schedules).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from fnmatch import fnmatchcase
from typing import Any, ClassVar, Iterator, Literal, Sequence
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, model_validator

from statusgen.collectors import Collector, Discovery
from statusgen.collectors.api import ApiClient
from statusgen.collectors.context import CollectContext, Context, WindowedConnection
from statusgen.collectors.schedules import needs_schedule
from statusgen.collectors.timestamps import utc_time_or_none as _time
from statusgen.config import SourceConfig, did_you_mean
from statusgen.deadlines import Deadline, cron_problem
from statusgen.errors import CollectorError, NotFoundError
from statusgen.records import Run, Schedule, SourceReport
from statusgen.status import RunState

# DagRunState (both API versions).
DAG_RUN_STATE: dict[str, RunState] = {
    "success": RunState.SUCCESS,
    "failed": RunState.FAILED,
    "running": RunState.RUNNING,
    "queued": RunState.QUEUED,
}

# TaskInstanceState. None: not a data event (a branch not taken, a removed task).
TASK_STATE: dict[str, RunState | None] = {
    "success": RunState.SUCCESS,
    "failed": RunState.FAILED,
    "upstream_failed": RunState.SKIPPED,  # did not run because something before it failed
    "shutdown": RunState.FAILED,  # Airflow 2 only
    "skipped": None,
    "removed": None,
    "up_for_retry": RunState.RUNNING,
    "up_for_reschedule": RunState.RUNNING,
    "restarting": RunState.RUNNING,
    "deferred": RunState.RUNNING,
    "running": RunState.RUNNING,
    "awaiting_input": RunState.RUNNING,
    "scheduled": RunState.QUEUED,
    "queued": RunState.QUEUED,
}
FINISHED_TASK_STATES = ["success", "failed", "upstream_failed", "skipped"]


@dataclass(frozen=True)
class _Version:
    prefix: str
    run_page: str  # the run's page in the Airflow UI
    task_page: str
    other: str  # what a list route answering 404 means: the server speaks the other version


_VERSIONS = {
    2: _Version("/api/v2", "/dags/{dag}/runs/{run}", "/dags/{dag}/runs/{run}/tasks/{task}", " (for Airflow 2, write api_version: 1)"),
    1: _Version("/api/v1", "/dags/{dag}/grid?dag_run_id={run}", "/dags/{dag}/grid?dag_run_id={run}&task_id={task}",
                " (for Airflow 3, write api_version: 2)"),
}


class AirflowConnection(WindowedConnection):
    type: Literal["airflow"]
    url: str = Field(pattern=r"^https?://", description="Airflow's base URL, e.g. https://airflow.example.com.")
    api_version: Literal[1, 2] = Field(2, description="2 for Airflow 3 (/api/v2), 1 for Airflow 2 (/api/v1).")
    username: str | None = Field(None, description="With password: a JWT (v2) or basic auth (v1).")
    password: SecretStr | None = None
    token: SecretStr | None = Field(None, description="A bearer token, instead of username and password.")
    ui_url: str | None = Field(None, pattern=r"^https?://", description="Base of run links, if not `url`.")
    page_size: int = Field(100, ge=1, le=1000, description="Items per page; Airflow's default cap is 100.")

    @model_validator(mode="after")
    def _one_way_to_log_in(self) -> AirflowConnection:
        if self.token and (self.username or self.password):
            raise ValueError("give either token, or username and password, not both")
        if bool(self.username) != bool(self.password):
            raise ValueError("username and password go together")
        return self


class AirflowSource(SourceConfig):
    dag_id: str | None = Field(None, min_length=1, description="The DAG whose runs this source follows.")
    task_id: str | None = Field(None, description="Follow one task's runs instead (the task that loads a table).")
    include: list[str] = Field([], description="Instead of dag_id: every DAG whose id matches one of these globs.")
    exclude: list[str] = Field([], description="With include or tags: leave out DAGs matching these globs.")
    tags: list[str] = Field([], description="Instead of dag_id, or with include: DAGs carrying any of these tags.")

    @model_validator(mode="after")
    def _one_selector(self) -> AirflowSource:
        if bool(self.dag_id) == bool(self.include or self.tags):
            raise ValueError("give dag_id, or include and/or tags to discover DAGs")
        return self

    def matches(self, dag: dict[str, Any]) -> bool:
        dag_id = str(dag.get("dag_id", ""))
        tags = {t.get("name") if isinstance(t, dict) else t for t in dag.get("tags") or []}
        included = (not self.include or any(fnmatchcase(dag_id, p) for p in self.include)) and (not self.tags or tags & set(self.tags))
        return bool(included) and not any(fnmatchcase(dag_id, p) for p in self.exclude)


class AirflowCollector(Collector):
    type: ClassVar[str] = "airflow"
    Connection = AirflowConnection
    Source = AirflowSource
    batch_size: ClassVar[int] = 10_000  # one batch call serves every DAG

    @classmethod
    def stands_for_others(cls, source: AirflowSource) -> bool:
        return not source.dag_id

    def discover(self, declared: Sequence[AirflowSource], context: Context) -> Discovery:
        """Each source given by include/tags stands for the DAGs that match it now."""
        groups = [s for s in declared if self.stands_for_others(s)]
        if not groups:
            return Discovery()
        self._connect(context)
        dags = list(self._pages("/dags", "dags", {}, method="GET"))
        expanded = {}
        for group in groups:
            expanded[group.id] = [
                AirflowSource(id=f"{group.id}.{dag['dag_id']}", name=dag.get("dag_display_name") or dag["dag_id"],
                              connection=group.connection, dag_id=dag["dag_id"], task_id=group.task_id, freshness=group.freshness)
                for dag in sorted(dags, key=lambda d: str(d.get("dag_id"))) if group.matches(dag)
            ]
        return Discovery(expanded=expanded)

    def _connect(self, context: Context) -> None:
        self.version = _VERSIONS[self.connection.api_version]
        self.client = self._client(context)
        self._server_zone: str | None = None  # read when a DAG first needs it

    def collect(self, sources: Sequence[AirflowSource], context: CollectContext) -> list[SourceReport]:
        self._connect(context)
        ended_after = context.read_from
        undiscovered = [s for s in sources if self.stands_for_others(s)]
        sources = [s for s in sources if not self.stands_for_others(s)]
        dags = {str(dag.get("dag_id")): dag for dag in self._pages("/dags", "dags", {}, method="GET")}
        paused = {dag_id for dag_id, dag in dags.items() if dag.get("is_paused")}
        schedules = {s.dag_id: self._schedule(dags[s.dag_id]) for s in sources if s.dag_id in dags and not s.task_id and needs_schedule(s)}
        dag_runs: dict[str, list[Run]] = {}
        for item in self._pages("/dags/~/dagRuns/list", "dag_runs", {
            "dag_ids": sorted({s.dag_id for s in sources}), "states": ["success", "failed"], "end_date_gte": _iso(ended_after),
        }):
            dag_runs.setdefault(item["dag_id"], []).append(self._dag_run(item))
        task_runs = self._task_runs([s for s in sources if s.task_id], ended_after)
        reports = []
        for source in sources:
            runs = task_runs.get((source.dag_id, source.task_id), []) if source.task_id else dag_runs.get(source.dag_id, [])
            runs = [replace(r, source_id=source.id) for r in runs]
            # A task starts once the tasks before it are done, not at the DAG's tick: its own
            # durations do not say when it is due, so only a DAG source reports the schedule.
            schedule = None if source.task_id else schedules.get(source.dag_id)
            if source.dag_id in paused:
                # Its runs are still its past. Airflow records no time of pausing, so the message names none.
                reports.append(SourceReport(source.id, runs=runs, paused=True, message=f"Paused in Airflow (DAG {source.dag_id})",
                                            schedule=schedule))
                continue
            note = None if runs else f"no finished runs since {ended_after:%Y-%m-%d %H:%M} UTC"
            reports.append(SourceReport(source.id, runs=runs, message=note, schedule=schedule))
        missing = self._missing([s for s, r in zip(sources, reports) if not r.runs and not r.paused], list(dags))
        reports = [replace(r, error=missing[r.source_id], message=None) if r.source_id in missing else r for r in reports]
        reports += [SourceReport(s.id, error="include/tags match no DAG in Airflow") for s in undiscovered]
        return reports

    def _missing(self, quiet: Sequence[AirflowSource], dags: list[str]) -> dict[str, str]:
        """Which of the sources that returned no runs name a DAG or task Airflow does not have.
        Only those are looked up (one request per DAG), so DAGs with runs cost nothing more.
        `dags`, every DAG id, is what a DAG that is not found is compared with."""
        found: dict[str, str] = {}
        tasks: dict[str, list[str] | None] = {}
        for source in quiet:
            if source.dag_id not in tasks:
                tasks[source.dag_id] = self._task_ids(source.dag_id)
            known = tasks[source.dag_id]
            if known is None:
                found[source.id] = f"no DAG named {source.dag_id!r} in Airflow{did_you_mean(source.dag_id, dags)}"
            elif source.task_id and source.task_id not in known:
                found[source.id] = f"no task named {source.task_id!r} in DAG {source.dag_id}{did_you_mean(source.task_id, known)}"
        return found

    def _task_ids(self, dag_id: str) -> list[str] | None:
        """The DAG's task ids; None when Airflow has no DAG of that id."""
        try:
            answer = self.client.get(f"{self.version.prefix}/dags/{quote(dag_id, safe='')}/tasks")
        except NotFoundError:
            return None
        tasks = answer.get("tasks") if isinstance(answer, dict) else None
        return [str(t.get("task_id")) for t in tasks if isinstance(t, dict)] if isinstance(tasks, list) else []

    def _client(self, context: Context) -> ApiClient:
        c = self.connection
        basic = (c.username, c.password.get_secret_value()) if c.api_version == 1 and c.username and c.password else None
        client = context.api(c.url, auth=basic)
        if c.token:
            client.set_header("Authorization", f"Bearer {c.token.get_secret_value()}")
        elif c.api_version == 2 and c.username and c.password:
            answer = client.post("/auth/token", {"username": c.username, "password": c.password.get_secret_value()})
            if not isinstance(answer, dict) or not isinstance(answer.get("access_token"), str):
                raise CollectorError(f"{self.name}: /auth/token did not return an access_token")
            client.set_header("Authorization", f"Bearer {answer['access_token']}")
        return client

    def _schedule(self, dag: dict[str, Any]) -> Schedule | None:
        """The DAG's timetable as a Schedule, when it is a cron expression or a preset (Airflow
        3's `timetable_summary`; Airflow 2's `schedule_interval`). Others give none: asset-
        triggered and manual ("None") DAGs run when something else happens, @once and
        @continuous at no tick, and a timedelta one counts from its last run, not a calendar."""
        cron = dag.get("timetable_summary")
        interval = dag.get("schedule_interval")
        if cron is None and isinstance(interval, dict) and interval.get("__type") == "CronExpression":
            cron = interval.get("value")
        if not isinstance(cron, str) or cron_problem(cron):
            return None
        zone = self._zone(dag, cron)
        return Schedule(cron, zone) if zone else None

    def _zone(self, dag: dict[str, Any], cron: str) -> str | None:
        """The zone a DAG's cron ticks in. The DAG list names none, but it has the next run's
        moment: when that is a tick of the cron in UTC, the zone is UTC. Else it may be the
        server's default zone (core.default_timezone, which a DAG with a naive start_date
        follows), asked once per collection. None when the next run is a tick in neither: a
        DAG given a zone of its own, which the API does not say (Airflow 3.3's DAG details
        give the server's), and a wrong zone would make every run look hours late."""
        run_after = _time(dag.get("next_dagrun_run_after") or dag.get("next_dagrun_create_after"))
        if run_after is not None and _ticks_in(cron, "UTC", run_after):
            return "UTC"
        if self._server_zone is None:
            details = self.client.get(f"{self.version.prefix}/dags/{quote(str(dag.get('dag_id')), safe='')}/details")
            self._server_zone = str(details.get("timezone")) if isinstance(details, dict) else ""
        return self._server_zone if _ticks_in(cron, self._server_zone, run_after) else None

    def _task_runs(self, sources: Sequence[AirflowSource], ended_after: datetime) -> dict[tuple[str, str], list[Run]]:
        if not sources:
            return {}
        found: dict[tuple[str, str], list[Run]] = {}
        body = {
            "dag_ids": sorted({s.dag_id for s in sources}),
            "task_ids": sorted({s.task_id for s in sources}),
            "state": FINISHED_TASK_STATES,
            "end_date_gte": _iso(ended_after),
        }
        for item in self._pages("/dags/~/dagRuns/~/taskInstances/list", "task_instances", body):
            state = TASK_STATE.get(item.get("state"))
            if state is None:
                continue
            if state is RunState.SUCCESS and int(item.get("try_number") or 1) > 1:
                state = RunState.WARNING  # it got there, but only after retries
            dag, run, task = item["dag_id"], item["dag_run_id"], item["task_id"]
            url = self._link(self.version.task_page, dag=dag, run=run, task=task)
            message = f"succeeded on try {item['try_number']}" if state is RunState.WARNING else None
            found.setdefault((dag, task), []).append(
                Run("", run, state, _time(item.get("start_date")), _time(item.get("end_date")), url, message=message)
            )
        return found

    def _dag_run(self, item: dict[str, Any]) -> Run:
        state = DAG_RUN_STATE.get(item.get("state"))
        if state is None:
            raise CollectorError(f"{self.name}: unknown DAG run state {str(item.get('state'))[:40]!r}")
        url = self._link(self.version.run_page, dag=item["dag_id"], run=item["dag_run_id"])
        return Run("", item["dag_run_id"], state, _time(item.get("start_date")), _time(item.get("end_date")), url)

    def _pages(self, path: str, key: str, query: dict[str, Any], method: str = "POST") -> Iterator[dict[str, Any]]:
        """Every item of a paginated list; batch bodies page with page_offset, GETs with offset."""
        size, offset = self.connection.page_size, 0
        while True:
            try:
                if method == "POST":
                    page = self.client.post(self.version.prefix + path, {**query, "page_offset": offset, "page_limit": size})
                else:
                    page = self.client.get(self.version.prefix + path, {**query, "offset": offset, "limit": size})
            except NotFoundError as exc:
                raise NotFoundError(f"{exc}{self.version.other}") from None
            items = page.get(key) if isinstance(page, dict) else None
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise CollectorError(f"{self.name}: unexpected answer from {path}: no {key!r} list")
            yield from items
            offset += len(items)
            if not items or offset >= int(page.get("total_entries") or 0):
                return

    def _link(self, template: str, **parts: str) -> str:
        base = (self.connection.ui_url or self.connection.url).rstrip("/")
        return base + template.format(**{k: quote(v, safe="") for k, v in parts.items()})


def _ticks_in(cron: str, zone: str, moment: datetime | None) -> bool:
    """Whether `zone` is one statusgen knows and `moment` (when given) is a tick of `cron` there."""
    try:
        deadline = Deadline(cron, ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return moment is None or deadline.latest_tick(moment) == moment


def _iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
