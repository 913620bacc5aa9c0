"""min_rows (issue #14 item 4): a success that loaded fewer rows than its source wants is
degraded and no landing, wherever a status, a bar, an uptime or a last success is read."""

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import duckdb
import jsonschema
import pytest

from statusgen import pipeline
from statusgen.config import json_schema, load_config
from statusgen.deadlines import Deadline
from statusgen.errors import ConfigError
from statusgen.history import History
from statusgen.records import Observation, Run
from statusgen.status import SHORT_LOAD_STATE, Freshness, RunState, Status, counted_state, counted_state_sql
from statusgen.timeline import Timeline, Window, statuses_at
from tests.conftest import timeline_status, utc

NOW = utc(2026, 11, 22, 12)
H = timedelta(hours=1)
AGES = Freshness(warn_after=2 * H, error_after=6 * H, min_rows=100)


@pytest.mark.parametrize(
    ("runs", "expected"),
    [
        ([(RunState.SUCCESS, NOW - 10 * H, 500), (RunState.SUCCESS, NOW - H / 2, 0)], Status.FAILING),  # not a landing: 10 h old
        ([(RunState.SUCCESS, NOW - H, 500), (RunState.SUCCESS, NOW - H / 2, 0)], Status.DEGRADED),  # degraded, as a warning is
        ([(RunState.SUCCESS, NOW - H / 2, 99)], Status.DEGRADED),  # never landed, but no age limit is crossed without one
        ([(RunState.SUCCESS, NOW - H / 2, 100)], Status.OPERATIONAL),  # at the limit is enough
        ([(RunState.SUCCESS, NOW - H / 2, 5000)], Status.OPERATIONAL),
        ([(RunState.SUCCESS, NOW - 10 * H, 500), (RunState.SUCCESS, NOW - H / 2)], Status.OPERATIONAL),  # an unknown count lands
        ([(RunState.SUCCESS, NOW - H, 0), (RunState.SUCCESS, NOW - H / 2, 300)], Status.OPERATIONAL),  # a full load after
        ([(RunState.SUCCESS, NOW - H, 500), (RunState.FAILED, NOW - H / 2, 0)], Status.FAILING),  # only successes are counted
    ],
)
def test_a_short_load_is_degraded_and_not_a_landing(tmp_path, runs, expected):
    assert timeline_status(tmp_path, runs, NOW, AGES) is expected


def test_without_min_rows_an_empty_load_is_a_success(tmp_path):
    runs = [(RunState.SUCCESS, NOW - 10 * H, 500), (RunState.SUCCESS, NOW - H / 2, 0)]
    assert timeline_status(tmp_path, runs, NOW, Freshness(warn_after=2 * H, error_after=6 * H)) is Status.OPERATIONAL


def test_a_short_load_does_not_meet_a_deadline(tmp_path):
    deadline = Deadline("0 6 * * *", ZoneInfo("UTC"), None, H, None)
    at = utc(2026, 11, 22, 6, 30)
    loads = [(RunState.SUCCESS, utc(2026, 11, 21, 5), 500), (RunState.SUCCESS, utc(2026, 11, 22, 5), 0)]
    assert timeline_status(tmp_path / "short", loads, at, Freshness(deadline=deadline, min_rows=1)) is Status.DEGRADED  # late
    assert timeline_status(tmp_path / "any", loads, at, Freshness(deadline=deadline)) is Status.OPERATIONAL


@pytest.mark.parametrize("state", list(RunState))
@pytest.mark.parametrize(("rows", "min_rows"), [(None, None), (None, 10), (0, None), (0, 1), (9, 10), (10, 10), (11, 10)])
def test_counted_state_is_one_rule_in_python_and_sql(state, rows, min_rows):
    with duckdb.connect() as db:
        in_sql = db.execute(f"SELECT {counted_state_sql('s', 'r', 'm')} FROM (SELECT $1::VARCHAR AS s, $2::BIGINT AS r, $3::BIGINT AS m)",
                            [state.value, rows, min_rows]).fetchone()[0]
    assert in_sql == counted_state(state, rows, min_rows).value
    short = state is RunState.SUCCESS and rows is not None and min_rows is not None and rows < min_rows
    assert counted_state(state, rows, min_rows) is (SHORT_LOAD_STATE if short else state)


