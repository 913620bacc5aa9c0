"""A reason for every status (#14 item 3): one sentence, told from the part of the rule that
made the colour, the same on the page, in status.json, the alerts, the feed and the terminal."""

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from statusgen import pipeline
from statusgen.alerts import Transition, subjects
from statusgen.catalog import Catalog, Entry, upstream
from statusgen.config import load_config
from statusgen.history import History
from statusgen.records import Observation, Run
from statusgen.site.feeds import feed_files
from statusgen.site.model import status_json
from statusgen.site.reasons import Reason, component_reason
from statusgen.status import RunState, Status
from tests.conftest import utc
from tests.test_deadline_status import local, week

AT = utc(2026, 3, 4, 12)

CONFIG = """
site: {{timezone: UTC, audience: {audience}}}
connections: {{wh: {{type: sql, database: wh.duckdb}}}}
sources:
  - {{id: orders_raw, name: raw.orders, connection: wh, query: SELECT 1, freshness: {{warn_after: 2h, error_after: 6h}}}}
  - {{id: customers_raw, name: raw.customers, connection: wh, query: SELECT 1}}
components:
  - {{id: report, name: Customer report, depends_on: [orders_raw, customers_raw]}}
"""


def seen(source, at, error=None, message=None, paused=False):
    return Observation(source, f"c-{at:%d%H%M}", at, None, None, error, message, 5, paused)


def model(write_config, runs, observations, audience="internal"):
    config = load_config(write_config(CONFIG.format(audience=audience)), {})
    history = History(Path("history"))  # write_config made tmp_path the working directory
    history.append("c-1", AT, runs, observations)
    return pipeline.model(config, history, AT)


def by_id(found):
    return {**{s.id: s for s in found.sources}, **{c.id: c for c in found.components}}


def test_a_failed_run_is_told_with_its_time_and_message(write_config):
    runs = [Run("orders_raw", "1", RunState.SUCCESS, AT - timedelta(hours=1, minutes=5), AT - timedelta(hours=1)),
            Run("customers_raw", "2", RunState.FAILED, AT - timedelta(hours=10), AT - timedelta(hours=9, minutes=46),
                message="Binder Error: column x not found")]
    found = by_id(model(write_config, runs, [seen("orders_raw", AT), seen("customers_raw", AT)]))
    assert found["orders_raw"].reason is None
    assert found["customers_raw"].reason == "The latest run failed Wednesday 02:14: Binder Error: column x not found"
    assert found["report"].reason == "raw.customers: the latest run failed Wednesday 02:14: Binder Error: column x not found"


def test_an_age_names_how_old_and_the_promise_that_is_broken(write_config):
    def landed(hours_ago):
        return [Run("orders_raw", "1", RunState.SUCCESS, None, AT - timedelta(hours=hours_ago)),
                Run("customers_raw", "2", RunState.SUCCESS, None, AT)]
    observations = [seen("orders_raw", AT), seen("customers_raw", AT)]
    assert by_id(model(write_config, landed(3), observations))["orders_raw"].reason == "Not updated since Wednesday 09:00; expected within 2 h"
    failing = by_id(model(write_config, landed(7), observations))
    assert failing["orders_raw"].status is Status.FAILING
    assert failing["orders_raw"].reason == "Not updated since Wednesday 05:00; expected within 6 h"
    assert failing["report"].reason == "raw.orders: not updated since Wednesday 05:00; expected within 6 h"


def test_unknown_says_what_is_not_known(write_config):
    found = by_id(model(write_config, [], [seen("orders_raw", AT, error="HTTP 503 from the warehouse"),
                                           seen("customers_raw", AT, message="Paused in Airflow (DAG customers)", paused=True)]))
    assert found["orders_raw"].reason == "Could not be checked at the last collection: HTTP 503 from the warehouse"
    assert found["customers_raw"].reason == "Paused in Airflow (DAG customers)"
    # Both unknown from the same moment: the first by id is named, and the other counted.
    assert found["report"].reason == "raw.customers: paused in Airflow (DAG customers) (1 more source not operational)"


def test_a_source_never_collected_is_said_so(write_config):
    assert by_id(model(write_config, [], []))["report"].reason == "raw.customers: not collected yet (1 more source not operational)"


