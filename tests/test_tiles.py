"""Tiles (tiles/ID.html): a component, dbt exposures included, in a few lines for an iframe in
a BI dashboard: its status, why, when it was last updated, a link to its page that leaves the
frame. Nothing from another host, the pages' policy and age script, a stylesheet of its own;
a public site's tile names no source and says none of their messages."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from statusgen.cli import main
from statusgen.site import age_script, content_security_policy
from tests.conftest import DBT_TARGET

NOW = "2026-11-22T06:00:00Z"
VOID = {"meta", "link", "br", "img", "input", "hr"}


class Tile(HTMLParser):
    """Every attribute that names another file or address, the policy, and the shown text."""

    def __init__(self):
        super().__init__()
        self.addresses: list[tuple[str, str, dict]] = []
        self.policy = None
        self.hidden_depth = 0
        self.shown = ""

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        for name in ("href", "src", "action", "srcset", "data"):
            if name in found:
                self.addresses.append((tag, found[name], found))
        if tag == "meta" and found.get("http-equiv") == "Content-Security-Policy":
            self.policy = found["content"]
        if tag in VOID:
            return  # no end tag to count
        if self.hidden_depth or "hidden" in found or tag in ("head", "script"):
            self.hidden_depth += 1

    def handle_endtag(self, tag):
        if self.hidden_depth:
            self.hidden_depth -= 1

    def handle_data(self, data):
        if not self.hidden_depth:
            self.shown += data


def parsed(path: Path) -> Tile:
    tile = Tile()
    tile.feed(path.read_text())
    return tile


def build(write_config, audience="internal", now=NOW, theme=""):
    """`statusgen run` on the dbt fixture project, its exposures as components."""
    write_config(f"""
        site: {{title: Shop data, audience: {audience}, timezone: Europe/Amsterdam{theme}}}
        connections:
          shop: {{type: dbt, target_dir: "{DBT_TARGET}", exposures_as_components: true}}
        sources:
          - {{id: ad_spend_raw, name: Ad spend loads, connection: shop, node: source.shop.raw.ad_spend}}
        components:
          - {{id: ads, name: Ads, depends_on: [ad_spend_raw]}}
        """)
    done = CliRunner().invoke(main, ["run", "--now", now], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return Path("site")


def test_every_component_has_a_tile_exposures_included(write_config):
    site = build(write_config)
    components = [c["id"] for c in json.loads((site / "status.json").read_text())["components"]]
    assert "revenue_dashboard" in components  # a dbt exposure
    assert sorted(p.stem for p in (site / "tiles").glob("*.html")) == sorted(components)


def test_a_tile_says_status_why_and_when_and_links_its_page_out_of_the_frame(write_config):
    site = build(write_config)
    tile = parsed(site / "tiles/revenue_dashboard.html")
    shown = " ".join(tile.shown.split())
    assert "Failing" in shown
    # Why: how long, since when; on an internal site the worst source and its message, as the page says them.
    assert re.search(r"Failing for \d+ \w+, since Nov \d+ \d\d:\d\d", shown), shown
    assert "test not_null_dim_customers_email failed" in shown
    # When: the absolute time stays true however late the tile is read.
    assert re.search(r"Updated [^(]+ \(Nov \d+ \d\d:\d\d\)", shown), shown
    links = [(tag, href, attrs) for tag, href, attrs in tile.addresses if tag == "a"]
    assert [(href, attrs.get("target")) for _, href, attrs in links] == [("../components/revenue_dashboard.html", "_top")]


def test_a_tile_requests_nothing_but_its_own_stylesheet_under_the_pages_policy(write_config):
    site = build(write_config)
    tile = parsed(site / "tiles/ads.html")
    assert tile.policy == content_security_policy(age_script())
    assert age_script() in (site / "tiles/ads.html").read_text()
    fetched = [(tag, href) for tag, href, _ in tile.addresses if tag != "a"]
    (stylesheet,) = fetched
    assert re.fullmatch(r"\.\./tile\.[0-9a-f]{10}\.css", stylesheet[1]) and (site / "tiles" / stylesheet[1]).is_file()
    css = (site / "tiles" / stylesheet[1]).read_text()
    assert "url(" not in css and "@import" not in css and "prefers-color-scheme: dark" in css


def test_a_public_tile_names_no_source_and_says_no_message(write_config):
    internal = json.loads((build(write_config) / "status.json").read_text())["sources"]
    site = build(write_config, audience="public")
    said = {s["id"] for s in internal} | {s["name"] for s in internal} | {s["message"] for s in internal if s["message"]}
    for path in sorted((site / "tiles").glob("*.html")):
        # Whole words: a source `marketing_roi` is not named by the component `marketing_roi_report`.
        text = path.read_text()
        assert [s for s in said if re.search(rf"(?<!\w){re.escape(s)}(?!\w)", text)] == [], path.name
        assert {href for tag, href, _ in parsed(path).addresses if tag == "a"} == {f"../components/{path.stem}.html"}
    assert "Failing for" in parsed(site / "tiles/revenue_dashboard.html").shown


def test_past_stale_after_a_tile_says_its_status_is_not_known(write_config):
    # Collected at 06:00 and read (rendered) a day later: the schedule has stopped.
    site = build(write_config)
    CliRunner().invoke(main, ["render", "--now", "2026-11-23T06:00:00Z"], catch_exceptions=False)
    shown = " ".join(parsed(site / "tiles/ads.html").shown.split())
    assert "Unknown" in shown and "Not checked since Nov 22 07:00" in shown
    assert "Failing" not in shown


def test_a_theme_may_replace_the_tiles_stylesheet(write_config, tmp_path):
    (tmp_path / "theme").mkdir()
    (tmp_path / "theme/tile.css").write_text("body { background: #123456; }\n")
    site = build(write_config, theme=", theme_dir: theme")
    (css,) = site.glob("tile.*.css")
    assert css.read_text() == "body { background: #123456; }\n"
    assert f'href="../{css.name}"' in (site / "tiles/ads.html").read_text()


@pytest.mark.parametrize("path", ["components/ads.html", "components/revenue_dashboard.html"])
def test_a_component_page_shows_how_to_embed_its_tile(write_config, path):
    site = build(write_config)
    page = (site / path).read_text()
    component = Path(path).stem
    assert "YOUR-SITE" not in page and "With <code>site.url</code> set" in page  # no address to give: say what to set
    assert f'href="../tiles/{component}.html"' in page