def _history_of_loads(tmp_path):
    """Two sources whose loads are alike but for their row counts: `full` loads 500 rows an
    hour, `empty` the same, except that from 06:00 its loads are empty."""
    history = History(tmp_path / "history")
    day = utc(2026, 11, 22)
    for hour in range(12):
        at = day + hour * H + H / 2
        runs = [Run(s, f"{s}{hour}", RunState.SUCCESS, at - H / 4, at, rows_loaded=0 if s == "empty" and hour >= 6 else 500)
                for s in ("full", "empty")]
        history.append(f"c{hour}", at, runs, [Observation(s, f"c{hour}", at, None, None, None, None, 1) for s in ("full", "empty")])
    return history, day + 11 * H + H / 2


def test_bars_uptime_and_the_status_at_a_collection_count_short_loads_as_degraded(tmp_path):
    history, last = _history_of_loads(tmp_path)
    promises = {"full": Freshness(warn_after=3 * H, min_rows=10), "empty": Freshness(warn_after=3 * H, min_rows=10)}
    snapshot = history.open()
    try:
        timeline = Timeline(snapshot, promises, Window.ending(last, 1, ZoneInfo("UTC")), last)
        segments = {s: [(x.start.hour, x.start.minute, x.status) for x in stretches]
                    for s, stretches in timeline.source_segments().items()}
        (day,) = timeline.source_days()["empty"]
        uptime = timeline.source_uptime({Status.FAILING: 1.0, Status.DEGRADED: 1.0})
        now = statuses_at(snapshot, promises, last)
    finally:
        snapshot.close()
    assert segments["full"] == [(0, 30, Status.OPERATIONAL)]
    # Degraded from the first empty load (06:30), as the latest run; failing never, as there is no error_after.
    assert segments["empty"] == [(0, 30, Status.OPERATIONAL), (6, 30, Status.DEGRADED)]
    assert day.seconds[Status.DEGRADED] == 5 * 3600 and day.seconds[Status.OPERATIONAL] == 6 * 3600
    assert uptime == {"full": 100.0, "empty": 54.54}
    assert now == {"full": Status.OPERATIONAL, "empty": Status.DEGRADED}


def test_the_page_last_success_and_status_json_follow_min_rows(write_config, tmp_path):
    write_config("""
        connections:
          wh: {type: sql, database: wh.duckdb}
        sources:
          - {id: orders, connection: wh, query: "SELECT 1", min_rows: 10, freshness: {warn_after: 3h}}
        components:
          - {id: orders, name: Orders, depends_on: [orders]}
    """)
    config = load_config(tmp_path / "sources.yaml")
    history = History(tmp_path / "history")
    full, empty = utc(2026, 11, 22, 6), utc(2026, 11, 22, 9)
    runs = [Run("orders", "a", RunState.SUCCESS, ended_at=full, rows_loaded=40),
            Run("orders", "b", RunState.SUCCESS, ended_at=empty, rows_loaded=0)]
    history.append("c1", NOW, runs, [Observation("orders", "c1", NOW, None, None, None, None, 1)])
    model = pipeline.model(config, history, NOW)
    (source,) = model.sources
    assert (source.status, source.last_success_at, source.latest_state) == (Status.DEGRADED, full, "success")
    assert source.runs[0].rows_loaded == 0  # what the reason names: the latest run's count, beside min_rows in the promise
    assert source.freshness.min_rows == 10
    pipeline.render(config, history, tmp_path / "site", NOW)
    (shown,) = json.loads((tmp_path / "site" / "status.json").read_text())["sources"]
    assert (shown["status"], shown["last_success_at"]) == ("degraded", "2026-11-22T06:00:00Z")


