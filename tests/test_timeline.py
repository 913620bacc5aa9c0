"""Timeline maths: runs and observations in history → status intervals → days."""

import random
import shutil
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from statusgen import pipeline
from statusgen.config import load_config
from statusgen.deadlines import Deadline
from statusgen.history import History
from statusgen.records import Observation, Run
from statusgen.status import Freshness, RunState, Status, worst
from statusgen.timeline import Day, Now, Timeline, Window, statuses_at, uptime
from tests.conftest import utc

UTC = ZoneInfo("UTC")
H = timedelta(hours=1)


def observation(source, at, error=None):
    return Observation(source, f"c-{at:%d%H%M}", at, None, None, error, None, 5)


def run(source, ended, state=RunState.SUCCESS, run_id=None):
    return Run(source, run_id or f"r-{ended:%d%H%M}", state, ended - timedelta(minutes=5), ended)


@pytest.fixture
def history(tmp_path):
    return History(tmp_path / "history")


def append(history, at, runs=(), observations=()):
    history.append(f"c-{at:%d%H%M%S}", at, list(runs), list(observations))


def timeline(history, promises, now, covered_until, days=2, members=None, maintenance=None):
    return Timeline(history.open(), promises, Window.ending(now, days, UTC), covered_until, members=members, maintenance=maintenance)


def segments(history, promises, now, covered_until, days=2, members=None):
    found = timeline(history, promises, now, covered_until, days, members)
    rows = [(s, x.start, x.stop, x.status.value) for s, stretches in found.source_segments().items() for x in stretches]
    return found, rows


def test_latest_finished_run_decides_between_runs(history):
    append(history, utc(2026, 3, 2, 0, 30), observations=[observation("a", utc(2026, 3, 2, 0, 30))])
    append(
        history,
        utc(2026, 3, 2, 12),
        runs=[run("a", utc(2026, 3, 2, 1)), run("a", utc(2026, 3, 2, 5), RunState.FAILED), run("a", utc(2026, 3, 2, 9))],
        observations=[observation("a", utc(2026, 3, 2, 12))],
    )
    _, found = segments(history, {"a": Freshness()}, utc(2026, 3, 2, 12), utc(2026, 3, 2, 12))
    assert [(a.hour, a.minute, b.hour, sev) for _, a, b, sev in found] == [
        (0, 30, 1, "unknown"),  # seen, but nothing had run yet
        (1, 0, 5, "operational"),
        (5, 0, 9, "failing"),
        (9, 0, 12, "operational"),
    ]


def test_freshness_crossings_split_a_quiet_stretch(history):
    append(history, utc(2026, 3, 2, 10), runs=[run("a", utc(2026, 3, 2, 0))], observations=[observation("a", utc(2026, 3, 2, 10))])
    promise = Freshness(warn_after=2 * H, error_after=6 * H)
    _, found = segments(history, {"a": promise}, utc(2026, 3, 2, 10), utc(2026, 3, 2, 10))
    assert [(a.hour, b.hour, sev) for _, a, b, sev in found] == [
        (0, 2, "operational"),
        (2, 6, "degraded"),
        (6, 10, "failing"),
    ]


def test_a_stretch_that_ended_before_the_window_is_left_out(history):
    # The success at 00:00 turns degraded at 02:00, long before the window opens on Mar 3:
    # clipped to the window, that operational stretch would end before it starts, and a
    # component would read its source as having no data.
    append(history, utc(2026, 3, 2, 1), runs=[run("a", utc(2026, 3, 2, 0))], observations=[observation("a", utc(2026, 3, 2, 1))])
    append(history, utc(2026, 3, 3, 10), observations=[observation("a", utc(2026, 3, 3, 10))])
    found, rows = segments(history, {"a": Freshness(warn_after=2 * H)}, utc(2026, 3, 3, 10), utc(2026, 3, 3, 10), days=1,
                           members={"c": ["a"]})
    assert [(a, b, sev) for _, a, b, sev in rows] == [(utc(2026, 3, 3), utc(2026, 3, 3, 10), "degraded")]
    assert found.component_days()["c"][0].seconds == {Status.DEGRADED: 10 * 3600}


