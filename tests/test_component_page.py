"""A component page read by someone new to it: the runs table, how long ago in words that
explain the status, "Updated", and the badge lines (issue #15, items 20-22)."""

import re
from datetime import timedelta

import duckdb
import pytest

from statusgen.config import load_config
from statusgen.records import Run
from statusgen.site.runs import columns, own_id
from statusgen.site.words import ago
from statusgen.status import RunState
from tests.conftest import collect_and_render, utc

NOW = utc(2026, 11, 22, 12)


@pytest.fixture
def shop(write_config, tmp_path):
    """Orders loaded 30 hours ago against a promise of failing after 1 d; a second table
    that never loaded anything."""
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as db:
        db.execute("CREATE TABLE orders (loaded_at TIMESTAMP, n INTEGER)")
        db.execute("INSERT INTO orders VALUES ('2026-11-21 06:00', 120)")
        db.execute("CREATE TABLE refunds (loaded_at TIMESTAMP)")

    def config(site=""):
        return load_config(write_config(
            f"""
            site: {{title: Shop, timezone: Europe/Amsterdam, days: 3{site}}}
            connections:
              wh: {{type: sql, database: wh.duckdb}}
            sources:
              - {{id: orders_raw, connection: wh, query: "SELECT loaded_at, n FROM orders", freshness: {{warn_after: 6h, error_after: 1d}}}}
              - {{id: refunds_raw, connection: wh, query: "SELECT loaded_at FROM refunds"}}
            components:
              - {{id: orders, name: Orders, depends_on: [orders_raw]}}
              - {{id: money, name: Money, depends_on: [orders_raw, refunds_raw]}}
            """
        ), {})

    return config


def page(config, tmp_path, name="orders"):
    collect_and_render(config, tmp_path, NOW)
    return (tmp_path / f"site/components/{name}.html").read_text()


def test_a_table_load_has_no_id_of_its_own_and_no_empty_columns(shop, tmp_path):
    html = page(shop(), tmp_path)
    runs = html.index("<caption>Recent runs of")  # the component's own table of days comes first
    table = html[runs:html.index("</table>", runs)]
    assert re.findall(r'<th scope="col">([^<]+)</th>', table) == ["State", "Ended", "Rows"]
    # Its one time is in the site's zone (07:00 in Amsterdam), not also in UTC as an id.
    assert "loaded@" not in html and "Nov 21 07:00" in table and "—" not in table


def test_an_id_is_shown_where_it_names_the_run():
    ended = utc(2026, 11, 22, 3)
    load = Run("s", f"loaded@{ended.isoformat()}", RunState.SUCCESS, ended_at=ended)
    build = Run("s", "b104e384-b561-5d96-8734-3fc39bfbddc5", RunState.SUCCESS, ended - timedelta(seconds=40), ended)
    scheduled = Run("s", f"scheduled__{ended.isoformat()}", RunState.FAILED, ended_at=ended + timedelta(hours=1))
    assert [own_id(r) for r in (load, build, scheduled)] == [None, build.run_id, scheduled.run_id]
    assert columns([load]) == ("state", "ended")
    assert columns([load, build]) == ("run", "state", "started", "ended", "took")


def test_how_long_ago_is_precise_enough_to_explain_the_status(shop, tmp_path):
    assert ago(timedelta(hours=30)) == "1 d 6 h ago"
    html = page(shop(), tmp_path)
    assert "failing after 1 d" in html
    assert re.search(r"Last success</dt><dd><time [^>]*>1 d 6 h ago</time>", html)
    assert re.search(r"Failing for <time [^>]*>6 h</time>", html)


def test_a_component_whose_data_loaded_is_not_updated_never(shop, tmp_path):
    """Money's refunds never loaded (its status says so); its orders did, 30 hours ago."""
    html = page(shop(), tmp_path, "money")
    assert re.search(r"Updated <time [^>]*>1 d 6 h ago</time> \(Nov 21 07:00\)", html)


def test_the_shields_line_needs_the_sites_address(shop, tmp_path):
    html = page(shop(), tmp_path)
    assert "YOUR-SITE" not in html and "img.shields.io" not in html
    html = page(shop(", url: 'https://status.shop.example'"), tmp_path)
    assert "https://img.shields.io/endpoint?url=https://status.shop.example/badges/orders.json" in html


def test_the_tile_line_to_paste_needs_the_sites_address_too(shop, tmp_path):
    html = page(shop(), tmp_path)
    assert "&lt;iframe" not in html and "With <code>site.url</code> set" in html
    html = page(shop(", url: 'https://status.shop.example'"), tmp_path)
    assert "&lt;iframe src=&#34;https://status.shop.example/tiles/orders.html&#34;" in html
