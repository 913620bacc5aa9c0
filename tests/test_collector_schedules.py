"""The one schedule a collector reports from those its orchestrator lists."""

from statusgen.collectors.schedules import with_schedule
from statusgen.records import Schedule, SourceReport


def test_one_schedule_listed_twice_is_one_schedule():
    report = with_schedule(SourceReport("s"), "Dagster", [Schedule("0 2 * * *"), Schedule("0 2 * * *")])
    assert (report.schedule, report.message) == (Schedule("0 2 * * *"), None)


def test_a_cron_or_zone_statusgen_cannot_follow_gives_none_and_says_why():
    quartz = with_schedule(SourceReport("s", message="no finished runs in the window read"), "Prefect", [Schedule("0 L * * *")])
    assert quartz.schedule is None
    assert quartz.message == ("no finished runs in the window read; Prefect's schedule 0 L * * * UTC cannot be followed: "
                              "not a cron schedule (Bad hour); use five fields such as '0 6 * * 1-5', or @daily")
    zone = with_schedule(SourceReport("s"), "Prefect", [Schedule("0 2 * * *", "Mars/Olympus")])
    assert (zone.schedule, zone.message) == (None, "Prefect's schedule 0 2 * * * Mars/Olympus cannot be followed: no time zone named 'Mars/Olympus'")


def test_no_schedule_leaves_the_report_as_it_was():
    report = SourceReport("s", message="no finished runs in the window read")
    assert with_schedule(report, "Prefect", []) is report