def test_a_failed_collection_is_unknown_until_the_next_good_one(history):
    append(history, utc(2026, 3, 2, 1), runs=[run("a", utc(2026, 3, 2, 0))], observations=[observation("a", utc(2026, 3, 2, 1))])
    append(history, utc(2026, 3, 2, 3), observations=[observation("a", utc(2026, 3, 2, 3), error="HTTP 503")])
    append(history, utc(2026, 3, 2, 4), observations=[observation("a", utc(2026, 3, 2, 4), error="HTTP 503")])
    append(history, utc(2026, 3, 2, 6), observations=[observation("a", utc(2026, 3, 2, 6))])
    _, found = segments(history, {"a": Freshness()}, utc(2026, 3, 2, 8), utc(2026, 3, 2, 8))
    assert [(a.hour, b.hour, sev) for _, a, b, sev in found] == [
        (0, 3, "operational"),
        (3, 6, "unknown"),
        (6, 8, "operational"),
    ]


def test_collections_of_one_instant_that_disagree_count_as_reachable(history):
    # Two collections that saw the source at the same instant, one failing to reach it, in
    # either order of writing: read in whatever order DuckDB met them, the outcome varied.
    append(history, utc(2026, 3, 2, 0), runs=[run("a", utc(2026, 3, 1, 23))], observations=[observation("a", utc(2026, 3, 2, 0))])
    for hour in range(1, 9):
        at = utc(2026, 3, 2, hour)
        for n, error in enumerate([None, "HTTP 503"][:: 1 if hour % 2 else -1]):
            history.append(f"c-{hour}-{n}", at, [], [observation("a", at, error)])
    expected = [("a", utc(2026, 3, 1, 23), utc(2026, 3, 2, 12), "operational")]
    assert segments(history, {"a": Freshness()}, utc(2026, 3, 2, 12), utc(2026, 3, 2, 12))[1] == expected
    history.compact(utc(2026, 3, 3, 1))  # the day is now read through its reachability file
    assert segments(history, {"a": Freshness()}, utc(2026, 3, 2, 12), utc(2026, 3, 2, 12))[1] == expected


def test_runs_read_late_fill_the_gap_a_skipped_collection_left(history):
    # Collections at 01:00 and 09:00 only; the failure and recovery in between were
    # read from the orchestrator's run history at 09:00 and still show where they happened.
    append(history, utc(2026, 3, 2, 1), runs=[run("a", utc(2026, 3, 2, 0, 30))], observations=[observation("a", utc(2026, 3, 2, 1))])
    append(
        history,
        utc(2026, 3, 2, 9),
        runs=[run("a", utc(2026, 3, 2, 3), RunState.FAILED), run("a", utc(2026, 3, 2, 6))],
        observations=[observation("a", utc(2026, 3, 2, 9))],
    )
    _, found = segments(history, {"a": Freshness()}, utc(2026, 3, 2, 9), utc(2026, 3, 2, 9))
    assert [(a.hour, b.hour, sev) for _, a, b, sev in found][1:] == [(3, 6, "failing"), (6, 9, "operational")]


def test_running_runs_and_rereads_do_not_change_status(history):
    append(history, utc(2026, 3, 2, 2), runs=[run("a", utc(2026, 3, 2, 1))], observations=[observation("a", utc(2026, 3, 2, 2))])
    running = Run("a", "r-now", RunState.RUNNING, utc(2026, 3, 2, 3), None)
    # The same run read again by a later collection, and one still running.
    append(history, utc(2026, 3, 2, 4), runs=[run("a", utc(2026, 3, 2, 1)), running], observations=[observation("a", utc(2026, 3, 2, 4))])
    _, found = segments(history, {"a": Freshness()}, utc(2026, 3, 2, 4), utc(2026, 3, 2, 4))
    assert [(a.hour, b.hour, sev) for _, a, b, sev in found] == [(1, 4, "operational")]
    assert history.open().db.execute("SELECT count(*) FROM runs").fetchone()[0] == 2


def test_days_split_at_local_midnight_and_count_no_data(history):
    append(history, utc(2026, 3, 2, 12), runs=[run("a", utc(2026, 3, 1, 20)), run("a", utc(2026, 3, 2, 2), RunState.FAILED)],
           observations=[observation("a", utc(2026, 3, 2, 12))])
    (day1, day2) = timeline(history, {"a": Freshness()}, utc(2026, 3, 2, 12), utc(2026, 3, 2, 12)).source_days()["a"]
    assert day1 == Day(date(2026, 3, 1), {Status.OPERATIONAL: 4 * 3600}, 20 * 3600)
    # Today so far: 2 h green, 10 h failing, nothing after 12:00 (now) counted at all.
    assert day2 == Day(date(2026, 3, 2), {Status.OPERATIONAL: 2 * 3600, Status.FAILING: 10 * 3600}, 0, failed_runs=1)
    assert day2.worst is Status.FAILING
    assert Day(date(2026, 3, 1), {}, 86400).worst is None


