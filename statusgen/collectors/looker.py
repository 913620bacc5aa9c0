"""looker: datagroups from Looker's API 4.0, the caching policies that say when a model's
data was last refreshed (`triggered_at`) and whether checking for new data failed
(`trigger_error`)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Sequence

from pydantic import Field, SecretStr

from statusgen.collectors import Collector
from statusgen.collectors.timestamps import utc_time_or_none as _time
from statusgen.config import ConnectionConfig, SourceConfig
from statusgen.errors import CollectorError
from statusgen.records import Run, SourceReport
from statusgen.status import RunState


class LookerConnection(ConnectionConfig):
    type: Literal["looker"]
    url: str = Field(pattern=r"^https?://", description="https://COMPANY.looker.com (the API host, port included if any).")
    client_id: str
    client_secret: SecretStr


class LookerSource(SourceConfig):
    datagroup: str = Field(pattern=r"^[^:]+::[^:]+$", description="model_name::datagroup_name.")


class LookerCollector(Collector):
    type: ClassVar[str] = "looker"
    Connection = LookerConnection
    Source = LookerSource
    batch_size: ClassVar[int] = 10_000  # one listing serves every datagroup

    def collect(self, sources: Sequence[LookerSource], since, now) -> list[SourceReport]:
        c = self.connection
        client = self.api(c.url)
        login = client.request("POST", "/api/4.0/login", data={"client_id": c.client_id, "client_secret": c.client_secret.get_secret_value()})
        if not isinstance(login, dict) or not isinstance(login.get("access_token"), str):
            raise CollectorError(f"{self.name}: login did not return an access_token")
        client.set_header("Authorization", f"token {login['access_token']}")
        listing = client.get("/api/4.0/datagroups")
        if not isinstance(listing, list):
            raise CollectorError(f"{self.name}: unexpected answer listing datagroups")
        groups = {f"{g.get('model_name')}::{g.get('name')}": g for g in listing if isinstance(g, dict)}
        return [_report(source, groups.get(source.datagroup)) for source in sources]


def _report(source: LookerSource, group: dict[str, Any] | None) -> SourceReport:
    if group is None:
        return SourceReport(source.id, error=f"no datagroup {source.datagroup} in Looker")
    runs = []
    triggered = _time(group.get("triggered_at") or None)
    if triggered is not None:
        runs.append(Run(source.id, f"triggered@{triggered.isoformat()}", RunState.SUCCESS, ended_at=triggered))
    checked = _time(group.get("trigger_check_at") or None)
    if group.get("trigger_error") and checked is not None:
        message = str(group["trigger_error"])[:300]
        runs.append(Run(source.id, f"check@{checked.isoformat()}", RunState.FAILED, ended_at=checked, message=message))
    return SourceReport(source.id, runs=runs, message=None if runs else "the datagroup has not triggered yet")
