"""The rendered site: content, escaping of everything users and APIs write, safe output."""

import json
import re
from datetime import timedelta

import duckdb
import pytest

from statusgen.config import load_config
from statusgen.errors import StatusgenError
from statusgen.site import age_script
from tests.conftest import collect_and_render, utc

NOW = utc(2026, 11, 22, 12)
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def site_config(write_config, tmp_path):
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as db:
        db.execute("CREATE TABLE orders (loaded_at TIMESTAMP)")
        db.execute("INSERT INTO orders VALUES ('2026-11-22 11:00')")
    path = write_config(
        f"""
        site:
          title: '{HOSTILE}'
          description: 'Data <b>status</b>'
          days: 3
        connections:
          wh: {{type: sql, database: wh.duckdb}}
        sources:
          - id: orders_raw
            name: '{HOSTILE}'
            connection: wh
            query: SELECT max(loaded_at) FROM orders
            freshness: {{warn_after: 2h, error_after: 6h}}
          - id: broken
            connection: wh
            query: SELECT max(loaded_at) FROM "{HOSTILE}"
        components:
          - id: orders
            name: '{HOSTILE}'
            group: '<i>Sales</i>'
            description: 'javascript:alert(1)'
            depends_on: [orders_raw]
          - id: broken
            name: Broken thing
            depends_on: [broken]
        """
    )
    return load_config(path, {})


def build(config, tmp_path, now=NOW):
    return collect_and_render(config, tmp_path, now)


def test_site_has_index_component_pages_json_and_css(site_config, tmp_path):
    summary = build(site_config, tmp_path)
    site = tmp_path / "site"
    files = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    css = next(f for f in files if f.startswith("style."))
    assert re.fullmatch(r"style\.[0-9a-f]{10}\.css", css) and f'href="{css}"' in (site / "index.html").read_text()
    tile_css = next(f for f in files if f.startswith("tile."))
    assert re.fullmatch(r"tile\.[0-9a-f]{10}\.css", tile_css) and f'href="../{tile_css}"' in (site / "tiles/orders.html").read_text()
    assert [f for f in files if f not in (css, tile_css)] == [
        ".statusgen-site",
        "api/v2/components.json", "api/v2/incidents.json", "api/v2/incidents/unresolved.json",
        "api/v2/scheduled-maintenances.json", "api/v2/scheduled-maintenances/active.json",
        "api/v2/scheduled-maintenances/upcoming.json", "api/v2/status.json", "api/v2/summary.json",
        "badges/broken.json", "badges/broken.svg", "badges/orders.json", "badges/orders.svg",
        "components/broken.atom", "components/broken.html", "components/orders.atom", "components/orders.html",
        "favicon.ico", "feed.xml", "history.atom", "history.html", "history.rss", "incidents.html", "index.html", "maintenance.ics", "status.json",
        "tiles/broken.html", "tiles/orders.html",
    ]
    assert summary.pages == len(files) - 1
    status = json.loads((site / "status.json").read_text())
    assert status["status"] == "unknown"
    assert status["generated_at"] == "2026-11-22T12:00:00Z"
    assert [(c["id"], c["status"], c["sources"]) for c in status["components"]] == [
        ("orders", "operational", ["orders_raw"]),
        ("broken", "unknown", ["broken"]),
    ]
    sources = {s["id"]: s for s in status["sources"]}
    assert sources["orders_raw"]["last_success_at"] == "2026-11-22T11:00:00Z"
    assert sources["orders_raw"]["last_run_state"] == "success"
    assert sources["broken"]["message"].startswith("query failed: ")  # then DuckDB's own words


def test_everything_from_config_and_apis_is_escaped(site_config, tmp_path):
    build(site_config, tmp_path)
    for page in ("index.html", "components/orders.html", "components/broken.html"):
        html = (tmp_path / "site" / page).read_text()
        # The page's own script, once, and no other (tests/test_page_age.py: the CSP allows only it).
        assert html.count("<script") == 1 and f"<script>{age_script()}</script>" in html
        assert "<img src=x" not in html and "<b>" not in html and "<i>" not in html
    index = (tmp_path / "site/index.html").read_text()
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in index
    assert 'href="javascript:' not in index


def test_each_day_has_a_text_label_not_only_a_colour(site_config, tmp_path):
    build(site_config, tmp_path)
    index = (tmp_path / "site/index.html").read_text()
    # On the index each bar is one image named by a sentence counting its days; every day's
    # words are on the component's page, newest first.
    assert re.findall(r'class="strip[^"]*" role="img" aria-label="[^"]*?, (\d+ days: [^"]*)"', index) == [
        "3 days: 2 no data, 1 operational; 100.00 % uptime",
        "3 days: 3 no data",
    ]
    page = (tmp_path / "site/components/orders.html").read_text()
    days = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td></tr>", page)
    assert len(days) == 3 and days[:2] == [("Nov 22", "operational, partly no data"), ("Nov 21", "no data")]


def test_a_later_render_replaces_the_site_whole(site_config, tmp_path):
    build(site_config, tmp_path)
    (tmp_path / "site/components/stale.html").write_text("from a removed component")
    build(site_config, tmp_path, NOW + timedelta(hours=1))
    assert not (tmp_path / "site/components/stale.html").exists()


def test_never_overwrites_a_folder_statusgen_did_not_make(site_config, tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site/precious.txt").write_text("mine")
    with pytest.raises(StatusgenError, match="exists and was not made by statusgen"):
        build(site_config, tmp_path)
    assert (tmp_path / "site/precious.txt").read_text() == "mine"


def test_very_long_and_right_to_left_names_stay_inert_text(write_config, tmp_path):
    long_name = "Orders" + "x" * 10_000
    rtl = "הזמנות \u202eevil\u202c طلبات"
    (tmp_path / "wh.duckdb").unlink(missing_ok=True)
    config = load_config(write_config(
        f"""
        connections:
          wh: {{type: sql, database: wh.duckdb}}
        sources:
          - {{id: s, connection: wh, query: SELECT 1, name: "{rtl}"}}
        components:
          - {{id: long, name: "{long_name}", description: "{rtl}", depends_on: [s]}}
        """), {})
    build(config, tmp_path)
    index = (tmp_path / "site/index.html").read_text()
    assert long_name in index and rtl in index
    css = next((tmp_path / "site").glob("style.*.css")).read_text()
    assert "overflow-wrap: anywhere" in css  # long words wrap instead of widening the page
