"""The site's feeds and badges: Atom and RSS of incidents and status changes, badges.

The Statuspage JSON is statuspage.py's; the maintenance calendar ical.py's.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from statusgen import names
from statusgen.site.words import iso
from statusgen.status import Status

if TYPE_CHECKING:
    from statusgen.site.model import SiteModel

MAX_ENTRIES = 100
# What may stay as it is in an IRI's ASCII part (RFC 3987): the reserved characters and '%'.
IRI_SAFE = ":/?#[]@!$&'()*+,;=%~"
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


@dataclass(frozen=True)
class Entry:
    updated: datetime
    title: str
    page: str  # relative to the site's root
    html: str
    key: str  # what its id names, relative to the site's root


def feed_files(model: SiteModel, base_url: str) -> dict[str, str]:
    """Every feed of the site by path: Atom and RSS of the whole page at Statuspage's
    history.atom and history.rss (and feed.xml, the Atom feed's first address, kept for its
    subscribers), and an Atom feed per component beside its page."""
    base = base_url.rstrip("/") + "/" if base_url else ""
    everything = _entries(model)
    title = model.config.site.title
    files = {path: atom(model, base, path, title, "", everything) for path in ("history.atom", "feed.xml")}
    files["history.rss"] = rss(model, base, "history.rss", title, everything)
    for component in model.components:
        files[component.feed] = atom(model, base, component.feed, f"{title}: {component.name}", component.page,
                                     _entries(model, component.id))
    return files


def _entries(model: SiteModel, component_id: str | None = None) -> list[Entry]:
    """Incidents and status changes (those of `component_id` when given), newest first."""
    entries = []
    for incident in model.incidents:
        if component_id is not None and component_id not in incident.components:
            continue
        entries.append(Entry(incident.updates[0].at if incident.updates else incident.begins,
                             incident.title + (" (maintenance)" if incident.is_maintenance else ""), incident.page,
                             incident.html + "".join(u.html for u in incident.updates), incident.page))
    for change in model.changes:
        if component_id is not None and change.key != component_id:
            continue
        title = f"{change.name}: {change.old.value} → {change.new.value}"
        paragraph = ET.tostring(_element(None, "p", text=f"{title}. {change.reason}" if change.reason else title), encoding="unicode", method="html")
        entries.append(Entry(change.at, title, change.page, paragraph, f"{change.page}#{change.at:%Y%m%dT%H%M%SZ}"))
    entries.sort(key=lambda e: e.updated, reverse=True)
    return entries[:MAX_ENTRIES]


def iri(model: SiteModel, base: str, key: str) -> str:
    """A permanent id: under site.url when it is set, else a tag: URI (RFC 4151) of the site's
    title. Percent-encoded, so a URL or title with spaces still makes an IRI."""
    found = base + key if base else f"tag:statusgen,2026:{names.slug(model.config.site.title)}" + (f"/{key}" if key else "")
    return quote(found, safe=IRI_SAFE)


def _updated(model: SiteModel, entries: list[Entry]) -> datetime:
    """No earlier than any entry: a reader that sees the feed unchanged skips its entries."""
    return max((e.updated for e in entries), default=None) or model.last_collected_at or model.now


def atom(model: SiteModel, base: str, path: str, title: str, page: str, entries: list[Entry]) -> str:
    """An Atom feed (RFC 4287) at `path`, the feed of `page`."""
    link = base or "../" * path.count("/")  # without site.url, relative to the feed's own address
    feed = _element(None, "feed", {"xmlns": "http://www.w3.org/2005/Atom"})
    _element(feed, "id", text=iri(model, base, page))
    _element(feed, "title", text=title)
    _element(feed, "updated", text=iso(_updated(model, entries)))
    author = _element(feed, "author")
    _element(author, "name", text=model.config.site.title)
    if base:
        _element(author, "uri", text=base)
    _element(feed, "link", {"rel": "self", "type": "application/atom+xml", "href": link + path})
    _element(feed, "link", {"rel": "alternate", "type": "text/html", "href": link + (page or "index.html")})
    for item in entries:
        entry = _element(feed, "entry")
        _element(entry, "id", text=iri(model, base, item.key))
        _element(entry, "title", text=item.title)
        _element(entry, "updated", text=iso(item.updated))
        _element(entry, "link", {"rel": "alternate", "type": "text/html", "href": link + item.page})
        # Atom's type="html": the HTML travels as escaped text, never as elements of the feed.
        _element(entry, "content", {"type": "html"}, text=item.html)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + _serialise(feed)


def rss(model: SiteModel, base: str, path: str, title: str, entries: list[Entry]) -> str:
    """The same entries as RSS 2.0, for readers that read no Atom (Statuspage serves both)."""
    root = _element(None, "rss", {"version": "2.0", "xmlns:atom": "http://www.w3.org/2005/Atom"})
    channel = _element(root, "channel")
    _element(channel, "title", text=title)
    _element(channel, "link", text=base + "index.html" if base else "index.html")
    _element(channel, "description", text=model.config.site.description or title)
    _element(channel, "atom:link", {"rel": "self", "type": "application/rss+xml", "href": base + path})
    _element(channel, "lastBuildDate", text=format_datetime(_updated(model, entries), usegmt=True))
    for item in entries:
        element = _element(channel, "item")
        _element(element, "title", text=item.title)
        _element(element, "link", text=base + item.page)
        _element(element, "description", text=item.html)
        _element(element, "guid", {"isPermaLink": "false"}, text=iri(model, base, item.key))
        _element(element, "pubDate", text=format_datetime(item.updated, usegmt=True))
    return '<?xml version="1.0" encoding="utf-8"?>\n' + _serialise(root)


def badge_widths(label: str, status: Status) -> tuple[int, int]:
    """A badge's two halves, estimated from the text (about 6.5 px a character at 11 px)."""
    return 10 + int(6.5 * len(label)), 10 + int(6.5 * len(status.value))


def badge_svg(label: str, status: Status) -> str:
    """A flat badge, 20 px high."""
    message = status.value
    left, right = badge_widths(label, status)
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
