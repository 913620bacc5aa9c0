"""The pages lead to the feeds: every page names the site's Atom and RSS feeds in its head,
a component's page its own feed too, and the incidents page and each component page show a
subscribe link a reader can see; each link reaches a file of the site of the type it says."""

import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

import duckdb
import pytest

from statusgen.config import load_config
from tests.conftest import collect_and_render, utc

NOW = utc(2026, 11, 22, 12)
ROOT_TAG = {"application/atom+xml": "{http://www.w3.org/2005/Atom}feed", "application/rss+xml": "rss"}


class Links(HTMLParser):
    """`<link rel="alternate">` in the head, and links inside `<main>`, as (href, type)."""

    def __init__(self):
        super().__init__()
        self.alternate: list[tuple[str, str]] = []
        self.shown: list[tuple[str, str | None]] = []
        self._in_main = False

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "link" and found.get("rel") == "alternate":
            self.alternate.append((found["href"], found["type"]))
        elif tag == "main":
            self._in_main = True
        elif tag == "a" and self._in_main:
            self.shown.append((found["href"], found.get("type")))

    def handle_endtag(self, tag):
        if tag == "main":
            self._in_main = False


def links(site: Path, page: str) -> Links:
    parser = Links()
    parser.feed((site / page).read_text())
    return parser


def target(page: str, href: str) -> str:
    """The site path a relative link of `page` reaches."""
    parts: list[str] = []
    for part in (PurePosixPath(page).parent / href).parts:
        if part == "..":
            parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("feed-links")
    with duckdb.connect(str(root / "wh.duckdb")) as db:
        db.execute("CREATE TABLE orders AS SELECT TIMESTAMP '2026-11-22 11:00' AS loaded_at")
    (root / "incidents").mkdir()
    (root / "incidents/late.md").write_text(
        "---\ntitle: Orders late\ncomponents: [orders]\nstarted: 2026-11-22T08:00:00Z\n---\nLate.\n")
    (root / "sources.yaml").write_text(
        "site: {title: Shop data}\nconnections:\n  wh: {type: sql, database: wh.duckdb}\n"
        "sources:\n  - {id: orders_raw, connection: wh, query: SELECT max(loaded_at) FROM orders}\n"
        "components:\n  - {id: orders, name: Orders, depends_on: [orders_raw]}\n")
    collect_and_render(load_config(root / "sources.yaml", {}), root, NOW)
    return root / "site"


def test_every_page_names_the_sites_atom_and_rss_feeds_in_its_head(site):
    # Tiles are parts of other sites' pages (iframes), not pages a reader subscribes from.
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html") if p.parent.name != "tiles")
    assert {"index.html", "incidents.html", "components/orders.html", "incidents/late.html"} <= set(pages)
    for page in pages:
        named = {target(page, href): kind for href, kind in links(site, page).alternate}
        assert named.get("history.atom") == "application/atom+xml", page
        assert named.get("history.rss") == "application/rss+xml", page


def test_a_component_page_names_its_own_feed_in_the_head_and_shows_it(site):
    page = links(site, "components/orders.html")
    assert ("components/orders.atom", "application/atom+xml") in {(target("components/orders.html", h), t) for h, t in page.alternate}
    assert ("components/orders.atom", "application/atom+xml") in {(target("components/orders.html", h), t) for h, t in page.shown}


def test_the_incidents_page_shows_the_feeds_and_the_maintenance_calendar(site):
    shown = {target("incidents.html", href): kind for href, kind in links(site, "incidents.html").shown}
    assert shown["history.atom"] == "application/atom+xml"
    assert shown["history.rss"] == "application/rss+xml"
    assert shown["maintenance.ics"] == "text/calendar"
    assert (site / "maintenance.ics").read_text().startswith("BEGIN:VCALENDAR")


def test_every_feed_link_reaches_a_feed_of_the_type_it_says(site):
    for path in sorted(site.rglob("*.html")):
        page = path.relative_to(site).as_posix()
        parsed = links(site, page)
        for href, kind in parsed.alternate + [(h, t) for h, t in parsed.shown if t in ROOT_TAG]:
            assert ET.fromstring((site / target(page, href)).read_bytes()).tag == ROOT_TAG[kind], (page, href)


def test_a_component_pages_head_holds_its_title_and_links_only(site):
    """What a component page adds (its feed, the subscribe line) is in its place, once."""
    page = (site / "components/orders.html").read_text()
    head, body = page.split("</head>")
    assert "<title>Orders · Shop data</title>" in head and "<h2" not in head
    assert body.count("Subscribe to its incidents") == 1
