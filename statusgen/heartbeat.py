"""A dead man's switch: after a successful publish, request the URL of a monitor
(healthchecks.io, Cronitor…) that alerts its owner when the requests stop coming.

It is its own step, after the deploy, rather than part of `statusgen run`: what the monitor
must hear is that readers get a fresh page, and a run that renders but whose deploy fails
(Pages down, an expired token) has not given them one. The page it pings for is checked too:
a site whose last collection is already past `site.stale_after` earns no ping.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import requests

from statusgen.config import SiteConfig

TIMEOUT_S = 10


def beat(site: SiteConfig, folder: Path, now: datetime) -> tuple[bool, list[str]]:
    """Whether the monitor was told, and warnings. Never raises for the monitor's sake: a
    monitor that is down must not fail the run that keeps the page fresh."""
    if site.heartbeat_url is None:
        return False, ["no site.heartbeat_url is set: nothing to ping"]
    collected = _last_collected(folder)
    if collected is None:
        return False, [f"no heartbeat: {folder / 'status.json'} does not say when it was collected"]
    if now - collected > site.stale_threshold:
        return False, [f"no heartbeat: the site's last collection ({collected:%Y-%m-%d %H:%M} UTC) is past site.stale_after"]
    try:
        answer = requests.get(site.heartbeat_url.get_secret_value(), timeout=TIMEOUT_S)
    except requests.RequestException as exc:
        # The exception's text holds the URL, which is a secret: name only what went wrong.
        return False, [f"heartbeat failed: {type(exc).__name__}"]
    if answer.status_code >= 400:
        return False, [f"heartbeat failed: the monitor answered HTTP {answer.status_code}"]
    return True, []


def _last_collected(folder: Path) -> datetime | None:
    try:
        stamp = json.loads((folder / "status.json").read_text(encoding="utf-8")).get("last_collected_at")
        moment = datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
        return moment if moment is not None and moment.tzinfo is not None else None
    except (OSError, ValueError, AttributeError):
        return None
