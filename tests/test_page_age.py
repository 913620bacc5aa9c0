"""How old the page is: one stale threshold for the render and the page's script, absolute
times beside relative ones, machine outputs that say their age, and the heartbeat."""

import base64
import hashlib
import json
import re
from datetime import timedelta

import duckdb
import pytest
from click.testing import CliRunner
from werkzeug import Response

from statusgen import pipeline
from statusgen.cli import main
from statusgen.config import load_config
from statusgen.errors import ConfigError
from statusgen.history import History
from statusgen.site import age_script
from tests.conftest import utc

T = utc(2026, 11, 30, 4)
HEARTBEAT = "/ping/3f1c-secret-uuid"


@pytest.fixture
def config_text(tmp_path):
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as db:
        db.execute("CREATE TABLE orders (loaded_at TIMESTAMP)")
        db.execute("INSERT INTO orders VALUES ('2026-11-30 03:50')")
    return lambda site="{}": f"""site: {site}
connections:
  wh: {{type: sql, database: wh.duckdb}}
sources:
  - {{id: orders_raw, connection: wh, query: SELECT max(loaded_at) FROM orders, freshness: {{warn_after: 3h}}}}
components:
  - {{id: orders, name: Orders, depends_on: [orders_raw]}}
"""


def config_of(tmp_path, text, environ=None):
    (tmp_path / "sources.yaml").write_text(text)
    return load_config(tmp_path / "sources.yaml", environ or {})


def collected(config, tmp_path, at=T):
    history = History(tmp_path / "history")
    pipeline.collect(config, history, at)
    return history


def test_stale_after_defaults_to_three_schedules_and_half_an_hour(tmp_path, config_text):
    assert config_of(tmp_path, config_text()).site.stale_threshold == timedelta(hours=2)  # collect_every 30m
    assert config_of(tmp_path, config_text("{collect_every: 1h}")).site.stale_threshold == timedelta(hours=3, minutes=30)
    assert config_of(tmp_path, config_text("{collect_every: 1h, stale_after: 45m}")).site.stale_threshold == timedelta(minutes=45)


def test_the_render_and_the_script_judge_by_the_same_moment(tmp_path, config_text):
    config = config_of(tmp_path, config_text("{stale_after: 1h}"))
    history = collected(config, tmp_path)
    fresh = pipeline.model(config, history, T + timedelta(hours=1))
    stale = pipeline.model(config, history, T + timedelta(hours=1, seconds=1))
    assert fresh.stale_at == stale.stale_at == T + timedelta(hours=1)
    assert not fresh.stale and stale.stale
    pipeline.render(config, history, tmp_path / "site", T + timedelta(minutes=5))
    html = (tmp_path / "site/index.html").read_text()
    assert 'data-last-collected="2026-11-30T04:00:00Z" data-stale-at="2026-11-30T05:00:00Z"' in html


def test_a_page_never_collected_is_stale(tmp_path, config_text):
    config = config_of(tmp_path, config_text())
    model = pipeline.model(config, History(tmp_path / "history"), T)
    assert model.stale_at is None and model.stale


def test_failing_for_counts_only_to_the_last_collection_once_stale(tmp_path, config_text):
    config = config_of(tmp_path, config_text())
    history = collected(config, tmp_path)
    assert pipeline.model(config, history, T + timedelta(minutes=5)).known_until == T + timedelta(minutes=5)
    assert pipeline.model(config, history, T + timedelta(hours=3)).known_until == T


def test_every_relative_time_has_its_absolute_time_beside_it(tmp_path, config_text):
    config = config_of(tmp_path, config_text("{timezone: Europe/Amsterdam}"))
    history = collected(config, tmp_path)
    pipeline.render(config, history, tmp_path / "site", T + timedelta(minutes=5))
    for page in ("index.html", "components/orders.html"):
        html = (tmp_path / "site" / page).read_text()
        times = re.findall(r'<time datetime="([^"]+)" data-ago>[^<]*</time> \(([^)]+)\)', html)
        assert len(times) == html.count("data-ago>") > 0, page
        assert ("2026-11-30T03:50:00Z", "Nov 30 04:50") in times  # the last success, in the site's zone
    assert "Last checked <time datetime=\"2026-11-30T04:00:00Z\" data-ago>5 min ago</time> (2026-11-30 05:00 CET)" in (
        tmp_path / "site/index.html").read_text()


