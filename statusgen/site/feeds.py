"""The site's feeds and badges: Atom and RSS of incidents and status changes, badges.

The Statuspage JSON is statusgen/statuspage.py's; the maintenance calendar statusgen/ical.py's.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from statusgen.status import Status

if TYPE_CHECKING:
    from statusgen.site.model import SiteModel

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
