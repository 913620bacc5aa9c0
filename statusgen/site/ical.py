"""maintenance.ics: the maintenance windows as an iCalendar file (RFC 5545) people subscribe to.

Written by hand rather than with a library: a calendar of events needs three rules (escape
TEXT values, fold lines at 75 octets, end them with CRLF), and statusgen gains no dependency.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from html.parser import HTMLParser
from typing import TYPE_CHECKING

from statusgen.site.feeds import iri

if TYPE_CHECKING:
    from statusgen.site import SiteModel

# Control characters TEXT cannot carry (RFC 5545 3.3.11); newlines are escaped before this.
CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")


def calendar(model: SiteModel, base_url: str) -> str:
    base = base_url.rstrip("/") + "/" if base_url else ""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//statusgen//maintenance windows//EN", "CALSCALE:GREGORIAN",
             f"X-WR-CALNAME:{_text(model.config.site.title + ': maintenance')}"]
    for window in sorted((i for i in model.incidents if i.is_maintenance), key=lambda i: (i.begins, i.id)):
        lines += [
            "BEGIN:VEVENT",
            f"UID:{iri(model, base, window.page)}",
            # No METHOD, so DTSTAMP is when the event was last revised: its latest update, as
            # in the API, and a render that changes nothing writes the same bytes.
            f"DTSTAMP:{_utc(window.updates[0].at if window.updates else window.begins)}",
            f"DTSTART:{_utc(window.scheduled_for)}",
            f"DTEND:{_utc(window.scheduled_until)}",
            f"SUMMARY:{_text(window.title)}",
            f"DESCRIPTION:{_text(_plain(window.html))}",
            *([f"URL:{iri(model, base, window.page)}"] if base else []),  # a URI, so never a relative one
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def _utc(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _text(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\n").replace("\n", "\\n")
    return CONTROL.sub("\ufffd", escaped)


def _fold(line: str) -> str:
    """Lines of at most 75 octets, each continued line starting with a space, never
    splitting a UTF-8 character."""
    parts, current, size = [], "", 0
    for char in line:
        width = len(char.encode())
        if size + width > (75 if not parts else 74):
            parts.append(current)
            current, size = "", 0
        current += char
        size += width
    return "\r\n ".join([*parts, current])


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_data(self, data: str) -> None:
        self.found.append(data)


def _plain(html: str) -> str:
    """The text of sanitised incident HTML: calendars show DESCRIPTION as plain text."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.found).strip()