def test_a_collection_reports_the_last_landing_not_the_last_empty_load(write_config, tmp_path):
    warehouse = tmp_path / "wh.duckdb"
    with duckdb.connect(str(warehouse)) as db:
        db.execute("CREATE TABLE loads (loaded_at TIMESTAMP, n INTEGER)")
        db.execute("INSERT INTO loads VALUES ('2026-11-22 06:00', 40), ('2026-11-22 11:00', 0)")
    write_config("""
        connections:
          wh: {type: sql, database: wh.duckdb}
        sources:
          - {id: orders, connection: wh, query: "SELECT loaded_at, n FROM loads", min_rows: 1, freshness: {warn_after: 8h}}
        components:
          - {id: orders, name: Orders, depends_on: [orders]}
    """)
    config = load_config(tmp_path / "sources.yaml")
    history = History(tmp_path / "history")
    (line,) = pipeline.collect(config, history, NOW).lines
    assert (line.status, line.age) == (Status.DEGRADED, 6 * H)  # the empty load at 11:00 is no landing
    snapshot = history.open()
    try:
        (seen,) = snapshot.latest_observations().values()
        assert seen.last_success_at == utc(2026, 11, 22, 6)
        assert snapshot.source_facts({"orders": 1})["orders"].last_success_at == utc(2026, 11, 22, 6)
        assert snapshot.source_facts()["orders"].last_success_at == utc(2026, 11, 22, 11)
    finally:
        snapshot.close()


def test_min_rows_is_checked_on_every_kind_of_source(write_config):
    path = write_config("""
        connections:
          wh: {type: sql, database: wh.duckdb}
          shop: {type: dbt, target_dir: target}
        sources:
          - {id: a, connection: wh, query: "SELECT 1", min_rows: 0}
          - {id: b, connection: shop, node: model.shop.b, min_rows: many}
          - {id: c, connection: nowhere, node: model.shop.c, min_rows: -3}
          - {id: d, connection: shop, node: model.shop.d, min_rows: 100}
    """)
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert [str(p) for p in caught.value.problems] == [
        "sources.yaml:5:48: sources[0].min_rows: Input should be greater than or equal to 1",
        "sources.yaml:6:51: sources[1].min_rows: Input should be a valid integer, unable to parse string as an integer",
        "sources.yaml:7:13: sources[2].connection: no connection named 'nowhere' (did you mean 'shop'?)",
        "sources.yaml:7:54: sources[2].min_rows: Input should be greater than or equal to 1",
    ]


def test_min_rows_joins_whichever_promise_is_in_force(write_config, tmp_path):
    write_config("""
        connections:
          shop: {type: dbt, target_dir: target}
        sources:
          - {id: own, connection: shop, node: model.shop.a, min_rows: 5, freshness: {warn_after: 1h}}
          - {id: declared, connection: shop, node: model.shop.b, min_rows: 7}
          - {id: plain, connection: shop, node: model.shop.c}
    """)
    own, declared, plain = load_config(tmp_path / "sources.yaml").sources
    zone = ZoneInfo("UTC")
    assert own.promise(Freshness(error_after=H), zone) == Freshness(warn_after=H, min_rows=5)
    assert declared.promise(Freshness(error_after=H), zone) == Freshness(error_after=H, min_rows=7)
    assert plain.promise(None, zone) == Freshness()


def test_the_json_schema_offers_min_rows_on_every_source():
    schema = json_schema()
    sources = [schema["$defs"][ref["$ref"].rsplit("/", 1)[1]] for ref in schema["properties"]["sources"]["items"]["anyOf"]]
    assert all(s["properties"]["min_rows"]["anyOf"][0] == {"minimum": 1, "type": "integer"} for s in sources)
    document = {"sources": [{"id": "a", "connection": "wh", "query": "SELECT 1", "min_rows": 0}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema)