def test_time_after_the_last_collection_is_no_data_never_green(history):
    append(history, utc(2026, 3, 1, 6), runs=[run("a", utc(2026, 3, 1, 5))], observations=[observation("a", utc(2026, 3, 1, 6))])
    day1, day2 = timeline(history, {"a": Freshness()}, utc(2026, 3, 2, 12), utc(2026, 3, 1, 6)).source_days()["a"]
    assert day1.seconds == {Status.OPERATIONAL: 3600} and day1.no_data == 23 * 3600
    assert day2.worst is None and day2.no_data == 12 * 3600


def test_a_grace_that_ends_after_the_last_collection_colours_no_time_after_it(history):
    # Due at 06:00 (a load of the six hours before), with an hour's grace: late from 06:00.
    # The last collection is at 06:30: what came after it is not known, so no data, not late
    # until 07:00.
    append(history, utc(2026, 3, 2, 6, 30), runs=[run("a", utc(2026, 3, 1, 20))], observations=[observation("a", utc(2026, 3, 2, 6, 30))])
    promise = Freshness(deadline=Deadline("0 6 * * *", UTC, since=6 * H, grace=H))
    found, rows = segments(history, {"a": promise}, utc(2026, 3, 2, 12), utc(2026, 3, 2, 6, 30))
    assert rows[-1][1:] == (utc(2026, 3, 2, 6), utc(2026, 3, 2, 6, 30), "degraded")
    today = found.source_days()["a"][-1]
    assert today.seconds == {Status.OPERATIONAL: 6 * 3600, Status.DEGRADED: 1800} and today.no_data == 5.5 * 3600


def test_daylight_saving_day_has_23_hours():
    zone = ZoneInfo("Europe/Amsterdam")
    window = Window.ending(utc(2026, 3, 30, 12), 3, zone)
    lengths = [(end - start).total_seconds() / 3600 for _, start, end in window.days]
    assert [d for d, _, _ in window.days] == [date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30)]
    assert lengths == [24, 23, 14]  # 30 March: local midnight (22:00 UTC) to 12:00 UTC


def test_component_is_the_worst_of_its_sources_with_data_and_not_green_now_while_one_has_none(history):
    append(
        history,
        utc(2026, 3, 2, 12),
        runs=[
            run("a", utc(2026, 3, 2, 0)),
            run("b", utc(2026, 3, 2, 4)),
            run("b", utc(2026, 3, 2, 8), RunState.WARNING),
            run("c", utc(2026, 3, 2, 0)),
            run("e", utc(2026, 3, 2, 1), RunState.FAILED),
            run("e", utc(2026, 3, 2, 3)),
        ],
        observations=[observation(s, utc(2026, 3, 2, 12)) for s in "abce"],
    )
    found = timeline(history, {s: Freshness() for s in "abcde"}, utc(2026, 3, 2, 12), utc(2026, 3, 2, 12),
                     members={"ab": ["a", "b"], "ac": ["a", "c"], "ad": ["a", "d"], "eb": ["e", "b"]})
    rows = [(c, x.start.hour, x.stop.hour, x.status.value) for c, stretches in found.component_segments().items() for x in stretches]
    assert rows == [
        # Before b's first run, what is known of ab is a's: the time b has no data is no data on
        # b's own bar, and unknown there made grey a day both bars show green.
        ("ab", 0, 8, "operational"),
        ("ab", 8, 12, "degraded"),
        ("ac", 0, 12, "operational"),
        ("ad", 0, 12, "operational"),
        ("ad", 12, 12, "unknown"),  # d was never collected: now ad cannot be green
        ("eb", 1, 3, "failing"),
        ("eb", 3, 8, "operational"),
        ("eb", 8, 12, "degraded"),
    ]
    assert found.components_now() == {
        "ab": Now(Status.DEGRADED, utc(2026, 3, 2, 8)),
        "ac": Now(Status.OPERATIONAL, utc(2026, 3, 2, 0)),
        "ad": Now(Status.UNKNOWN, utc(2026, 3, 2, 12)),
        "eb": Now(Status.DEGRADED, utc(2026, 3, 2, 8)),
    }


