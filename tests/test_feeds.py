"""The feeds as RFC 4287 requires them (checked element by element: no Atom validator installs
from pip), RSS 2.0 beside them, a feed per component, and the maintenance calendar."""

import re
import xml.etree.ElementTree as ET
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import duckdb
import pytest

from statusgen.config import load_config
from tests.conftest import collect_and_render, utc

NOW = utc(2026, 11, 22, 12)
URL = "https://status.shop.example/data"
ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


@pytest.fixture
def shop(write_config, tmp_path):
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as db:
        db.execute("CREATE TABLE orders (loaded_at TIMESTAMP)")
        db.execute("INSERT INTO orders VALUES ('2026-11-22 11:00')")
    (tmp_path / "incidents").mkdir()
    (tmp_path / "incidents/late.md").write_text(
        "---\ntitle: Orders late\nimpact: minor\ncomponents: [orders]\nstarted: 2026-11-22T08:00:00Z\n---\nLate.\n")
    # Announced ahead: its entry is dated in the future, and the feed's updated with it.
    (tmp_path / "incidents/upgrade.md").write_text(
        "---\ntitle: Warehouse upgrade\ncomponents: [refunds]\nscheduled_for: 2026-11-29T01:00:00Z\n"
        "scheduled_until: 2026-11-29T03:00:00Z\n---\nPlanned; tools, commas; and \\\\ back\\slashes.\n")
    return lambda url=URL: load_config(write_config(
        f"""
        site: {{title: Acme data status, {f'url: "{url}"' if url else ''}}}
        connections:
          wh: {{type: sql, database: wh.duckdb}}
        sources:
          - {{id: orders_raw, connection: wh, query: SELECT max(loaded_at) FROM orders}}
        components:
          - {{id: orders, name: Orders, depends_on: [orders_raw]}}
          - {{id: refunds, name: Refunds, depends_on: [orders_raw]}}
        """), {})


def is_iri(text):
    """An absolute IRI (RFC 3987): a scheme, and no space, quote or angle bracket anywhere."""
    return re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", text) is not None and not re.search(r"[\s\"<>]", text)


def atom_feed(path, absolute):
    """The feed at `path` checked against RFC 4287's required elements; its root."""
    feed = ET.fromstring(path.read_bytes())
    assert feed.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert len(feed.findall(f"{ATOM}{name}")) == 1, name  # 4.1.1: exactly one each
    assert is_iri(feed.find(f"{ATOM}id").text)
    assert feed.find(f"{ATOM}author/{ATOM}name").text  # 4.1.1: an author, as no entry carries one
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert set(links) == {"self", "alternate"}
    updated = datetime.fromisoformat(feed.find(f"{ATOM}updated").text)
    entries = feed.findall(f"{ATOM}entry")
    for entry in entries:
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{ATOM}{name}")) == 1, name  # 4.1.2
        assert is_iri(entry.find(f"{ATOM}id").text) and RFC3339.fullmatch(entry.find(f"{ATOM}updated").text)
        assert entry.find(f"{ATOM}link[@rel='alternate']") is not None  # 4.1.2: no content src, so a link
        assert datetime.fromisoformat(entry.find(f"{ATOM}updated").text) <= updated
        links[entry.find(f"{ATOM}id").text] = entry.find(f"{ATOM}link").get("href")
    assert len({e.find(f"{ATOM}id").text for e in entries}) == len(entries)  # ids are unique
    assert all(bool(urlsplit(href).netloc) == absolute for href in links.values() if not href.startswith("tag:"))
    return feed


def test_every_atom_feed_has_what_rfc_4287_requires(shop, tmp_path):
    collect_and_render(shop(), tmp_path, NOW)
    site = tmp_path / "site"
    for path in ("history.atom", "feed.xml", "components/orders.atom", "components/refunds.atom"):
        atom_feed(site / path, absolute=True)
    feed = atom_feed(site / "history.atom", absolute=True)
    assert feed.find(f"{ATOM}id").text == f"{URL}/"
    assert {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")} == {
        "self": f"{URL}/history.atom", "alternate": f"{URL}/index.html"}
    assert feed.find(f"{ATOM}updated").text == "2026-11-29T01:00:00Z"  # the announced window's entry
    # Two addresses of one feed: the same id, each its own self link.
    old = atom_feed(site / "feed.xml", absolute=True)
    assert old.find(f"{ATOM}id").text == feed.find(f"{ATOM}id").text
    assert old.find(f"{ATOM}link[@rel='self']").get("href") == f"{URL}/feed.xml"


