"""looker: datagroups from Looker's API 4.0, the caching policies of a model's Explores.

Looker checks each datagroup's trigger on its own schedule: `trigger_check_at` is the last
check and `trigger_error` that check's error alone, so each check is a run, failed or not,
and a good check after a failed one is green again, as on Looker's Datagroups page.
`triggered_at` is only when the trigger last fired (an `interval_trigger` fires on a clock),
not a sign of new data, so it is a note. A datagroup with only `max_cache_age` has no
trigger: Looker never checks it, and there is nothing to watch.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Sequence

from pydantic import Field, SecretStr

from statusgen.collectors import Collector
from statusgen.collectors.context import CollectContext
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

    def collect(self, sources: Sequence[LookerSource], context: CollectContext) -> list[SourceReport]:
        c = self.connection
        client = context.api(c.url)
        login = client.request("POST", "/api/4.0/login", data={"client_id": c.client_id, "client_secret": c.client_secret.get_secret_value()})
        if not isinstance(login, dict) or not isinstance(login.get("access_token"), str):
            raise CollectorError(f"{self.name}: login did not return an access_token")
        client.set_header("Authorization", f"token {login['access_token']}")
        listing = client.get("/api/4.0/datagroups")
        if not isinstance(listing, list):
            raise CollectorError(f"{self.name}: unexpected answer listing datagroups")
        groups = {f"{g.get('model_name')}::{g.get('name')}": g for g in listing if isinstance(g, dict)}
        return [_report(source, groups.get(source.datagroup)) for source in sources]


# Whether the last trigger check left an error → that check's run state.
CHECK_STATE: dict[bool, RunState] = {True: RunState.FAILED, False: RunState.SUCCESS}
NO_TRIGGER = "Looker checks no trigger for this datagroup (max_cache_age only)"


def _report(source: LookerSource, group: dict[str, Any] | None) -> SourceReport:
    if group is None:
        return SourceReport(source.id, error=f"no datagroup {source.datagroup} in Looker")
    triggered = _time(group.get("triggered_at") or None)
    note = f"last triggered {triggered:%Y-%m-%d %H:%M} UTC" if triggered else None
    checked = _time(group.get("trigger_check_at") or None)
    if checked is None:
        return SourceReport(source.id, message=note or NO_TRIGGER)
    error = str(group.get("trigger_error") or "")[:300] or None
    check = Run(source.id, f"check@{checked.isoformat()}", CHECK_STATE[error is not None], ended_at=checked, message=error)
    return SourceReport(source.id, runs=[check], message=note)