def test_a_components_day_is_the_worst_of_its_sources_days_when_one_was_first_seen_that_day(history):
    # Issue #15 item 24: the first collection, at 06:00, reads a load that landed at 04:50 and
    # a build of the model over it at 05:50. The dashboard over both is operational, and so
    # is each of its sources' day; its own day was grey (an hour unknown).
    append(history, utc(2026, 3, 2, 6), runs=[run("load", utc(2026, 3, 2, 4, 50)), run("build", utc(2026, 3, 2, 5, 50))],
           observations=[observation(s, utc(2026, 3, 2, 6)) for s in ("load", "build")])
    found = timeline(history, {"load": Freshness(), "build": Freshness()}, utc(2026, 3, 2, 6), utc(2026, 3, 2, 6),
                     members={"dashboard": ["load", "build"]})
    sources = found.source_days()
    (_, today) = found.component_days()["dashboard"]
    assert [days[-1].worst for days in sources.values()] == [Status.OPERATIONAL, Status.OPERATIONAL]
    assert today == Day(date(2026, 3, 2), {Status.OPERATIONAL: 4200}, 6 * 3600 - 4200)
    assert found.components_now() == {"dashboard": Now(Status.OPERATIONAL, utc(2026, 3, 2, 4, 50))}


def test_a_source_added_to_a_component_leaves_its_past_bar_and_uptime_as_they_were(history):
    # Two days of a, with an hour failing, then b, a model built for the first time today: the
    # component's days and uptime were a's, and stay so. Counted unknown before b's first run,
    # the green time left the uptime and the failing hour stayed: 98.33 % became 85.71 %.
    append(history, utc(2026, 3, 1, 0), runs=[run("a", utc(2026, 2, 28, 12))], observations=[observation("a", utc(2026, 3, 1, 0))])
    append(history, utc(2026, 3, 3, 12), runs=[run("a", utc(2026, 3, 1, 10), RunState.FAILED), run("a", utc(2026, 3, 1, 11)),
                                              run("b", utc(2026, 3, 3, 6))],
           observations=[observation(s, utc(2026, 3, 3, 12)) for s in "ab"])
    weights = {Status.FAILING: 1.0, Status.DEGRADED: 0.0}
    found = timeline(history, {"a": Freshness(), "b": Freshness()}, utc(2026, 3, 3, 12), utc(2026, 3, 3, 12), days=3,
                     members={"alone": ["a"], "added": ["a", "b"]})
    assert found.component_days()["added"] == found.component_days()["alone"]
    assert found.component_uptime(weights)["added"] == found.component_uptime(weights)["alone"] == 98.33


def test_uptime_weights_and_rounding_down():
    assert uptime({Status.OPERATIONAL: 9999, Status.FAILING: 1, Status.UNKNOWN: 500}, {Status.FAILING: 1.0, Status.DEGRADED: 0.0}) == 99.99
    half = {Status.OPERATIONAL: 50, Status.DEGRADED: 50}
    assert uptime(half, {Status.FAILING: 1.0, Status.DEGRADED: 0.0}) == 100.0
    assert uptime(half, {Status.FAILING: 1.0, Status.DEGRADED: 0.5}) == 75.0
    assert uptime({Status.OPERATIONAL: 2, Status.FAILING: 1}, {Status.FAILING: 1.0}) == 66.66  # 66.666… rounds down
    assert uptime({Status.UNKNOWN: 10}, {Status.FAILING: 1.0}) is None


def test_a_maintenance_window_overrides_what_the_sources_say(history):
    append(history, utc(2026, 3, 2, 12), runs=[run("a", utc(2026, 3, 2, 0)), run("a", utc(2026, 3, 2, 6), RunState.FAILED)],
           observations=[observation("a", utc(2026, 3, 2, 12))])
    found = timeline(history, {"a": Freshness()}, utc(2026, 3, 2, 12), utc(2026, 3, 2, 12), members={"c": ["a"]},
                     maintenance={"c": [(utc(2026, 3, 2, 5), utc(2026, 3, 2, 8))]})
    assert [(x.start.hour, x.stop.hour, x.status.value) for x in found.component_segments()["c"]] == [
        (0, 5, "operational"), (5, 8, "maintenance"), (8, 12, "failing"),
    ]


