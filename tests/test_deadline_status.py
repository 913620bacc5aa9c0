"""Deadlines in the timeline (#14): the issue's own week, through the commands a user runs."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import duckdb
from click.testing import CliRunner

from statusgen.cli import main

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

CONFIG = """
site: {{timezone: Europe/Amsterdam, days: 14}}
connections:
  wh: {{type: sql, database: wh.duckdb}}
sources:
  - id: orders_raw
    connection: wh
    query: SELECT max(loaded_at) FROM orders WHERE loaded_at <= $now
    freshness: {{deadline: "0 6 * * 1-5", grace: 1h{holidays}}}
components:
  - {{id: orders, name: Orders, depends_on: [orders_raw]}}
"""


def local(*args) -> str:
    return datetime(*args, tzinfo=AMSTERDAM).isoformat()


def week(tmp_path, loads: list[str], collections: list[str], holidays: str = "") -> dict:
    """Load `loads` (local times) and collect at each of `collections`; status.json after the last."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "sources.yaml").write_text(CONFIG.format(holidays=f", holidays: {holidays}" if holidays else ""))
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as db:
        db.execute("CREATE TABLE orders (loaded_at TIMESTAMPTZ)")
        for load in loads:
            db.execute("INSERT INTO orders VALUES (?::TIMESTAMPTZ)", [load])
    runner = CliRunner()
    for at in collections:
        result = runner.invoke(main, ["collect", "-c", str(tmp_path / "sources.yaml"), "--now", at])
        assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["status", "-c", str(tmp_path / "sources.yaml"), "--now", collections[-1], "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def status_of(found: dict) -> str:
    (component,) = found["components"]
    return component["status"]


def test_a_weekday_table_is_fine_on_saturday_after_fridays_load(tmp_path):
    found = week(tmp_path, [local(2026, 11, 27, 5, 40)], [local(2026, 11, 27, 5, 45), local(2026, 11, 28, 12)])
    assert status_of(found) == "operational"


def test_it_is_late_past_mondays_tick_and_failing_past_the_grace(tmp_path):
    loads = [local(2026, 11, 27, 5, 40)]
    seen = [local(2026, 11, 27, 5, 45), local(2026, 11, 28, 12), local(2026, 11, 30, 6, 10)]
    assert status_of(week(tmp_path / "a", loads, seen)) == "degraded"
    assert status_of(week(tmp_path / "b", loads, seen + [local(2026, 11, 30, 7, 30)])) == "failing"


def test_a_late_load_meets_the_deadline_from_the_moment_it_lands(tmp_path):
    loads = [local(2026, 11, 27, 5, 40), local(2026, 11, 30, 7, 50)]
    seen = [local(2026, 11, 27, 5, 45), local(2026, 11, 30, 7, 30), local(2026, 11, 30, 8)]
    assert status_of(week(tmp_path, loads, seen)) == "operational"


def test_a_public_holiday_has_no_deadline_when_holidays_names_it(tmp_path):
    # 2026-12-25 (Friday) is Christmas Day in the Netherlands; the last load was Thursday's.
    loads = [local(2026, 12, 24, 5, 30)]
    seen = [local(2026, 12, 24, 5, 45), local(2026, 12, 25, 9)]
    assert status_of(week(tmp_path / "nl", loads, seen, holidays="NL")) == "operational"
    assert status_of(week(tmp_path / "none", loads, seen)) == "failing"


def test_the_bars_follow_the_same_rule(tmp_path):
    """Monday's mark: late from 06:00 for the hour of grace, failing from 07:00 to the 08:00 load."""
    loads = [local(2026, 11, 27, 5, 40), local(2026, 11, 30, 8)]
    seen = [local(2026, 11, 27, 5, 45), local(2026, 11, 30, 5), local(2026, 11, 30, 9)]
    week(tmp_path, loads, seen)
    result = CliRunner().invoke(main, ["render", "-c", str(tmp_path / "sources.yaml"), "--now", seen[-1], "--out", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "site/components/orders.html").read_text()
    assert "Nov 30: 1 h failing, 1 h degraded" in page


def test_the_component_page_states_the_promise_in_words(tmp_path):
    seen = [local(2026, 11, 27, 5, 45)]
    week(tmp_path, [local(2026, 11, 27, 5, 40)], seen, holidays="NL")
    result = CliRunner().invoke(main, ["render", "-c", str(tmp_path / "sources.yaml"), "--now", seen[-1], "--out", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "site/components/orders.html").read_text()
    assert "Ready by 06:00 on weekdays, not on public holidays in NL (late for 1 h, then failing)" in page


def test_on_time_and_the_next_deadline_are_figures(tmp_path):
    """Friday's and Monday's 06:00 fell after the first collection: Friday's was met (05:40),
    Monday's was not (the load came at 07:50): 50 % on time; the next is Tuesday 06:00."""
    loads = [local(2026, 11, 27, 5, 40), local(2026, 11, 30, 7, 50)]
    found = week(tmp_path, loads, [local(2026, 11, 27, 5, 45), local(2026, 11, 30, 8)])
    (component,) = found["components"]
    (source,) = found["sources"]
    assert component["on_time_pct"] == source["on_time_pct"] == 50.0
    assert component["next_deadline"] == source["next_deadline"] == "2026-12-01T05:00:00Z"


def test_a_deadline_missed_for_days_stays_failing_at_the_next_tick(tmp_path):
    """Found in review: at each new tick the source turned late again for the grace, a
    recovery that never happened (and a failing → degraded change in the feed)."""
    seen = [local(2026, 11, 26, 5, 30), local(2026, 11, 30, 6, 30)]
    found = week(tmp_path, [local(2026, 11, 26, 5)], seen)
    assert status_of(found) == "failing"  # Friday's 06:00 was missed; Monday's tick does not make it late again
    result = CliRunner().invoke(main, ["render", "-c", str(tmp_path / "sources.yaml"), "--now", seen[-1], "--out", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "site/components/orders.html").read_text()
    assert "Nov 30: 6 h 30 min failing" in page  # all of Monday so far, no degraded hour at 06:00
    assert "failing → degraded" not in (tmp_path / "site/history.atom").read_text()


def test_on_time_counts_the_ticks_the_bars_show(tmp_path):
    """A source first collected after ticks it had missed: the bar shows them missed, so the
    on-time figure counts them (it counted none before)."""
    found = week(tmp_path, [local(2026, 11, 26, 5)], [local(2026, 11, 30, 9)])
    (component,) = found["components"]
    assert component["on_time_pct"] == 33.33  # Thursday's 06:00 met by the 05:00 load; Friday's and Monday's missed
