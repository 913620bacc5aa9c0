"""fivetran: connection syncs from Fivetran's REST API.

A source names a Fivetran connection by id, or by its destination schema within a group
(readable, and it survives re-creating the connection). Fivetran keeps the time of the
last successful and of the last failed sync; each becomes a run. Unless sources.yaml sets
a freshness promise, the connection's own sync frequency sets one: late after two missed
syncs, failing after four. A manually scheduled connection sets none: Fivetran ignores its
frequency, and only whoever triggers it knows when data is due.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any, ClassVar, Iterator, Literal, Sequence
from urllib.parse import quote

from pydantic import Field, SecretStr, model_validator

from statusgen.collectors import Collector
from statusgen.collectors.context import CollectContext
from statusgen.collectors.timestamps import utc_time_or_none as _time
from statusgen.config import ConnectionConfig, SourceConfig
from statusgen.errors import CollectorError
from statusgen.records import Run, SourceReport
from statusgen.status import Freshness, RunState

DASHBOARD = "https://fivetran.com/dashboard/connections/{id}/status"
PAGE_LIMIT = 1000
# Whether a `schedule_type` syncs every `sync_frequency` minutes: a manual connection syncs
# only when triggered and ignores it. An unknown type keeps the frequency, as before.
SCHEDULE_FOLLOWS_FREQUENCY: dict[str, bool] = {"auto": True, "manual": False}


class FivetranConnection(ConnectionConfig):
    type: Literal["fivetran"]
    api_key: SecretStr
    api_secret: SecretStr
    api_url: str = Field("https://api.fivetran.com", pattern=r"^https?://")


class FivetranSource(SourceConfig):
    connection_id: str | None = Field(None, min_length=1, description="The Fivetran connection's id.")
    group_id: str | None = Field(None, min_length=1, description="With schema: find the connection in this group.")
    schema_name: str | None = Field(None, alias="schema", min_length=1, description="The connection's destination schema.")

    @model_validator(mode="after")
    def _one_selector(self) -> FivetranSource:
        if bool(self.connection_id) == bool(self.group_id and self.schema_name) or bool(self.group_id) != bool(self.schema_name):
            raise ValueError("give connection_id, or group_id with schema")
        return self


class FivetranCollector(Collector):
    type: ClassVar[str] = "fivetran"
    Connection = FivetranConnection
    Source = FivetranSource
    batch_size: ClassVar[int] = 10_000  # a group is listed once for all its sources

    def collect(self, sources: Sequence[FivetranSource], context: CollectContext) -> list[SourceReport]:
        c = self.connection
        self.client = context.api(
            c.api_url,
            headers={"Accept": "application/json;version=2"},
            auth=(c.api_key.get_secret_value(), c.api_secret.get_secret_value()),
        )
        groups = {g: {item.get("schema"): item for item in self._group(g)} for g in sorted({s.group_id for s in sources if s.group_id})}
        reports = []
        for source in sources:
            try:
                if source.group_id:
                    item = groups[source.group_id].get(source.schema_name)
                    if item is None:
                        raise CollectorError(f"no connection with schema {source.schema_name!r} in group {source.group_id}")
                else:
                    item = _data(self.client.get(f"/v1/connections/{quote(source.connection_id, safe='')}"))
                reports.append(_report(source, item))
            except CollectorError as exc:
                reports.append(SourceReport(source.id, error=str(exc)))
        return reports

    def _group(self, group_id: str) -> Iterator[dict[str, Any]]:
        cursor = None
        while True:
            params = {"limit": PAGE_LIMIT, **({"cursor": cursor} if cursor else {})}
            page = _data(self.client.get(f"/v1/groups/{quote(group_id, safe='')}/connections", params))
            items = page.get("items")
            if not isinstance(items, list):
                raise CollectorError(f"{self.name}: unexpected answer listing group {group_id}: no items")
            yield from (i for i in items if isinstance(i, dict))
            cursor = page.get("next_cursor")
            if not cursor:
                return


def _data(answer: Any) -> dict[str, Any]:
    """Fivetran wraps every answer as {"code": "Success", "data": {...}}."""
    if not isinstance(answer, dict) or not isinstance(answer.get("data"), dict):
        code = answer.get("code") if isinstance(answer, dict) else None
        raise CollectorError(f"unexpected answer from Fivetran (code {code!r})")
    return answer["data"]


def _report(source: FivetranSource, item: dict[str, Any]) -> SourceReport:
    if item.get("paused"):
        return SourceReport(source.id, error=f"Fivetran connection {item.get('schema') or item.get('id')} is paused")
    url = DASHBOARD.format(id=quote(str(item.get("id", "")), safe=""))
    runs = []
    for field, state in (("succeeded_at", RunState.SUCCESS), ("failed_at", RunState.FAILED)):
        at = _time(item.get(field))
        if at is not None:
            runs.append(Run(source.id, f"{state.value}@{at.isoformat()}", state, ended_at=at, url=url))
    status = item.get("status") or {}
    notes = []
    if status.get("setup_state") == "broken":
        notes.append("setup is broken: reconnect it in Fivetran")
    if status.get("sync_state") in ("syncing", "rescheduled"):
        notes.append(f"sync {status['sync_state']}")
    if status.get("update_state") == "delayed":
        notes.append("updates are delayed")
    for problem in (status.get("tasks") or []) + (status.get("warnings") or []):
        if isinstance(problem, dict) and problem.get("message"):
            notes.append(str(problem["message"])[:200])
    runs.sort(key=lambda run: run.ended_at)
    if runs and runs[-1].state is RunState.FAILED and notes:
        runs[-1] = replace(runs[-1], message="; ".join(notes))
    minutes = item.get("sync_frequency") if SCHEDULE_FOLLOWS_FREQUENCY.get(item.get("schedule_type"), True) else None
    promise = Freshness(timedelta(minutes=2 * minutes), timedelta(minutes=4 * minutes)) if isinstance(minutes, int) and minutes > 0 else None
    return SourceReport(source.id, runs=runs, message="; ".join(notes) or None, freshness=promise)
