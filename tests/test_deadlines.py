"""The calendar of deadlines: ticks, holidays, clock changes, and the promise in words."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from statusgen.config import load_config
from statusgen.deadlines import Deadline, cron_problem, holidays_problem
from statusgen.errors import ConfigError

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=AMSTERDAM)


def weekdays_at_six(**settings) -> Deadline:
    return Deadline("0 6 * * 1-5", AMSTERDAM, **settings)


def test_weekday_ticks_skip_the_weekend_and_are_in_utc():
    ticks = weekdays_at_six().ticks(local(2026, 11, 27, 0), local(2026, 12, 1, 0))
    assert ticks == [local(2026, 11, 27, 6), local(2026, 11, 30, 6)]
    assert all(tick.tzinfo is timezone.utc for tick in ticks)


def test_the_latest_tick_on_saturday_noon_is_fridays_and_its_bound_the_tick_before():
    deadline = weekdays_at_six()
    tick = deadline.latest_tick(local(2026, 11, 28, 12))
    assert tick == local(2026, 11, 27, 6)
    assert deadline.lower_bound(tick) == local(2026, 11, 26, 6)
    assert deadline.latest_tick(local(2026, 11, 30, 6)) == local(2026, 11, 30, 6)  # a tick counts at its own instant
    assert deadline.next_tick(local(2026, 11, 28, 12)) == local(2026, 11, 30, 6)


def test_since_bounds_a_tick_by_a_duration_before_it():
    deadline = weekdays_at_six(since=timedelta(hours=6))
    assert deadline.lower_bound(local(2026, 11, 30, 6)) == local(2026, 11, 30, 0)


def test_public_holidays_have_no_tick_and_what_lands_on_them_counts_for_the_next_day():
    # 2026-12-25 and 26 are holidays in the Netherlands; Christmas Day is a Friday.
    deadline = weekdays_at_six(holidays="NL")
    assert deadline.ticks(local(2026, 12, 23, 0), local(2026, 12, 29, 0)) == [
        local(2026, 12, 23, 6), local(2026, 12, 24, 6), local(2026, 12, 28, 6)
    ]
    assert deadline.latest_tick(local(2026, 12, 25, 9)) == local(2026, 12, 24, 6)
    assert deadline.lower_bound(local(2026, 12, 28, 6)) == local(2026, 12, 25, 6)


def test_a_subdivision_has_its_own_holidays():
    # Epiphany (6 January) is a public holiday in Bavaria, not in Berlin.
    bavaria = Deadline("0 6 * * *", ZoneInfo("Europe/Berlin"), holidays="DE-BY")
    berlin = Deadline("0 6 * * *", ZoneInfo("Europe/Berlin"), holidays="DE-BE")
    day = (datetime(2027, 1, 6, tzinfo=timezone.utc), datetime(2027, 1, 6, 23, tzinfo=timezone.utc))
    assert bavaria.ticks(*day) == []
    assert len(berlin.ticks(*day)) == 1


def test_a_tick_the_spring_change_skips_falls_just_after_it():
    # Europe/Amsterdam jumps from 02:00 to 03:00 on 2026-03-29: 02:30 does not exist.
    ticks = Deadline("30 2 * * *", AMSTERDAM).ticks(local(2026, 3, 28, 12), local(2026, 3, 30, 12))
    assert ticks == [local(2026, 3, 29, 3), local(2026, 3, 30, 2, 30)]


def test_a_tick_in_the_hour_the_autumn_change_repeats_falls_once():
    # 02:00–03:00 happens twice on 2026-10-25; the tick is the first 02:30 (summer time, UTC 00:30).
    ticks = Deadline("30 2 * * *", AMSTERDAM).ticks(local(2026, 10, 24, 12), local(2026, 10, 25, 12))
    assert ticks == [datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc)]


def test_a_tick_on_29_february_comes_in_leap_years_only():
    deadline = Deadline("0 6 29 2 *", ZoneInfo("UTC"))
    tick = deadline.next_tick(datetime(2026, 3, 1, tzinfo=timezone.utc))
    assert tick == datetime(2028, 2, 29, 6, tzinfo=timezone.utc)
    assert deadline.lower_bound(tick) == datetime(2024, 2, 29, 6, tzinfo=timezone.utc)


def test_presets_are_read_as_airflow_writes_them():
    assert Deadline("@daily", ZoneInfo("UTC")).latest_tick(datetime(2026, 11, 30, 9, tzinfo=timezone.utc)) == datetime(
        2026, 11, 30, tzinfo=timezone.utc
    )


@pytest.mark.parametrize("cron, words", [
    ("0 6 * * 1-5", "ready by 06:00 on weekdays"),
    ("30 7 * * *", "ready by 07:30 every day"),
    ("0 6,18 * * *", "ready by 06:00 and 18:00 every day"),
    ("0 9 * * 1,4", "ready by 09:00 on Mondays and Thursdays"),
    ("0 8 * * 0", "ready by 08:00 on Sundays"),
    ("0 4 1 * *", "ready by 04:00 on the 1st of each month"),
    ("15 * * * *", "ready at 15 minutes past every hour every day"),
    ("@daily", "ready by 00:00 every day"),
    ("*/20 6-18 * * 1-5", "ready by each tick of the schedule '*/20 6-18 * * 1-5'"),
])
def test_the_promise_in_words(cron, words):
    assert Deadline(cron, AMSTERDAM).in_words() == words


def test_holidays_and_grace_are_part_of_the_words():
    assert weekdays_at_six(holidays="NL", grace=timedelta(hours=1)).in_words() == (
        "ready by 06:00 on weekdays, not on public holidays in NL (late for 1 h, then failing)"
    )


def test_bad_schedules_and_calendars_say_what_is_wrong():
    assert cron_problem("0 6 * * 1-5") is None and cron_problem("@weekly") is None
    assert "five fields" in cron_problem("0 25 * * *")
    assert "five fields" in cron_problem("every morning")
    assert holidays_problem("NL") is None and holidays_problem("DE-BY") is None
    assert "country 'XX'" in holidays_problem("XX")
    assert "subdivision 'ZZ' of DE" in holidays_problem("DE-ZZ")


DEADLINE_CONFIG = """
    site:
      timezone: Europe/Amsterdam
    connections:
      warehouse: {type: sql, database: wh.duckdb}
    sources:
      - id: orders
        connection: warehouse
        query: SELECT max(loaded_at) FROM orders
        freshness:
          deadline: "0 6 * * 1-5"
          grace: 1h
          holidays: NL
      - id: invoices
        connection: warehouse
        query: SELECT max(loaded_at) FROM invoices
        freshness: {deadline: "@daily", since: 6h, timezone: America/New_York, error_after: 2d}