def _reachability_history(history, seed):
    """Four days of collections every 30 minutes with random outages, some across midnight."""
    rng = random.Random(seed)
    at = utc(2026, 3, 1)
    while at < utc(2026, 3, 4, 12):
        seen = [observation(s, at, "HTTP 503" if rng.random() < 0.3 else None) for s in ("a", "b")]
        append(history, at, runs=[run("a", at - timedelta(minutes=1))] if at.minute == 0 else [], observations=seen)
        at += timedelta(minutes=30)


@pytest.mark.usefixtures("every_day_digested")
@pytest.mark.parametrize("seed", range(3))
def test_compacted_days_read_through_their_reachability_files_give_the_same_timeline(history, seed):
    _reachability_history(history, seed)
    now = utc(2026, 3, 4, 12)
    promises = {"a": Freshness(warn_after=2 * H), "b": Freshness()}
    _, raw = segments(history, promises, now, now, days=4)

    history.compact(now)
    assert sorted(p.parent.name for p in (history.root / "reachability").rglob("*.parquet")) == [
        "date=2026-03-01", "date=2026-03-02", "date=2026-03-03"]
    rows = history.open().db.execute("SELECT count(*) FROM reachability").fetchone()[0]
    assert rows < 3 * 48 * 2  # far fewer than the observations of the compacted days
    assert segments(history, promises, now, now, days=4)[1] == raw


@pytest.mark.usefixtures("every_day_digested")
def test_a_day_written_to_after_compaction_is_read_raw_until_compacted_again(history):
    _reachability_history(history, 2)  # "a" answers at 12:00 that day
    now = utc(2026, 3, 4, 12)
    promises = {"a": Freshness(), "b": Freshness()}
    history.compact(now)
    before = segments(history, promises, now, now, days=4)[1]
    late = utc(2026, 3, 2, 12, 10)  # between two collections of a compacted day
    append(history, late, observations=[observation("a", late, "late and failing")])
    found = segments(history, promises, now, now, days=4)[1]
    assert found != before

    history.compact(now)
    assert segments(history, promises, now, now, days=4)[1] == found
    assert len(list((history.root / "reachability" / "date=2026-03-02").glob("*.parquet"))) == 1
    shutil.rmtree(history.root / "reachability")
    assert segments(history, promises, now, now, days=4)[1] == found


@pytest.mark.usefixtures("every_day_digested")
def test_a_reachability_file_that_does_not_match_its_day_is_not_used(history):
    _reachability_history(history, 3)
    now = utc(2026, 3, 4, 12)
    promises = {"a": Freshness(), "b": Freshness()}
    _, raw = segments(history, promises, now, now, days=4)
    history.compact(now)
    made = next((history.root / "reachability" / "date=2026-03-02").glob("*.parquet"))
    made.write_bytes(b"PAR1 not parquet at all")
    assert segments(history, promises, now, now, days=4)[1] == raw
    history.compact(now)  # rewritten
    assert history.open().db.execute(f"SELECT count(*) FROM '{made}'").fetchone()[0] > 0


def test_uptime_keeps_sub_second_precision_until_the_final_rounding(history, write_config):
    # Issue #15, item 8: the time in each status was rounded to whole seconds per day before
    # the percentage, which over a short window turned 1.1 s up of 1.5 s into 1 s of 1 s.
    config = load_config(write_config("""
        connections: {wh: {type: sql, database: wh.duckdb}}
        sources: [{id: a, connection: wh, query: SELECT 1}]
        components: [{id: c, name: C, depends_on: [a]}]
        """), {})
    at = utc(2026, 3, 2)
    runs = [run("a", at + timedelta(seconds=0.5), run_id="1"), run("a", at + timedelta(seconds=1), RunState.FAILED, run_id="2"),
            run("a", at + timedelta(seconds=1.4), run_id="3")]
    now = at + timedelta(seconds=2)
    append(history, now, runs, [observation("a", now)])
    model = pipeline.model(config, history, now)
    assert [model.sources[0].uptime_pct, model.components[0].uptime_pct] == [73.33, 73.33]