def test_without_site_url_ids_are_tag_uris_and_links_relative_to_the_feed(shop, tmp_path):
    collect_and_render(shop(url=None), tmp_path, NOW)
    feed = atom_feed(tmp_path / "site/components/orders.atom", absolute=False)
    assert feed.find(f"{ATOM}id").text == "tag:statusgen,2026:acme-data-status/components/orders.html"
    assert feed.find(f"{ATOM}link[@rel='alternate']").get("href") == "../components/orders.html"
    assert [e.find(f"{ATOM}link").get("href") for e in feed.iter(f"{ATOM}entry")] == ["../incidents/late.html"]


def test_a_components_feed_holds_its_own_incidents(shop, tmp_path):
    collect_and_render(shop(), tmp_path, NOW)
    titles = lambda path: [e.find(f"{ATOM}title").text for e in ET.parse(tmp_path / "site" / path).iter(f"{ATOM}entry")]  # noqa: E731
    assert titles("components/orders.atom") == ["Orders late"]
    assert titles("components/refunds.atom") == ["Warehouse upgrade (maintenance)"]
    assert titles("history.atom") == ["Warehouse upgrade (maintenance)", "Orders late"]


def test_rss_carries_the_same_entries(shop, tmp_path):
    collect_and_render(shop(), tmp_path, NOW)
    channel = ET.parse(tmp_path / "site/history.rss").getroot().find("channel")
    assert [channel.find(name).text for name in ("title", "link", "description")] == [
        "Acme data status", f"{URL}/index.html", "Acme data status"]
    items = channel.findall("item")
    assert [(i.find("title").text, i.find("link").text, i.find("guid").text) for i in items] == [
        ("Warehouse upgrade (maintenance)", f"{URL}/incidents/upgrade.html", f"{URL}/incidents/upgrade.html"),
        ("Orders late", f"{URL}/incidents/late.html", f"{URL}/incidents/late.html")]
    assert parsedate_to_datetime(items[1].find("pubDate").text) == utc(2026, 11, 22, 8)


def unfolded(text):
    """RFC 5545 3.1: content lines end in CRLF, are at most 75 octets, and continue on lines
    that start with a space. The logical lines, as name → values."""
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    lines = text.replace("\r\n ", "").split("\r\n")[:-1]
    found = {}
    for line in lines:
        name, _, value = line.partition(":")
        found.setdefault(name, []).append(value)
    return lines, found


def untext(value):
    """A TEXT value read back (RFC 5545 3.3.11)."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], value)


def test_maintenance_windows_make_a_calendar_people_can_subscribe_to(shop, tmp_path):
    title = "Überarbeitung des Lagers, Teil 1; 財務データの移行 " * 3  # past 75 octets, multi-byte at the fold
    (tmp_path / "incidents/long.md").write_text(
        f"---\ntitle: {title!r}\ncomponents: [orders]\nscheduled_for: 2026-11-30T22:00:00Z\n"
        "scheduled_until: 2026-12-01T02:00:00Z\n---\n")
    collect_and_render(shop(), tmp_path, NOW)
    lines, found = unfolded((tmp_path / "site/maintenance.ics").read_bytes().decode())
    assert (lines[0], lines[-1]) == ("BEGIN:VCALENDAR", "END:VCALENDAR")
    assert found["VERSION"] == ["2.0"] and found["PRODID"] and found["BEGIN"].count("VEVENT") == 2
    assert [untext(s) for s in found["SUMMARY"]] == ["Warehouse upgrade", title]
    assert found["DTSTART"] == ["20261129T010000Z", "20261130T220000Z"] and found["DTEND"][0] == "20261129T030000Z"
    assert found["UID"] == [f"{URL}/incidents/upgrade.html", f"{URL}/incidents/long.html"] and found["URL"] == found["UID"]
    assert found["DTSTAMP"][0] == "20261129T010000Z"  # its last revision: no update, so when it begins
    assert untext(found["DESCRIPTION"][0]) == "Planned; tools, commas; and \\ back\\slashes."
    assert found["DESCRIPTION"][0] == "Planned\\; tools\\, commas\\; and \\\\ back\\\\slashes."
