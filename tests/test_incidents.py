"""Incidents and maintenance: Markdown files, sanitised, shown on the page, the feed and the API."""

import json
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import duckdb
import pytest

from statusgen import pipeline
from statusgen.config import load_config
from statusgen.history import History
from statusgen.incidents import Impact, load_incidents, render_markdown
from tests.conftest import collect_and_render, utc

NOW = utc(2026, 11, 22, 12)
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def write(folder, name, text):
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)


def test_front_matter_updates_and_local_times(tmp_path):
    write(tmp_path, "2026-11-20-orders.md", """---
title: Orders arrive late
impact: minor
components: [orders]
started: 2026-11-20 08:30
resolved: 2026-11-20T11:00:00Z
updates:
  - {at: 2026-11-20 09:00, status: identified, body: "The **shop database** is being upgraded."}
---
We are *on it*.
""")
    (incident,), warnings = load_incidents(tmp_path, {"orders"}, AMSTERDAM)
    assert warnings == []
    assert (incident.title, incident.impact, incident.components) == ("Orders arrive late", Impact.MINOR, ["orders"])
    assert incident.started == utc(2026, 11, 20, 7, 30)  # 08:30 in Amsterdam
    assert incident.html == "<p>We are <em>on it</em>.</p>"
    assert incident.updates[0].html == "<p>The <strong>shop database</strong> is being upgraded.</p>"
    assert not incident.active(NOW) and incident.page == "incidents/2026-11-20-orders.html"


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
        '<svg onload="alert(1)"><circle/></svg>',
        '"><iframe src="https://evil.example"></iframe>',
    ],
)
def test_markdown_is_sanitised(hostile):
    html = render_markdown(hostile)
    for bad in ("<script", "onerror", "javascript:", "data:text", "<svg", "onload", "<iframe"):
        assert bad not in html


def test_broken_front_matter_is_named_with_its_line_and_skipped(tmp_path):
    write(tmp_path, "bad.md", "---\ntitle: Oops\nimpact: catastrophic\n---\nbody\n")
    write(tmp_path, "nofront.md", "just text\n")
    write(tmp_path, "ghost.md", "---\ntitle: Ghost\nstarted: 2026-11-20 08:00\ncomponents: [nowhere]\n---\n")
    incidents, warnings = load_incidents(tmp_path, {"orders"}, AMSTERDAM)
    assert [i.id for i in incidents] == ["ghost"]
    assert f"incident skipped: {tmp_path}/bad.md:3:1: impact: Input should be 'none', 'minor', 'major' or 'critical'" in warnings
    assert f"incident skipped: {tmp_path}/nofront.md:1:1: expected YAML front matter between two --- lines" in warnings
    assert "incident ghost.md: no component 'nowhere'; it is shown without them" in warnings


@pytest.fixture
def site_with_incidents(write_config, tmp_path):
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as db:
        db.execute("CREATE TABLE orders (loaded_at TIMESTAMP)")
        db.execute("INSERT INTO orders VALUES ('2026-11-22 09:00'), ('2026-11-22 11:00')")
    write(tmp_path / "incidents", "outage.md", """---
title: Orders table is missing rows
impact: major
components: [orders]
started: 2026-11-22T10:00:00Z
updates:
  - {at: 2026-11-22T10:30:00Z, status: investigating, body: "Looking into it <script>alert(1)</script>"}
---
Some orders are missing.
""")
    write(tmp_path / "incidents", "upgrade.md", """---
title: Warehouse upgrade
components: [orders]
scheduled_for: 2026-11-22T11:30:00Z
scheduled_until: 2026-11-22T13:00:00Z
---
Planned.
""")
    config = write_config(
        """
        site: {title: Shop, url: "https://status.shop.example", collect_every: 15m}
        connections:
          wh: {type: sql, database: wh.duckdb}
        sources:
          - {id: orders_raw, connection: wh, query: SELECT loaded_at FROM orders}
        components:
          - {id: orders, name: Orders, group: Sales, depends_on: [orders_raw]}
        """
    )
    return load_config(config, {})


def build(config, tmp_path, now=NOW):
    return collect_and_render(config, tmp_path, now)


