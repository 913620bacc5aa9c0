"""Page weight: index.html for N components × 90 days, raw and gzipped, its DOM size and tab stops.

The budget (issue 4): at most 60 KB gzipped for 200 components. The floor printed beside
it is the same page with bars left out, so the figure shows what the bars themselves cost.
Past `max_index_components` (300) the index lists groups and each group has its own page:
the largest page is printed too.
"""

from __future__ import annotations

import gzip
import random
from dataclasses import replace
from datetime import date, timedelta
from html.parser import HTMLParser

from statusgen.config import Config, HistoryConfig, SiteConfig
from statusgen.site import ComponentView, GroupView, SiteModel, SourceView, render_pages
from statusgen.status import Freshness, Status
from statusgen.timeline import Day

NOW_DAY = date(2026, 11, 22)


class Counter(HTMLParser):
    """Counts elements, tab stops (what a keyboard user tabs through), and resources a
    browser would fetch from another host."""

    def __init__(self):
        super().__init__()
        self.elements = 0
        self.tab_stops = 0
        self.external = 0

    def handle_starttag(self, tag, attrs):
        self.elements += 1
        values = dict(attrs)
        self.tab_stops += values.get("tabindex") == "0" or tag == "summary" or (tag == "a" and "href" in values)
        fetched = values.get("src") or (values.get("href") if tag == "link" and values.get("rel") != "alternate" else None)
        if fetched and fetched.startswith(("http://", "https://", "//")):
            self.external += 1


def synthetic_model(components: int, days: int = 90, seed: int = 7) -> SiteModel:
    """A page as a busy data team's would look: mostly green, some bad days."""
    from datetime import datetime, timezone

    rng = random.Random(seed)
    now = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)
    config = Config(file=None, site=SiteConfig(), history=HistoryConfig(), connections={}, sources=[], components=[])
    groups: dict[str, list[ComponentView]] = {}
    for i in range(components):
        bar = []
        for d in range(days):
            bad = rng.random()
            seconds = {Status.OPERATIONAL: 86400}
            if bad < 0.04:
                seconds = {Status.OPERATIONAL: 80000, Status.FAILING: 6400}
            elif bad < 0.10:
                seconds = {Status.OPERATIONAL: 84000, Status.DEGRADED: 2400}
            bar.append(Day(NOW_DAY - timedelta(days=days - 1 - d), seconds, 0, failed_runs=int(bad < 0.04)))
        source = SourceView(f"s{i}", f"source {i}", "wh", "sql", Status.OPERATIONAL, None, None, now, Freshness(), None, [], bar, 99.5)
        component = ComponentView(f"table_{i:04}", f"Table {i:04}", f"Group {i % 12:02}", "Refreshed hourly.", "Data team", None,
                                  Status.OPERATIONAL, None, 99.5, bar, [source])
        groups.setdefault(component.group, []).append(component)
    return SiteModel(config, now, now, [GroupView(n, c) for n, c in groups.items()], [], {Status.FAILING: 1.0, Status.DEGRADED: 0.0})


def measure(components: int) -> dict[str, float]:
    model = synthetic_model(components)
    pages = render_pages(model)
    page = pages["index.html"].encode()
    largest = max((len(gzip.compress(v.encode(), 9)) for k, v in pages.items() if k.endswith(".html")), default=0)
    bare = render_pages(replace(model, groups=[GroupView(g.name, [replace(c, bar=[]) for c in g.components]) for g in model.groups]))
    floor = bare["index.html"].encode()
    counter = Counter()
    counter.feed(page.decode())
    return {
        "components": components,
        "raw_kb": len(page) / 1024,
        "gzip_kb": len(gzip.compress(page, 9)) / 1024,
        "floor_gzip_kb": len(gzip.compress(floor, 9)) / 1024,
        "elements": counter.elements,
        "tab_stops": counter.tab_stops,
        "largest_page_gzip_kb": largest / 1024,
        "external_requests": counter.external,
    }


def run() -> list[dict[str, float]]:
    return [measure(n) for n in (200, 2000)]
