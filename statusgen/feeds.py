"""The site's machine-readable files: Statuspage-compatible JSON, an Atom feed, badges.

`api/v2/*.json` follows Atlassian Statuspage's public API shapes, so tools that already
read a Statuspage page (chat integrations, dashboards, `statuspage` clients) read statusgen
unchanged. statusgen's statuses map onto Statuspage's as in STATUSPAGE below; Statuspage
has no "unknown", so not knowing is reported as degraded performance, never as operational.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from statusgen.incidents import Impact, Incident
from statusgen.status import Status

if TYPE_CHECKING:
    from statusgen.site import SiteModel

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
BADGE_COLOUR = {
    Status.OPERATIONAL: ("#2e9e5b", "brightgreen"),
    Status.DEGRADED: ("#d98e04", "yellow"),
    Status.FAILING: ("#cf2f2f", "red"),
    Status.UNKNOWN: ("#8a94a3", "lightgrey"),
    Status.MAINTENANCE: ("#2f6fd6", "blue"),
}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


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
    page = {"id": "statusgen", "name": model.config.site.title, "url": base_url, "time_zone": model.config.site.timezone,
            "updated_at": _iso(model.now)}
    level = indicator(model)
    status = {"indicator": level, "description": INDICATOR_TEXT[level]}
    groups = {g.name: f"group-{index}" for index, g in enumerate(model.groups)}
    components = []
    for position, component in enumerate(model.components, start=1):
        components.append({
            "id": component.id, "name": component.name, "status": STATUSPAGE[component.status],
            "created_at": None, "updated_at": _iso(component.since or model.now), "position": position,
            "description": component.description or None, "showcase": True, "start_date": None,
            "group_id": groups[component.group], "page_id": "statusgen", "group": False, "only_show_if_degraded": False,
        })
    incidents = [_incident(i, model) for i in model.incidents if not i.is_maintenance]
    unresolved = [i for i in incidents if i["status"] != "resolved"]
    maintenances = [_incident(i, model) for i in model.maintenance]
    return {
        "status.json": {"page": page, "status": status},
        "components.json": {"page": page, "components": components},
        "incidents.json": {"page": page, "incidents": incidents[:50]},
        "incidents/unresolved.json": {"page": page, "incidents": unresolved},
        "scheduled-maintenances.json": {"page": page, "scheduled_maintenances": maintenances},
        "summary.json": {"page": page, "components": components, "incidents": unresolved,
                         "scheduled_maintenances": maintenances, "status": status},
    }


def _incident(incident: Incident, model: SiteModel) -> dict[str, Any]:
    if incident.is_maintenance:
        state = "in_progress" if incident.active(model.now) else "scheduled" if incident.upcoming(model.now) else "completed"
    else:
        state = "resolved" if incident.resolved and incident.resolved <= model.now else (
            incident.updates[0].status if incident.updates and incident.updates[0].status else "investigating")
    names = {c.id: c.name for c in model.components}
    return {
        "id": incident.id, "name": incident.title, "status": state, "impact": incident.impact.value,
        "created_at": _iso(incident.begins), "updated_at": _iso(incident.updates[0].at if incident.updates else incident.begins),
        "started_at": _iso(incident.begins), "resolved_at": _iso(incident.resolved), "monitoring_at": None,
        "scheduled_for": _iso(incident.scheduled_for), "scheduled_until": _iso(incident.scheduled_until),
        "shortlink": incident.page, "page_id": "statusgen",
        "incident_updates": [
            {"id": f"{incident.id}-{n}", "status": u.status or state, "body": u.html, "incident_id": incident.id,
             "created_at": _iso(u.at), "updated_at": _iso(u.at), "display_at": _iso(u.at)}
            for n, u in enumerate(incident.updates)
        ],
        "components": [{"id": c, "name": names.get(c, c)} for c in incident.components],
    }


def atom(model: SiteModel, base_url: str) -> str:
    """Incidents and status changes, newest first."""
    entries = []
    for incident in model.incidents:
        updated = incident.updates[0].at if incident.updates else incident.begins
        entries.append((updated, f"{incident.title}" + (" (maintenance)" if incident.is_maintenance else ""),
                        incident.page, incident.html + "".join(u.html for u in incident.updates), f"incident-{incident.id}"))
    for change in model.changes:
        title = f"{change.name}: {change.old.value} → {change.new.value}"
        entries.append((change.at, title, change.page, f"<p>{escape(title)}</p>", f"change-{change.key}-{change.at:%Y%m%dT%H%M%S}"))
    entries.sort(key=lambda e: e[0], reverse=True)
    base = base_url.rstrip("/") + "/" if base_url else ""
    items = "".join(
        f"<entry><id>urn:statusgen:{escape(uid)}</id><title>{escape(title)}</title><updated>{_iso(at)}</updated>"
        f'<link href="{escape(base + page)}"/><content type="html">{escape(html)}</content></entry>'
        for at, title, page, html, uid in entries[:100]
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>urn:statusgen:{escape(model.config.site.title)}</id><title>{escape(model.config.site.title)}</title>"
        f"<updated>{_iso(model.now)}</updated>"
        f'<link rel="self" href="{escape(base)}feed.xml"/>{items}</feed>\n'
    )


def badge_svg(label: str, status: Status) -> str:
    """A flat badge, its widths estimated from the text (about 6.5 px a character at 11 px)."""
    message = status.value
    left, right = 10 + int(6.5 * len(label)), 10 + int(6.5 * len(message))
    colour = BADGE_COLOUR[status][0]
    text = escape(label)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + right}" height="20" role="img" aria-label="{text}: {message}">'
        f"<title>{text}: {message}</title>"
        f'<rect width="{left}" height="20" fill="#555"/><rect x="{left}" width="{right}" height="20" fill="{colour}"/>'
        f'<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" text-anchor="middle">'
        f'<text x="{left / 2}" y="14">{text}</text><text x="{left + right / 2}" y="14">{message}</text></g></svg>\n'
    )


def shields(label: str, status: Status) -> dict[str, Any]:
    """shields.io's endpoint format: https://img.shields.io/endpoint?url=…/badges/ID.json"""
    return {"schemaVersion": 1, "label": label, "message": status.value, "color": BADGE_COLOUR[status][1]}