@pytest.mark.parametrize("seed", range(4))
def test_the_status_at_the_last_collection_is_what_the_timeline_ends_with(history, seed):
    # A collection reports statuses_at, the rule at one instant; the page the Timeline's last
    # segment. Whole hours, so runs tie and ages reach warn_after and error_after exactly.
    rng = random.Random(seed)
    promises = {"a": Freshness(warn_after=2 * H, error_after=5 * H), "b": Freshness(error_after=3 * H), "c": Freshness(),
                "d": Freshness(warn_after=H), "never": Freshness()}
    states = [RunState.SUCCESS] * 4 + [RunState.FAILED, RunState.WARNING, RunState.SKIPPED, RunState.CANCELLED]
    at = utc(2026, 3, 2)
    for step in range(40):
        at += H * rng.choice([1, 1, 2, 3])
        runs = [run(s, at - H * rng.randint(0, 2), rng.choice(states), run_id=f"{s}{step}{n}")
                for s in "abcd" for n in range(rng.choice([0, 0, 1, 2]))]
        seen = [observation(s, at, "HTTP 503" if rng.random() < 0.2 else None) for s in "abcd" if rng.random() < 0.9]
        append(history, at, runs, seen)
        snapshot = history.open()
        found = Timeline(snapshot, promises, Window.ending(at, 3, UTC), at)
        expected = {s: now.status for s, now in found.sources_now().items()}
        assert statuses_at(snapshot, promises, at) == expected, step
        # The parts a reason is told from make the same status: the page's words and colour agree.
        parts = {s: worst([w.by_run, w.by_age, w.by_deadline]) if w.reached else Status.UNKNOWN for s, w in found.sources_why().items()}
        assert parts == expected, step
        snapshot.close()


def _worst_of_members(segments, members, maintenance):
    """A component's segments from its sources' by the rule itself, instant by instant: the
    worst of the members with data, at the last collection at least unknown while a member
    has none there, maintenance inside a window; touching stretches of one status joined."""
    cuts = sorted({t for s in members for x in segments.get(s, []) for t in (x.start, x.stop)} | {t for w in maintenance for t in w})
    pieces = []
    for start, stop in zip(cuts, cuts[1:]):
        held = [x.status for s in members for x in segments.get(s, []) if x.start <= start < x.stop]
        if held:
            pieces.append((start, stop, worst(held)))
    last = {s: segments[s][-1] for s in members if s in segments}
    if last:
        cover = max(x.stop for x in last.values())
        now = [last[s].status for s in members if s in last and last[s].stop == cover]
        if now:
            pieces.append((cover, cover, worst(now + [Status.UNKNOWN] * (len(now) < len(members)))))
    pieces = [(a, b, Status.MAINTENANCE if any(m0 <= a and b <= m1 for m0, m1 in maintenance) else status) for a, b, status in pieces]
    joined = []
    for a, b, status in pieces:
        if joined and joined[-1][2] == status and joined[-1][1] == a:
            joined[-1] = (joined[-1][0], b, status)
        else:
            joined.append((a, b, status))
    return joined


@pytest.mark.parametrize("seed", range(6))
def test_a_components_timeline_is_the_worst_of_its_members_at_every_instant(history, seed):
    # Random runs, outages and maintenance windows, sources never collected, a source listed
    # twice; whole hours, so that stretches of several sources start and stop at one instant.
    rng = random.Random(seed)
    promises = {"a": Freshness(warn_after=2 * H, error_after=5 * H), "b": Freshness(error_after=3 * H), "c": Freshness(),
                "d": Freshness(warn_after=H), "never": Freshness()}
    states = [RunState.SUCCESS] * 3 + [RunState.FAILED, RunState.WARNING, RunState.CANCELLED]
    at = utc(2026, 3, 1, 6)
    for step in range(30):
        at += H * rng.choice([1, 2, 3])
        runs = [run(s, at - H * rng.randint(0, 2), rng.choice(states), run_id=f"{s}{step}{n}")
                for s in "abcd" if rng.random() < 0.5 for n in range(rng.choice([1, 2]))]
        append(history, at, runs, [observation(s, at, "HTTP 503" if rng.random() < 0.15 else None) for s in "abcd" if rng.random() < 0.9])
    members = {"ab": ["a", "b"], "abcd": ["a", "b", "c", "d"], "cn": ["c", "never"], "dd": ["d", "d"], "n": ["never"]}
    windows = {c: [(at - H * rng.randint(2, 40), at - H * rng.randint(-3, 1))] for c in members if rng.random() < 0.6}
    found = timeline(history, promises, at, at, days=3, members=members, maintenance=windows)
    sources = found.source_segments()
    got = {c: [(x.start, x.stop, x.status) for x in stretches] for c, stretches in found.component_segments().items()}
    expected = {c: pieces for c, sources_of in members.items() if (pieces := _worst_of_members(sources, sources_of, windows.get(c, [])))}
    assert got == expected
