"""Names with quotes, angle brackets, ampersands, `]]>` and attribute break-outs stay text in
every XML file the site writes: the badges and the Atom feed parse, say exactly what was
written, and carry no event handler (issue #13)."""

import json
import xml.etree.ElementTree as ET

import duckdb
import pytest

from statusgen.config import load_config
from statusgen.site import render_pages
from tests.conftest import collect_and_render, utc

pytestmark = pytest.mark.reliability

NOW = utc(2026, 11, 22, 12)
SVG = "{http://www.w3.org/2000/svg}"
ATOM = "{http://www.w3.org/2005/Atom}"

TITLE = "Ops \"status\" <page> & ]]> it's"
# A trailing space, a tab and a newline: an XML parser folds them to spaces in an attribute
# unless they are written as character references.
NAMES = {
    "orders": 'Orders" onload="alert(1);//',
    "raw": 'The "raw" orders table',
    "marks": "It's <b>bold</b> & ]]> <![CDATA[x]]> &amp; done",
    "quotes": "' onmouseover='alert(2)' x='",
    "spaces": "tab\there\nnext line ",
}
GROUP = "Sales \" & <team> 'quoted' ]]>"
URL = 'https://status.example/" onload="alert(3)'
INCIDENT = 'Load "stuck" <again> & ]]> \' onload=\'alert(4)'


def parse(path):
    """Expat rejects anything that is not well-formed XML, with the line and column."""
    root = ET.fromstring(path.read_bytes())
    handlers = [(el.tag, name) for el in root.iter() for name in el.attrib if name.rpartition("}")[2].lower().startswith("on")]
    assert handlers == [], f"{path.name}: event handlers {handlers}"
    return root


def site_config(write_config, tmp_path, names=NAMES):
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as db:
        db.execute("CREATE TABLE t (loaded_at TIMESTAMP)")
        db.execute("INSERT INTO t VALUES ('2026-11-22 09:00'), ('2026-11-22 11:00')")
    (tmp_path / "incidents").mkdir()
    (tmp_path / "incidents/hostile.md").write_text(
        f"---\ntitle: {json.dumps(INCIDENT)}\ncomponents: [orders]\n"
        "scheduled_for: 2026-11-22T11:30:00Z\nscheduled_until: 2026-11-22T13:00:00Z\n---\n"
        'Body with "quotes" & <b>tags</b> ]]> done.\n'
    )
    components = "\n".join(f"  - {{id: {cid}, name: {json.dumps(name)}, group: {json.dumps(GROUP)}, depends_on: [t]}}"
                           for cid, name in names.items())
    path = write_config(
        f"site: {{title: {json.dumps(TITLE)}, url: {json.dumps(URL)}, collect_every: 15m}}\n"
        "connections:\n  wh: {type: sql, database: wh.duckdb}\n"
        "sources:\n  - {id: t, connection: wh, query: SELECT loaded_at FROM t}\n"
        f"components:\n{components}\n"
    )
    return load_config(path, {})


def xml_files(site):
    return sorted([*site.rglob("*.svg"), *site.rglob("*.xml"), *site.rglob("*.atom"), *site.rglob("*.rss")])


def test_badges_parse_and_say_exactly_the_name(write_config, tmp_path):
    summary = collect_and_render(site_config(write_config, tmp_path), tmp_path, NOW)
    site = tmp_path / "site"
    assert [p.relative_to(site).as_posix() for p in xml_files(site)] == [
        *(f"badges/{cid}.svg" for cid in sorted(NAMES)), *(f"components/{cid}.atom" for cid in sorted(NAMES)),
        "feed.xml", "history.atom", "history.rss"]
    for path in xml_files(site):
        parse(path)
    for component in summary.model.components:
        badge = parse(site / f"badges/{component.id}.svg")
        said = f"{NAMES[component.id]}: {component.status.value}"
        assert badge.get("aria-label") == said
        assert badge.find(f"{SVG}title").text == said
        assert [t.text for t in badge.iter(f"{SVG}text")] == [NAMES[component.id], component.status.value]
        assert [el.tag.removeprefix(SVG) for el in badge.iter()] == ["svg", "title", "rect", "rect", "g", "text", "text"]


def test_the_feed_parses_and_says_exactly_the_titles_and_links(write_config, tmp_path):
    summary = collect_and_render(site_config(write_config, tmp_path), tmp_path, NOW)
    feed = parse(tmp_path / "site/feed.xml")
    assert feed.find(f"{ATOM}title").text == TITLE
    assert feed.find(f"{ATOM}id").text == "https://status.example/%22%20onload=%22alert(3)/"  # an IRI: no space, no quote
    assert feed.find(f"{ATOM}link").attrib == {"rel": "self", "type": "application/atom+xml", "href": f"{URL}/feed.xml"}
    entries = {e.find(f"{ATOM}title").text: e for e in feed.iter(f"{ATOM}entry")}
    change = f"{NAMES['orders']}: operational → maintenance"
    assert set(entries) == {f"{INCIDENT} (maintenance)", change}
    assert entries[change].find(f"{ATOM}link").get("href") == f"{URL}/components/orders.html"
    assert entries[f"{INCIDENT} (maintenance)"].find(f"{ATOM}link").get("href") == f"{URL}/incidents/hostile.html"
    # The content is HTML carried as text: one level of escaping in the feed, one in the HTML.
    # Its reason, the hostile incident's title, arrives as the very text it was, not as markup.
    assert ET.fromstring(entries[change].find(f"{ATOM}content").text).text == f"{change}. Under maintenance: {INCIDENT}"
    (incident,) = summary.model.incidents
    assert entries[f"{INCIDENT} (maintenance)"].find(f"{ATOM}content").text == incident.html


def test_characters_xml_cannot_carry_become_replacement_characters(write_config, tmp_path):
    names = {"orders": "Orders\x1b[31m\x00 red\ufffe", "raw": "Raw\x0c\x7f"}
    collect_and_render(site_config(write_config, tmp_path, names), tmp_path, NOW)
    for path in xml_files(tmp_path / "site"):
        parse(path)
    badge = parse(tmp_path / "site/badges/orders.svg")
    assert badge.find(f"{SVG}title").text == "Orders\ufffd[31m\ufffd red\ufffd: maintenance"
    assert "Raw\ufffd\x7f: operational" == parse(tmp_path / "site/badges/raw.svg").get("aria-label")


def test_the_same_model_gives_the_same_bytes(write_config, tmp_path):
    summary = collect_and_render(site_config(write_config, tmp_path), tmp_path, NOW)
    first, second = render_pages(summary.model), render_pages(summary.model)
    written = {p.relative_to(tmp_path / "site").as_posix(): p.read_text() for p in xml_files(tmp_path / "site")}
    assert len(written) == 2 * len(NAMES) + 3
    assert all(first[path] == second[path] == text for path, text in written.items())