def test_a_public_site_names_no_source_message_or_system(write_config):
    runs = [Run("customers_raw", "2", RunState.FAILED, None, AT - timedelta(hours=9, minutes=46), message="Binder Error: secret_table")]
    found = model(write_config, runs, [seen("orders_raw", AT, error="HTTP 503"), seen("customers_raw", AT)], audience="public")
    (report,) = found.components
    assert report.status is Status.FAILING
    assert report.reason == "The latest update failed Wednesday 02:14"
    assert status_json(found)["components"][0]["reason"] == "The latest update failed Wednesday 02:14"
    assert "sources" not in status_json(found)


def test_status_json_and_the_feed_carry_the_same_sentence(write_config):
    runs = [Run("orders_raw", "1", RunState.SUCCESS, None, AT - timedelta(hours=3)), Run("customers_raw", "2", RunState.SUCCESS, None, AT)]
    found = model(write_config, runs, [seen("orders_raw", AT), seen("customers_raw", AT)])
    document = status_json(found)
    assert {s["id"]: s["reason"] for s in document["sources"]} == {"orders_raw": "Not updated since Wednesday 09:00; expected within 2 h", "customers_raw": None}
    assert document["components"][0]["reason"] == "raw.orders: not updated since Wednesday 09:00; expected within 2 h"
    feeds = feed_files(found, "https://status.example.com/")
    assert all("raw.orders: not updated since Wednesday 09:00; expected within 2 h" in feeds[name] for name in ("history.atom", "history.rss", "components/report.atom"))


def test_a_deadline_names_the_tick_missed_and_the_last_landing(tmp_path):
    # The week: Friday's 05:40 load, nothing new on Monday; 06:00 on weekdays, 1 h of grace.
    loads = [local(2026, 11, 27, 5, 40)]
    seen_at = [local(2026, 11, 27, 5, 45), local(2026, 11, 28, 12), local(2026, 11, 30, 6, 10)]
    (source,) = week(tmp_path, loads, seen_at)["sources"]
    assert (source["status"], source["reason"]) == ("degraded", "Expected by Monday 06:00; last landed Friday 05:40")


def test_the_root_cause_is_the_most_upstream_source_in_the_status(write_config):
    # orders_raw feeds orders, which feeds revenue: all three failing, the first is the cause,
    # though it failed last.
    config = load_config(write_config("""
        connections: {dbt: {type: dbt, target_dir: target}}
        sources:
          - {id: revenue, connection: dbt, node: model.shop.revenue}
          - {id: orders, connection: dbt, node: model.shop.orders}
          - {id: orders_raw, connection: dbt, node: source.shop.raw.orders}
        components: [{id: dash, name: Dashboard, depends_on: [revenue, orders, orders_raw]}]
        """), {})
    lineage = {"model.shop.revenue": ["model.shop.orders"], "model.shop.orders": ["source.shop.raw.orders"], "source.shop.raw.orders": []}
    ancestors = upstream(config, Catalog({"dbt": Entry(AT, lineage=lineage)}))
    assert ancestors == {"revenue": {"orders", "orders_raw"}, "orders": {"orders_raw"}, "orders_raw": set()}

    class Member:
        def __init__(self, id, since):
            self.id, self.title, self.status, self.since = id, id, Status.FAILING, since
            self.why = Reason(f"{id} failed", "The latest update failed")

    members = [Member("revenue", AT - timedelta(hours=3)), Member("orders", AT - timedelta(hours=2)), Member("orders_raw", AT - timedelta(hours=1))]
    assert component_reason(Status.FAILING, members, ancestors, None).internal == "orders_raw: orders_raw failed (2 more sources not operational)"
    assert component_reason(Status.FAILING, members, {}, None).internal == "revenue: revenue failed (2 more sources not operational)"
    assert component_reason(Status.MAINTENANCE, members, {}, "Warehouse upgrade").public == "Under maintenance: Warehouse upgrade"


def test_operational_has_no_reason():
    assert component_reason(Status.OPERATIONAL, [], {}, None) is None


def test_an_alert_says_why(write_config):
    runs = [Run("orders_raw", "1", RunState.SUCCESS, None, AT - timedelta(hours=3)), Run("customers_raw", "2", RunState.SUCCESS, None, AT)]
    found = model(write_config, runs, [seen("orders_raw", AT), seen("customers_raw", AT)])
    (report,) = subjects(found, with_sources=False)
    body = Transition(report, Status.OPERATIONAL, Status.DEGRADED).body(None, AT)
    assert "Why: raw.orders: not updated since Wednesday 09:00; expected within 2 h" in body
    assert "- raw.orders: degraded (Not updated since Wednesday 09:00; expected within 2 h)" in body


