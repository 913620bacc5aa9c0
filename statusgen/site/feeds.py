"""The site's machine-readable files: Statuspage-compatible JSON, an Atom feed, badges.

`api/v2/*.json` follows Atlassian Statuspage's public API shapes, so tools that already
read a Statuspage page (chat integrations, dashboards, `statuspage` clients) read statusgen
unchanged. statusgen's statuses map onto Statuspage's as in STATUSPAGE below; Statuspage
has no "unknown", so not knowing is reported as degraded performance, never as operational.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from statusgen.incidents import Impact, Incident
from statusgen.status import Status

if TYPE_CHECKING:
    from statusgen.site.model import SiteModel

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
# XML 1.0 cannot carry these even as character references (a terminal colour code pasted into
# a name, say); left in, they make the whole file unreadable to every XML parser.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


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
            "updated_at": _iso(model.last_collected_at)}  # what the statuses are as of, not when they were rendered
    level = indicator(model)
    status = {"indicator": level, "description": INDICATOR_TEXT[level]}
    groups = {g.name: f"group-{index}" for index, g in enumerate(model.groups)}
    components = []
    for position, component in enumerate(model.components, start=1):
        components.append({
            "id": component.id, "name": component.name, "status": STATUSPAGE[component.status],
            "created_at": None, "updated_at": _iso(component.since or model.last_collected_at), "position": position,
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
        paragraph = ET.tostring(_element(None, "p", text=title), encoding="unicode", method="html")
        entries.append((change.at, title, change.page, paragraph, f"change-{change.key}-{change.at:%Y%m%dT%H%M%S}"))
    entries.sort(key=lambda e: e[0], reverse=True)
    base = base_url.rstrip("/") + "/" if base_url else ""
    feed = _element(None, "feed", {"xmlns": "http://www.w3.org/2005/Atom"})
    _element(feed, "id", text=f"urn:statusgen:{model.config.site.title}")
    _element(feed, "title", text=model.config.site.title)
    _element(feed, "updated", text=_iso(model.now))
    _element(feed, "link", {"rel": "self", "href": f"{base}feed.xml"})
    for at, title, page, html, uid in entries[:100]:
        entry = _element(feed, "entry")
        _element(entry, "id", text=f"urn:statusgen:{uid}")
        _element(entry, "title", text=title)
        _element(entry, "updated", text=_iso(at))
        _element(entry, "link", {"href": base + page})
        # Atom's type="html": the HTML travels as escaped text, never as elements of the feed.
        _element(entry, "content", {"type": "html"}, text=html)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + _serialise(feed)


def badge_svg(label: str, status: Status) -> str:
    """A flat badge, its widths estimated from the text (about 6.5 px a character at 11 px)."""
    message = status.value
    left, right = 10 + int(6.5 * len(label)), 10 + int(6.5 * len(message))
    said = f"{label}: {message}"
    svg = _element(None, "svg", {"xmlns": "http://www.w3.org/2000/svg", "width": left + right, "height": 20, "role": "img",
                                 "aria-label": said})
    _element(svg, "title", text=said)
    _element(svg, "rect", {"width": left, "height": 20, "fill": "#555"})
    _element(svg, "rect", {"x": left, "width": right, "height": 20, "fill": BADGE_COLOUR[status][0]})
    labels = _element(svg, "g", {"fill": "#fff", "font-family": "Verdana,DejaVu Sans,sans-serif", "font-size": 11,
                               "text-anchor": "middle"})
    _element(labels, "text", {"x": left / 2, "y": 14}, text=label)
    _element(labels, "text", {"x": left + right / 2, "y": 14}, text=message)
    return _serialise(svg)


def _element(parent: ET.Element | None, tag: str, attributes: dict[str, Any] | None = None, text: str | None = None) -> ET.Element:
    attrib = {name: str(value) for name, value in (attributes or {}).items()}
    element = ET.Element(tag, attrib) if parent is None else ET.SubElement(parent, tag, attrib)
    element.text = text
    return element


def _serialise(root: ET.Element) -> str:
    """The tree as XML. The serialiser escapes every attribute and text itself, quotes and
    newlines included, so a name can neither end an attribute nor change what it says."""
    return NOT_XML.sub("\ufffd", ET.tostring(root, encoding="unicode")) + "\n"


def shields(label: str, status: Status, cache: timedelta) -> dict[str, Any]:
    """shields.io's endpoint format: https://img.shields.io/endpoint?url=…/badges/ID.json.
    shields.io keeps the answer `cache` (the schedule): asking sooner could not see a change."""
    return {"schemaVersion": 1, "label": label, "message": status.value, "color": BADGE_COLOUR[status][1],
            "cacheSeconds": int(cache.total_seconds())}
