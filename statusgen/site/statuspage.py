"""The site's Statuspage API: `api/v2/*.json` in Atlassian Statuspage's public shapes.

Tools that already read a Statuspage page (chat integrations, dashboards, Prometheus
exporters, `statuspage` clients) read statusgen unchanged, so the field names and the
lists each file holds are Statuspage's (its public API documentation, "Status API" at
<page>/api/v2): groups are components with `group: true` and their members' ids, every
component and incident carries the page's id, incidents list the full components they
affect, and links are absolute when `site.url` is set. statusgen's statuses map onto
Statuspage's as in STATUSPAGE; Statuspage has no "unknown", so not knowing is reported as
degraded performance, never as operational.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from statusgen import names
from statusgen.incidents import Impact, Incident
from statusgen.site.words import iso
from statusgen.status import Status

if TYPE_CHECKING:
    from statusgen.site import GroupView, SiteModel

PAGE_ID = "statusgen"
STATUSPAGE = {
    Status.OPERATIONAL: "operational",
    Status.DEGRADED: "degraded_performance",
    Status.UNKNOWN: "degraded_performance",
    Status.FAILING: "major_outage",
    Status.MAINTENANCE: "under_maintenance",
}
INDICATOR_TEXT = {
    "none": "All Systems Operational",
    "minor": "Minor Service Outage",
    "major": "Major Service Outage",
    "critical": "Critical Service Outage",
}
UNRESOLVED = {"investigating", "identified", "monitoring"}
# Statuspage lists the 50 most recent incidents and the 50 most recent maintenances.
MOST_RECENT = 50


def group_id(group: GroupView) -> str:
    """A group's component id: ':' is never in a component's id, so the two cannot meet."""
    return f"group:{names.slug(group.name)}"


def indicator(model: SiteModel) -> str:
    impacts = {i.impact for i in model.active_incidents}
    statuses = {c.status for c in model.components}
    if Impact.CRITICAL in impacts:
        return "critical"
    if Impact.MAJOR in impacts or Status.FAILING in statuses:
        return "major"
    if Impact.MINOR in impacts or statuses & {Status.DEGRADED, Status.UNKNOWN}:
        return "minor"
    return "none"


def statuspage(model: SiteModel, base_url: str) -> dict[str, dict[str, Any]]:
    """The files of api/v2/, by name."""
    base = base_url.rstrip("/") + "/" if base_url else ""
    # Without site.url a link is relative to the file it is in (RFC 3986 resolves it against
    # the file's own URL); one relative to the site's root would point inside api/v2/.
    top, nested = _files(model, base or "../../"), _files(model, base or "../../../")
    return {name: (nested if "/" in name else top)[name] for name in top}


def _files(model: SiteModel, prefix: str) -> dict[str, dict[str, Any]]:
    link: Callable[[str], str] = lambda path: prefix + path  # noqa: E731
    page = {"id": PAGE_ID, "name": model.config.site.title, "url": link(""), "time_zone": model.config.site.timezone,
            "updated_at": iso(model.last_collected_at)}  # what the statuses are as of, not when they were rendered
    level = indicator(model)
    status = {"indicator": level, "description": INDICATOR_TEXT[level]}
    components = _components(model)
    listed = list(components.values())
    incidents = [_incident(i, model, components, link) for i in model.incidents if not i.is_maintenance]
    maintenances = [_incident(i, model, components, link) for i in model.incidents if i.is_maintenance]
    unresolved = [i for i in incidents if i["status"] in UNRESOLVED]
    upcoming = sorted((m for m in maintenances if m["status"] == "scheduled"), key=lambda m: m["scheduled_for"])
    active = sorted((m for m in maintenances if m["status"] == "in_progress"), key=lambda m: m["scheduled_for"])
    return {
        "summary.json": {"page": page, "components": listed, "incidents": unresolved,
                         "scheduled_maintenances": active + upcoming, "status": status},
        "status.json": {"page": page, "status": status},
        "components.json": {"page": page, "components": listed},
        "incidents.json": {"page": page, "incidents": incidents[:MOST_RECENT]},
        "incidents/unresolved.json": {"page": page, "incidents": unresolved},
        "scheduled-maintenances.json": {"page": page, "scheduled_maintenances": maintenances[:MOST_RECENT]},
        "scheduled-maintenances/upcoming.json": {"page": page, "scheduled_maintenances": upcoming},
        "scheduled-maintenances/active.json": {"page": page, "scheduled_maintenances": active},
    }


def _components(model: SiteModel) -> dict[str, dict[str, Any]]:
    """Every component by id, each group first and then its members, as Statuspage lists them."""
    found: dict[str, dict[str, Any]] = {}
    for group_position, group in enumerate(model.groups, start=1):
        gid = group_id(group)
        members = group.components
        found[gid] = _component(gid, group.name, group.status, None, group_position,
                                _earliest(c.watched_since for c in members),
                                max((c.since or model.last_collected_at for c in members), default=None, key=_key),
                                group=True, members=[c.id for c in members])
        for position, component in enumerate(members, start=1):
            found[component.id] = _component(
                component.id, component.name, component.status, component.description or None, position,
                component.watched_since, component.since or model.last_collected_at, group_id=gid)
    return found


def _component(cid: str, name: str, status: Status, description: str | None, position: int, created: datetime | None,
               updated: datetime | None, group: bool = False, group_id: str | None = None,
               members: list[str] | None = None) -> dict[str, Any]:
    return {
        "id": cid, "name": name, "status": STATUSPAGE[status], "created_at": iso(created), "updated_at": iso(updated),
        "position": position, "description": description, "showcase": not group, "start_date": None,
        "group_id": group_id, "page_id": PAGE_ID, "group": group, "only_show_if_degraded": False,
        **({"components": members} if group else {}),
    }


def _earliest(times) -> datetime | None:
    known = [t for t in times if t]
    return min(known) if known else None


def _key(value: datetime | None) -> float:
    return value.timestamp() if value else float("-inf")


def _incident(incident: Incident, model: SiteModel, components: dict[str, dict[str, Any]],
              link: Callable[[str], str]) -> dict[str, Any]:
    if incident.is_maintenance:
        state = "in_progress" if incident.active(model.now) else "scheduled" if incident.upcoming(model.now) else "completed"
        resolved = incident.scheduled_until if state == "completed" else None
    else:
        resolved = incident.resolved if incident.resolved and incident.resolved <= model.now else None
        state = "resolved" if resolved else (
            incident.updates[0].status if incident.updates and incident.updates[0].status else "investigating")
    monitoring = [u.at for u in incident.updates if u.status == "monitoring"]
    found = {
        "id": incident.id, "name": incident.title, "status": state,
        "impact": "maintenance" if incident.is_maintenance else incident.impact.value,
        "created_at": iso(incident.begins), "updated_at": iso(incident.updates[0].at if incident.updates else incident.begins),
        "monitoring_at": iso(min(monitoring)) if monitoring else None, "resolved_at": iso(resolved),
        "started_at": iso(incident.begins), "shortlink": link(incident.page), "page_id": PAGE_ID,
        "incident_updates": [
            {"id": f"{incident.id}-{len(incident.updates) - n}", "status": u.status or state, "body": u.html,
             "incident_id": incident.id, "created_at": iso(u.at), "updated_at": iso(u.at), "display_at": iso(u.at),
             "affected_components": None, "deliver_notifications": False, "custom_tweet": None, "tweet_id": None}
            for n, u in enumerate(incident.updates)
        ],
        # Ids an incident file names that are no component are left out: a client looks them up.
        "components": [components[c] for c in incident.components if c in components],
    }
    if incident.is_maintenance:
        found |= {"scheduled_for": iso(incident.scheduled_for), "scheduled_until": iso(incident.scheduled_until)}
    return found