def test_incidents_and_maintenance_reach_the_page_api_feed_and_status(site_with_incidents, tmp_path):
    summary = build(site_with_incidents, tmp_path)
    site = tmp_path / "site"
    index = (site / "index.html").read_text()
    assert "Orders table is missing rows" in index and "Warehouse upgrade" in index
    assert summary.model.components[0].status.value == "maintenance"  # the window is running at 12:00
    incident_page = (site / "incidents/outage.html").read_text()
    assert "Looking into it" in incident_page and "<script>alert" not in incident_page
    summary_json = json.loads((site / "api/v2/summary.json").read_text())
    assert summary_json["status"] == {"indicator": "major", "description": "Major Service Outage"}
    assert summary_json["components"][0]["status"] == "under_maintenance"
    assert [i["name"] for i in summary_json["incidents"]] == ["Orders table is missing rows"]
    assert summary_json["incidents"][0]["status"] == "investigating"
    assert summary_json["scheduled_maintenances"][0]["status"] == "in_progress"
    feed = (site / "feed.xml").read_text()
    assert "<title>Orders table is missing rows</title>" in feed and 'href="https://status.shop.example/incidents/outage.html"' in feed
    assert json.loads((site / "badges/orders.json").read_text()) == {
        "schemaVersion": 1, "label": "Orders", "message": "maintenance", "color": "blue", "cacheSeconds": 900}  # collect_every
    assert 'aria-label="Orders: maintenance"' in (site / "badges/orders.svg").read_text()


def test_a_page_not_checked_for_three_intervals_and_half_an_hour_says_it_may_be_stale(site_with_incidents, tmp_path):
    history = History(tmp_path / "history")
    pipeline.collect(site_with_incidents, history, NOW)
    pipeline.render(site_with_incidents, history, tmp_path / "site", NOW + timedelta(minutes=76))  # 3 × 15 min + 30 min
    stale = (tmp_path / "site/index.html").read_text()
    assert '<section class="notice stale" role="status" data-stale>' in stale
    assert "<span data-fresh hidden>" in stale and "Statuses not known since" in stale
    pipeline.render(site_with_incidents, history, tmp_path / "site", NOW + timedelta(minutes=74))
    fresh = (tmp_path / "site/index.html").read_text()
    assert '<section class="notice stale" role="status" data-stale hidden>' in fresh and "<span data-stale hidden>" in fresh


def test_a_public_site_shows_the_business_view_only(write_config, tmp_path):
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as db:
        db.execute("CREATE TABLE orders (loaded_at TIMESTAMP)")
    config = load_config(write_config(
        """
        site: {audience: public}
        connections:
          wh: {type: sql, database: wh.duckdb}
        sources:
          - {id: internal_loader_name, connection: wh, query: SELECT max(loaded_at) FROM secret_schema.orders_v2}
        components:
          - {id: orders, name: Orders, depends_on: [internal_loader_name]}
        """), {})
    build(config, tmp_path)
    # Every file the site has, feeds and calendar included.
    everything = "".join(p.read_text(errors="replace") for p in (tmp_path / "site").rglob("*") if p.is_file())
    assert "internal_loader_name" not in everything and "secret_schema" not in everything
    assert "Orders" in everything


def test_a_theme_overrides_templates_and_css(write_config, tmp_path):
    theme = tmp_path / "theme"
    theme.mkdir()
    (theme / "style.css").write_text("body { background: hotpink; }")
    (theme / "incidents.html").write_text("{% extends 'base.html' %}{% block main %}<p>Our own incident list</p>{% endblock %}")
    (tmp_path / "wh.duckdb").unlink(missing_ok=True)
    config = load_config(write_config("site: {theme_dir: theme, footer: 'Questions? **#data-help**'}\n"), {})
    build(config, tmp_path)
    site = tmp_path / "site"
    assert "Our own incident list" in (site / "incidents.html").read_text()
    css = next(site.glob("style.*.css"))
    # The theme's stylesheet whole; only the strips' day columns follow it (their number is site.days).
    assert css.read_text().startswith("body { background: hotpink; }\n/* Strips: 90 days")
    assert "<strong>#data-help</strong>" in (site / "index.html").read_text()