"""


def test_a_deadline_in_sources_yaml_becomes_the_sources_promise(write_config):
    config = load_config(write_config(DEADLINE_CONFIG), {})
    orders, invoices = (source.promise(None, config.site.zone) for source in config.sources)
    assert orders.deadline == Deadline("0 6 * * 1-5", AMSTERDAM, None, timedelta(hours=1), "NL")
    assert invoices.deadline == Deadline("@daily", ZoneInfo("America/New_York"), timedelta(hours=6))
    assert invoices.error_after == timedelta(days=2)  # ages and a deadline together: the worse wins


@pytest.mark.parametrize("freshness, line, message", [
    ('{deadline: "0 25 * * *"}', 7, "not a cron schedule"),
    ('{deadline: "@daily", holidays: XX}', 7, "no public holidays known for country 'XX'"),
    ('{deadline: "@daily", timezone: Europe/Amsterdm}', 7, "did you mean 'Europe/Amsterdam'"),
    ("{since: 6h, grace: 1h}", 7, "since, grace only apply to a deadline"),
])
def test_a_wrong_deadline_is_named_at_its_line(write_config, freshness, line, message):
    path = write_config(f"""
        connections:
          warehouse: {{type: sql, database: wh.duckdb}}
        sources:
          - id: orders
            connection: warehouse
            query: SELECT 1
            freshness: {freshness}
    """)
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    (problem,) = caught.value.problems
    assert f"sources.yaml:{line}" in str(problem) and "freshness" in str(problem) and message in str(problem)


def test_a_schedule_gives_each_tick_its_bound_in_one_pass():
    deadline = weekdays_at_six(holidays="NL")
    schedule = deadline.schedule(local(2026, 12, 23, 12), local(2026, 12, 29, 12))
    assert schedule == [
        (local(2026, 12, 23, 6), local(2026, 12, 22, 6)),
        (local(2026, 12, 24, 6), local(2026, 12, 23, 6)),
        (local(2026, 12, 28, 6), local(2026, 12, 25, 6)),  # Christmas has no tick, but bounds the next
        (local(2026, 12, 29, 6), local(2026, 12, 28, 6)),
    ]
    for tick, bound in schedule:
        assert deadline.lower_bound(tick) == bound
    assert weekdays_at_six(since=timedelta(hours=2)).schedule(local(2026, 11, 30, 7), local(2026, 11, 30, 8)) == [
        (local(2026, 11, 30, 6), local(2026, 11, 30, 4))
    ]


def test_since_is_elapsed_time_across_a_clock_change():
    # 2026-03-29 06:00 in Amsterdam is 04:00 UTC; six hours before is 22:00 UTC, 23:00 local, not midnight.
    deadline = Deadline("0 6 * * *", AMSTERDAM, since=timedelta(hours=6))
    tick = local(2026, 3, 29, 6)
    assert deadline.lower_bound(tick) == datetime(2026, 3, 28, 22, tzinfo=timezone.utc)
    assert deadline.schedule(tick, tick) == [(tick, datetime(2026, 3, 28, 22, tzinfo=timezone.utc))]


def test_the_latest_tick_in_an_hour_the_autumn_change_repeats_is_its_second_pass():
    # Found in review: stepping backwards, cron skipped the repeated hour's ticks.
    deadline = Deadline("30 * * * *", AMSTERDAM)
    assert deadline.latest_tick(datetime(2026, 10, 25, 1, 30, tzinfo=timezone.utc)) == datetime(2026, 10, 25, 1, 30, tzinfo=timezone.utc)
    assert deadline.latest_tick(datetime(2026, 10, 25, 1, 10, tzinfo=timezone.utc)) == datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc)


def test_a_grace_under_a_minute_is_said_in_seconds():
    assert Deadline("0 6 * * *", AMSTERDAM, grace=timedelta(seconds=30)).in_words().endswith("(late for 30 s, then failing)")