def test_the_policy_allows_exactly_the_pages_script(tmp_path, config_text):
    config = config_of(tmp_path, config_text())
    pipeline.render(config, collected(config, tmp_path), tmp_path / "site", T)
    html = (tmp_path / "site/index.html").read_text()
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html).group(1).replace("&#39;", "'")
    script = re.search(r"<script>(.*?)</script>", html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert script == age_script()
    assert f"script-src 'sha256-{digest}';" in policy and policy.startswith("default-src 'none';")
    assert "unsafe-inline" not in policy


def test_machine_outputs_say_how_old_they_are_and_badges_stay_put(tmp_path, config_text):
    config = config_of(tmp_path, config_text("{collect_every: 20m}"))
    history = collected(config, tmp_path)
    pipeline.render(config, history, tmp_path / "early", T + timedelta(minutes=1))
    pipeline.render(config, history, tmp_path / "late", T + timedelta(minutes=19))
    summary = json.loads((tmp_path / "late/api/v2/summary.json").read_text())
    assert summary["page"]["updated_at"] == "2026-11-30T04:00:00Z"  # the collection, not the render
    assert json.loads((tmp_path / "late/status.json").read_text())["last_collected_at"] == "2026-11-30T04:00:00Z"
    assert json.loads((tmp_path / "late/badges/orders.json").read_text())["cacheSeconds"] == 1200
    for badge in ("badges/orders.svg", "badges/orders.json", "api/v2/summary.json"):
        assert (tmp_path / "early" / badge).read_bytes() == (tmp_path / "late" / badge).read_bytes(), badge


def test_the_heartbeat_url_is_a_secret_from_the_environment(tmp_path, config_text):
    with pytest.raises(ConfigError) as raised:
        config_of(tmp_path, config_text("{heartbeat_url: 'https://hc-ping.com/abc'}"))
    assert "secrets must come from the environment" in str(raised.value) and "hc-ping.com/abc" not in str(raised.value)
    with pytest.raises(ConfigError) as raised:
        config_of(tmp_path, config_text("{heartbeat_url: '${HB}'}"), {"HB": "ftp://secret-host/x"})
    assert "http:// or https://" in str(raised.value) and "secret-host" not in str(raised.value)
    assert config_of(tmp_path, config_text("{heartbeat_url: '${HB:-}'}")).site.heartbeat_url is None


@pytest.fixture
def heartbeat_site(tmp_path, config_text, httpserver, monkeypatch):
    """A site rendered from a collection at T, with site.heartbeat_url at the local server."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HB", httpserver.url_for(HEARTBEAT))
    config = config_of(tmp_path, config_text("{heartbeat_url: '${HB}'}"), {"HB": httpserver.url_for(HEARTBEAT)})
    pipeline.render(config, collected(config, tmp_path), tmp_path / "site", T)
    return tmp_path


def heartbeat(now):
    return CliRunner().invoke(main, ["heartbeat", "--site", "site", "--now", now])


def test_a_fresh_published_site_pings_the_monitor(heartbeat_site, httpserver):
    httpserver.expect_oneshot_request(HEARTBEAT, method="GET").respond_with_data("OK")
    result = heartbeat("2026-11-30T04:03:00Z")
    assert result.exit_code == 0 and "heartbeat sent" in result.output
    httpserver.check_assertions()
    assert "secret-uuid" not in result.output


@pytest.mark.parametrize("trouble", ["stale site", "no site"])
def test_a_site_that_is_not_fresh_earns_no_ping(heartbeat_site, httpserver, trouble):
    if trouble == "no site":
        (heartbeat_site / "site/status.json").unlink()
    result = heartbeat("2026-11-30T06:01:00Z" if trouble == "stale site" else "2026-11-30T04:03:00Z")
    assert result.exit_code == 0 and "no heartbeat" in result.output
    assert httpserver.log == []


@pytest.mark.parametrize("answer", [500, "unreachable"])
def test_a_failing_monitor_is_a_warning_and_its_url_is_never_printed(heartbeat_site, httpserver, monkeypatch, answer):
    if answer == "unreachable":
        monkeypatch.setenv("HB", "http://127.0.0.1:9" + HEARTBEAT)  # the discard port: nothing listens
    else:
        httpserver.expect_request(HEARTBEAT).respond_with_response(Response("down", status=answer))
    result = heartbeat("2026-11-30T04:03:00Z")
    assert result.exit_code == 0
    assert "heartbeat failed" in result.output and "heartbeat sent" not in result.output
    assert "secret-uuid" not in result.output and "127.0.0.1" not in result.output