def test_a_large_site_lists_groups_on_the_index_and_gives_each_a_page(write_config, tmp_path):
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as db:
        db.execute("CREATE TABLE t (loaded_at TIMESTAMP)")
    lines = ["site: {max_index_components: 3}", "connections:", "  wh: {type: sql, database: wh.duckdb}", "sources:",
             "  - {id: s, connection: wh, query: SELECT max(loaded_at) FROM t}", "components:"]
    lines += [f"  - {{id: c{i}, name: Table {i}, group: 'Group {i % 2}', depends_on: [s]}}" for i in range(6)]
    build(load_config(write_config("\n".join(lines) + "\n"), {}), tmp_path)
    index = (tmp_path / "site/index.html").read_text()
    assert 'href="groups/group-0.html"' in index and "all 3 components" in index
    assert "Table 4" in (tmp_path / "site/groups/group-0.html").read_text()
    assert index.count('class="strip') == 2 and index.count('class="row"') == 0  # a bar per group, no row per component


def test_validate_reads_the_incident_files_and_fails_on_a_bad_one_with_the_config_problems(write_config, tmp_path):
    """Render leaves a bad incident out and still builds; validate names it, beside the
    config's own problems, each with its file, line and field."""
    from click.testing import CliRunner

    from statusgen.cli import main

    write_config("""
        site: {timezone: Europe/Amsterdam}
        connections:
          wh: {type: sql, database: wh.duckdb}
        sources:
          - {id: orders_raw, connection: wh, query: SELECT 1, freshness: {warn_after: 2 hourz}}
        components:
          - {id: orders, name: Orders, depends_on: [orders_raw]}
        """)
    write(tmp_path / "incidents", "bad.md", "---\ntitle: Oops\nimpact: catastrophic\nstarted: 2026-11-20 08:00\n---\nbody\n")
    write(tmp_path / "incidents", "ghost.md", "---\ntitle: Ghost\nstarted: 2026-11-20 08:00\ncomponents: [nowhere]\n---\n")
    write(tmp_path / "incidents", "good.md", "---\ntitle: Fine\nstarted: 2026-11-20 08:00\ncomponents: [orders]\n---\n")
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 2
    assert result.output == (
        "Error: 2 problems in configuration:\n"
        "  sources.yaml:5:67: sources[0].freshness.warn_after: expected a duration like 90s, 15m, 2h or 1d, found '2 hourz'\n"
        "  incidents/bad.md:3:1: impact: Input should be 'none', 'minor', 'major' or 'critical'\n"
    )
    (tmp_path / "incidents/bad.md").unlink()
    write_config("site: {timezone: Europe/Amsterdam}\n")
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 0
    assert "warning: incident ghost.md: no component 'nowhere'; it is shown without them" in result.output


def test_validate_does_not_read_incidents_from_a_folder_it_cannot_trust(write_config, tmp_path):
    """With `site:` wrong, incidents would be read from a place or in a zone the user did not mean."""
    from click.testing import CliRunner

    from statusgen.cli import main

    write_config("site: {timezone: Mars/Olympus}\n")
    write(tmp_path / "incidents", "bad.md", "no front matter\n")
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 2 and "Mars/Olympus" in result.output and "bad.md" not in result.output


def test_incidents_html_lists_now_upcoming_and_past_under_headings(site_with_incidents, tmp_path):
    """At 11:00 the outage is going on, the upgrade is still to come, and a resolved outage of
    the day before is past: each under its heading, and only current ones in an impact colour."""
    write(tmp_path / "incidents", "yesterday.md", """---
title: Outage of the day before
impact: critical
components: [orders]
started: 2026-11-21T08:00:00Z
resolved: 2026-11-21T09:00:00Z
---
Over.
""")
    build(site_with_incidents, tmp_path, utc(2026, 11, 22, 11))
    html = (tmp_path / "site/incidents.html").read_text()
    sections = re.findall(r"<h2[^>]*>([^<]+)</h2>(.*?)</section>", html, re.S)
    titles = [(heading, re.findall(r'class="incident ([^"]+)">\s*<h3 class="incident-title"><a [^>]+>([^<]+)</a>', body))
              for heading, body in sections]
    assert titles == [
        ("Now", [("impact-major", "Orders table is missing rows")]),
        ("Upcoming", [("impact-none", "Warehouse upgrade")]),
        ("Resolved and past", [("impact-critical over", "Outage of the day before")]),
    ]