def test_a_short_load_says_how_many_rows_it_had(write_config):
    config = load_config(write_config(CONFIG.format(audience="internal").replace("query: SELECT 1, freshness", "query: SELECT 1, min_rows: 100, freshness")), {})
    history = History(Path("history"))
    history.append("c-1", AT, [Run("orders_raw", "1", RunState.SUCCESS, None, AT - timedelta(hours=1), rows_loaded=0)],
                   [seen("orders_raw", AT), seen("customers_raw", AT)])
    found = by_id(pipeline.model(config, history, AT))
    assert found["orders_raw"].status is Status.DEGRADED
    assert found["orders_raw"].reason == "The latest load Wednesday 11:00 had 0 rows; at least 100 expected"


def test_rows_written_before_collection_stripped_url_credentials_give_reasons_without_them(write_config):
    # The page's note leaves them out (public_text); the reason beside it must too.
    runs = [Run("customers_raw", "2", RunState.FAILED, AT - timedelta(hours=10), AT - timedelta(hours=9, minutes=46),
                message="cannot load https://bob:hunter2@dagster.example/graphql")]
    observations = [seen("orders_raw", AT, error="GET https://bob:hunter2@airflow.example/api failed"), seen("customers_raw", AT)]
    found = model(write_config, runs, observations)
    reasons = [s.reason for s in found.sources] + [c.reason for c in found.components]
    assert any("airflow.example" in r for r in reasons) and any("dagster.example" in r for r in reasons)
    assert not any("hunter2" in r for r in reasons if r)


def test_two_collections_at_one_instant_give_the_reason_of_the_one_the_status_follows(write_config):
    # The timeline counts a source reached when any collection at its last instant reached
    # it; the reason must not tell the other one's error beside the colour that came from runs.
    config = load_config(write_config(CONFIG.format(audience="internal")), {})
    history = History(Path("history"))
    failed = Run("customers_raw", "2", RunState.FAILED, AT - timedelta(hours=10), AT - timedelta(hours=9, minutes=46), message="disk full")
    history.append("c-1", AT, [failed], [seen("orders_raw", AT), replace(seen("customers_raw", AT), collection_id="c-1")])
    history.append("c-2", AT, [], [replace(seen("customers_raw", AT, error="HTTP 503"), collection_id="c-2")])
    found = by_id(pipeline.model(config, history, AT))
    assert found["customers_raw"].status is Status.FAILING
    assert found["customers_raw"].reason == "The latest run failed Wednesday 02:14: disk full"


def test_a_page_made_for_a_moment_before_the_last_collection_tells_the_run_latest_then(write_config):
    # Runs that ended after the page's moment are listed among the recent ones, but the
    # status is judged without them: the reason quotes the run the status came from.
    config = load_config(write_config(CONFIG.format(audience="internal")), {})
    history = History(Path("history"))
    failed = Run("customers_raw", "2", RunState.FAILED, AT - timedelta(hours=10), AT - timedelta(hours=9, minutes=46), message="disk full")
    history.append("c-1", AT, [failed], [seen("orders_raw", AT), seen("customers_raw", AT)])
    later = AT + timedelta(hours=2)
    fixed = Run("customers_raw", "3", RunState.SUCCESS, AT + timedelta(minutes=50), AT + timedelta(hours=1), rows_loaded=1_000)
    history.append("c-2", later, [fixed], [seen("orders_raw", later), seen("customers_raw", later)])
    found = by_id(pipeline.model(config, history, AT))
    assert found["customers_raw"].status is Status.FAILING
    assert found["customers_raw"].reason == "The latest run failed Wednesday 02:14: disk full"


def test_a_collection_at_the_end_of_a_maintenance_window_is_told_as_the_maintenance(write_config):
    # The timeline holds a window to its end inclusive: the colour there is maintenance, and
    # the reason beside it names the maintenance, not "not collected yet".
    Path("incidents").mkdir()
    Path("incidents/upgrade.md").write_text(
        f"---\ntitle: Warehouse upgrade\ncomponents: [report]\nscheduled_for: {AT - timedelta(hours=2):%Y-%m-%dT%H:%M:%SZ}\n"
        f"scheduled_until: {AT:%Y-%m-%dT%H:%M:%SZ}\n---\n")
    runs = [Run(s, "1", RunState.SUCCESS, AT - timedelta(hours=1, minutes=5), AT - timedelta(hours=1)) for s in ("orders_raw", "customers_raw")]
    found = by_id(model(write_config, runs, [seen("orders_raw", AT), seen("customers_raw", AT)]))
    assert found["report"].status is Status.MAINTENANCE
    assert found["report"].reason == "Under maintenance: Warehouse upgrade"
