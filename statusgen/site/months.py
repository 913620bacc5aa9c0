"""The site's history by month (Statuspage's /history): past incidents by the month they
began in, and each component's uptime in every month its bars cover.

A month's uptime is the timeline's own figure (statusgen.timeline.uptime) over the bar's days
that fall in it, so the month and the bar agree on every day they share.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Mapping, Sequence
from zoneinfo import ZoneInfo

from statusgen.incidents import Incident
from statusgen.status import Status
from statusgen.timeline import Day, time_in, uptime

if TYPE_CHECKING:
    from statusgen.site.model import ComponentView


@dataclass(frozen=True)
class Month:
    first: date  # its first day
    incidents: list[Incident]  # those that began in it, in the site's time zone, newest first
    days: int  # how many of its days the bars cover; 0 when only an incident reaches back to it
    uptime: Mapping[str, float | None]  # each component's uptime over those days, by component id

    @property
    def name(self) -> str:
        return self.first.strftime("%B %Y")

    @property
    def anchor(self) -> str:
        """Its place on the history page: `history.html#2026-11`."""
        return self.first.strftime("%Y-%m")

    @property
    def partial(self) -> bool:
        """The bars cover some of its days, not all: its uptime is over those only."""
        return 0 < self.days < calendar.monthrange(self.first.year, self.first.month)[1]


def by_month(components: Sequence[ComponentView], incidents: Sequence[Incident], weights: Mapping[Status, float],
             zone: ZoneInfo, now: datetime) -> list[Month]:
    """Newest first: every month the bars cover, and each earlier one an incident began in.
    Maintenance still to come is not history yet."""
    begun: dict[date, list[Incident]] = {}
    for incident in incidents:
        if incident.begins <= now:
            begun.setdefault(incident.begins.astimezone(zone).date().replace(day=1), []).append(incident)
    covered: dict[date, dict[str, list[Day]]] = {}
    for component in components:
        for day in component.bar:
            covered.setdefault(day.day.replace(day=1), {}).setdefault(component.id, []).append(day)
    months = []
    for first in sorted(begun.keys() | covered.keys(), reverse=True):
        bars = covered.get(first, {})
        months.append(Month(first=first, incidents=begun.get(first, []), days=max(map(len, bars.values()), default=0),
                            uptime={cid: uptime(time_in(days), weights) for cid, days in bars.items()}))
    return months
