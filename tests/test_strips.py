"""Bars at the scale the product is for (issue #16): a strip per bar, group strips that show
how much of a group was affected, and an index of 200 components a browser and a keyboard
can get through."""

from datetime import date, timedelta

from bench.page_weight import measure, synthetic_model
from statusgen.site import GroupView
from statusgen.site.strips import QUARTERS, component_strip, group_strip
from statusgen.status import Status
from statusgen.timeline import Day

FIRST = date(2026, 11, 1)


def day(index: int, **seconds: int) -> Day:
    spent = {Status(name): value for name, value in seconds.items()}
    return Day(FIRST + timedelta(days=index), spent, 86400 - sum(spent.values()))


def label(d: Day) -> str:
    return f"{d.day:%b %-d}: {d.worst.value if d.worst else 'no data'}"


def test_a_strip_marks_only_the_days_that_differ_and_names_them():
    days = [day(i, operational=86400) for i in range(10)]
    days[3] = day(3, operational=80000, failing=6400)
    days[5] = Day(days[5].day, {Status.OPERATIONAL: 86400}, 0, failed_runs=2)  # green, but worth a word
    strip = component_strip(days, label)
    assert strip.usual == "operational" and strip.days == 10
    assert [(m.column, m.status, m.height) for m in strip.marks] == [(4, "failing", QUARTERS)]
    assert strip.notes == ("Nov 4: failing", "Nov 6: operational")


def test_days_alike_in_a_row_are_one_mark_and_keep_their_own_words():
    """An element a day was most of the index at 2,000 components: a run of days alike is one
    mark, which the page draws with the gaps between its days."""
    days = [day(i, operational=86400) for i in range(10)]
    for i in (2, 3, 4):
        days[i] = day(i, failing=86400)
    days[5] = day(5, degraded=86400)
    days[7] = day(7, failing=86400)
    strip = component_strip(days, label)
    assert [(m.column, m.span, m.status) for m in strip.marks] == [(3, 3, "failing"), (6, 1, "degraded"), (8, 1, "failing")]
    assert strip.notes == ("Nov 3: failing", "Nov 4: failing", "Nov 5: failing", "Nov 6: degraded", "Nov 8: failing")


def test_a_tie_gives_the_strip_the_better_status():
    days = [day(0, failing=86400), day(1, operational=86400)]
    assert component_strip(days, label).usual == "operational"


def test_a_group_of_2000_with_one_failure_a_day_is_not_a_red_bar():
    """A group's day showed its worst member: with 2,000 members every day was red beside a
    green pill. Now a day's mark is as tall as the share of members affected (a quarter at
    least, so one member still shows) and its label counts them."""
    bars = [[day(i, operational=86400) for i in range(90)] for _ in range(2000)]
    for i in range(90):
        bars[i * 7 % 2000][i] = day(i, operational=80000, failing=6400)
    strip = group_strip(bars, lambda d: f"{d:%b %-d}")
    assert strip.usual == "operational"
    assert [(m.column, m.span, m.status, m.height) for m in strip.marks] == [(1, 90, "failing", 1)]  # one element, not 90
    assert strip.summary == "90 days: 0 with all 2000 operational, 90 with up to 1 of 2000 not"
    assert strip.notes[0] == "Nov 1: 1 of 2000 not operational (1 failing)"


def test_a_groups_mark_grows_with_the_share_of_members_affected():
    bars = [[day(0, operational=86400)] for _ in range(4)]
    bars[0] = [day(0, failing=86400)]
    bars[1] = [day(0, degraded=86400)]
    strip = group_strip(bars, lambda d: f"{d:%b %-d}")
    assert [(m.status, m.height) for m in strip.marks] == [("failing", 2)]
    assert strip.notes == ("Nov 1: 2 of 4 not operational (1 failing, 1 degraded)",)


def test_the_group_model_uses_the_group_strip():
    model = synthetic_model(24)
    group = model.groups[0]
    assert isinstance(group, GroupView) and group.strip == group_strip([c.bar for c in group.components], lambda d: f"{d:%b %-d}")


def test_an_index_of_200_components_stays_small_enough_to_use():
    """Issue #16: 41,157 elements and 19,297 tab stops at 200 components. The targets: at most
    5,000 elements, one tab stop per component (its name; besides a toggle per group and the
    page's own links: skip, title, Incidents, History, JSON and the two feeds) and 60 KB gzipped."""
    weight = measure(200)
    assert weight["elements"] <= 5000
    assert weight["tab_stops"] <= 200 + 12 + 7
    assert weight["gzip_kb"] <= 60
