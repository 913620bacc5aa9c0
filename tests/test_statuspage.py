"""api/v2/*.json against the field lists of Statuspage's public API documentation (the
"Status API" every Statuspage page serves at <page>/api/v2): the files, their keys, groups
as components, absolute links, and which incidents and maintenances each file lists."""

import functools
import http.server
import json
import os
import re
import threading
import time
from datetime import timedelta

import duckdb
import pytest
import requests

from statusgen import pipeline
from statusgen.config import load_config
from statusgen.history import History
from tests.conftest import utc
from tests.servers import Server, free_port, venv

NOW = utc(2026, 11, 22, 12)
URL = "https://status.shop.example"

# Field names as Statuspage's documentation and its pages list them.
PAGE = {"id", "name", "url", "time_zone", "updated_at"}
COMPONENT = {"id", "name", "status", "created_at", "updated_at", "position", "description", "showcase", "start_date",
             "group_id", "page_id", "group", "only_show_if_degraded"}
GROUP = COMPONENT | {"components"}
INCIDENT = {"id", "name", "status", "impact", "created_at", "updated_at", "monitoring_at", "resolved_at", "started_at",
            "shortlink", "page_id", "incident_updates", "components"}
MAINTENANCE = INCIDENT | {"scheduled_for", "scheduled_until"}
UPDATE = {"id", "status", "body", "incident_id", "created_at", "updated_at", "display_at", "affected_components",
          "deliver_notifications", "custom_tweet", "tweet_id"}
COMPONENT_STATUSES = {"operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"}
FILES = {
    "summary.json": {"page", "components", "incidents", "scheduled_maintenances", "status"},
    "status.json": {"page", "status"},
    "components.json": {"page", "components"},
    "incidents.json": {"page", "incidents"},
    "incidents/unresolved.json": {"page", "incidents"},
    "scheduled-maintenances.json": {"page", "scheduled_maintenances"},
    "scheduled-maintenances/upcoming.json": {"page", "scheduled_maintenances"},
    "scheduled-maintenances/active.json": {"page", "scheduled_maintenances"},
}


def incident(folder, name, text):
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)


@pytest.fixture
def shop(write_config, tmp_path):
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as db:
        db.execute("CREATE TABLE orders (loaded_at TIMESTAMP)")
        db.execute("INSERT INTO orders VALUES ('2026-11-22 11:00')")
    folder = tmp_path / "incidents"
    incident(folder, "outage.md", "---\ntitle: Orders missing rows\nimpact: major\ncomponents: [orders, gone]\n"
             "started: 2026-11-22T09:00:00Z\nupdates:\n"
             "  - {at: 2026-11-22T09:30:00Z, status: identified, body: Found it}\n"
             "  - {at: 2026-11-22T10:00:00Z, status: monitoring, body: Fixed}\n---\nBody.\n")
    incident(folder, "old.md", "---\ntitle: Old one\ncomponents: [orders]\nstarted: 2026-11-10T09:00:00Z\n"
             "resolved: 2026-11-10T10:00:00Z\n---\n")
    incident(folder, "running.md", "---\ntitle: Upgrade\ncomponents: [refunds]\nscheduled_for: 2026-11-22T11:30:00Z\n"
             "scheduled_until: 2026-11-22T13:00:00Z\n---\n")
    incident(folder, "later.md", "---\ntitle: Next upgrade\ncomponents: [orders]\nscheduled_for: 2026-11-25T01:00:00Z\n"
             "scheduled_until: 2026-11-25T02:00:00Z\n---\n")
    incident(folder, "done.md", "---\ntitle: Past upgrade\ncomponents: [orders]\nscheduled_for: 2026-11-20T01:00:00Z\n"
             "scheduled_until: 2026-11-20T02:00:00Z\n---\n")
    return lambda url=URL: load_config(write_config(
        f"""
        site: {{title: Shop, {f'url: "{url}"' if url else ''}}}
        connections:
          wh: {{type: sql, database: wh.duckdb}}
        sources:
          - {{id: orders_raw, connection: wh, query: SELECT max(loaded_at) FROM orders}}
          - {{id: refunds_raw, connection: wh, query: SELECT max(loaded_at) FROM missing}}
        components:
          - {{id: orders, name: Orders, group: Sales, depends_on: [orders_raw]}}
          - {{id: refunds, name: Refunds, group: Sales, depends_on: [refunds_raw]}}
          - {{id: ledger, name: Ledger, group: Finance, depends_on: [orders_raw]}}
        """), {})


def render(config, tmp_path):
    """Collections a day and an hour before NOW, then the site at NOW: files by name."""
    history = History(tmp_path / "history")
    for at in (NOW - timedelta(days=1), NOW - timedelta(hours=1)):
        pipeline.collect(config, history, at)
    pipeline.render(config, history, tmp_path / "site", NOW)
    return {name: json.loads((tmp_path / "site/api/v2" / name).read_text()) for name in FILES}


def test_every_file_has_statuspages_fields(shop, tmp_path):
    files = render(shop(), tmp_path)
    for name, keys in FILES.items():
        assert set(files[name]) == keys, name
        assert set(files[name]["page"]) == PAGE and files[name]["page"]["url"] == f"{URL}/"
    for component in files["components.json"]["components"]:
        assert set(component) == (GROUP if component["group"] else COMPONENT)
        assert component["status"] in COMPONENT_STATUSES and component["page_id"] == files["summary.json"]["page"]["id"]
    for name in ("incidents.json", "scheduled-maintenances.json"):
        for item in next(v for k, v in files[name].items() if k != "page"):
            assert set(item) == (MAINTENANCE if name.startswith("scheduled") else INCIDENT), item["id"]
            assert all(set(u) == UPDATE for u in item["incident_updates"])
            assert all(set(c) in (COMPONENT, GROUP) for c in item["components"])


def test_groups_are_components_that_list_their_members(shop, tmp_path):
    components = render(shop(), tmp_path)["components.json"]["components"]
    by_id = {c["id"]: c for c in components}
    assert [c["id"] for c in components] == ["group:sales", "orders", "refunds", "group:finance", "ledger"]
    assert by_id["group:sales"]["components"] == ["orders", "refunds"] and by_id["group:sales"]["group"] is True
    # The worst of its members: refunds' source cannot be read, and not knowing is never operational.
    assert (by_id["group:sales"]["status"], by_id["group:finance"]["status"]) == ("degraded_performance", "operational")
    assert {c["id"]: c["group_id"] for c in components if not c["group"]} == {
        "orders": "group:sales", "refunds": "group:sales", "ledger": "group:finance"}
    assert all(by_id[c["group_id"]]["group"] for c in components if c["group_id"])  # every group_id names a group


def test_components_were_created_when_first_collected(shop, tmp_path):
    components = render(shop(), tmp_path)["components.json"]["components"]
    assert {c["id"]: c["created_at"] for c in components} == dict.fromkeys(
        ["group:sales", "orders", "refunds", "group:finance", "ledger"], "2026-11-21T12:00:00Z")


def test_incidents_carry_absolute_shortlinks_and_whole_components(shop, tmp_path):
    files = render(shop(), tmp_path)
    (outage,) = files["incidents/unresolved.json"]["incidents"]
    assert outage["shortlink"] == f"{URL}/incidents/outage.html"
    assert outage["status"] == "monitoring" and outage["monitoring_at"] == "2026-11-22T10:00:00Z"
    orders = next(c for c in files["components.json"]["components"] if c["id"] == "orders")
    assert outage["components"] == [orders]  # "gone" is no component: not invented
    # Update ids count from the first, so adding an update renames none of the others.
    assert [u["id"] for u in outage["incident_updates"]] == ["outage-2", "outage-1"]
    assert [i["id"] for i in files["incidents.json"]["incidents"]] == ["outage", "old"]


def test_maintenance_files_split_upcoming_active_and_all(shop, tmp_path):
    files = render(shop(), tmp_path)
    ids = lambda name: [(m["id"], m["status"]) for m in files[name]["scheduled_maintenances"]]  # noqa: E731
    assert ids("scheduled-maintenances/active.json") == [("running", "in_progress")]
    assert ids("scheduled-maintenances/upcoming.json") == [("later", "scheduled")]
    assert ids("summary.json") == [("running", "in_progress"), ("later", "scheduled")]
    assert sorted(ids("scheduled-maintenances.json")) == [("done", "completed"), ("later", "scheduled"), ("running", "in_progress")]
    done = next(m for m in files["scheduled-maintenances.json"]["scheduled_maintenances"] if m["id"] == "done")
    assert done["impact"] == "maintenance" and done["resolved_at"] == "2026-11-20T02:00:00Z"


def test_without_site_url_links_resolve_against_the_files_own_address(shop, tmp_path):
    files = render(shop(url=None), tmp_path)
    assert files["summary.json"]["page"]["url"] == "../../"
    assert files["summary.json"]["incidents"][0]["shortlink"] == "../../incidents/outage.html"
    assert files["incidents/unresolved.json"]["incidents"][0]["shortlink"] == "../../../incidents/outage.html"


def metrics(text):
    """Prometheus's text format: (name, labels) → value, for the samples of `text`."""
    found = {}
    for line in text.splitlines():
        if match := re.fullmatch(r"(\w+)(?:\{(.*)\})? (\S+)", line):
            labels = tuple(sorted(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match[2] or "")))
            found[match[1], labels] = float(match[3])
    return found


@pytest.mark.integration
def test_a_statuspage_exporter_nobody_here_wrote_reads_the_summary(shop, tmp_path):
    """statuspage-prometheus-exporter (requirements/servers/exporter.in) polls summary.json
    of the site served on 127.0.0.1, as it polls a Statuspage page, and exports what it read."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    render(shop(url=base), tmp_path)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "site"))
    site = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    work = tmp_path / "exporter"
    work.mkdir()
    (work / "services.json").write_text(json.dumps({"shop": {"url": f"{base}/api/v2/summary.json", "name": "Shop"}}))
    metrics_port = free_port()
    exporter = Server([str(venv("exporter") / "bin/statuspage-prometheus-exporter")],
                      {**os.environ, "METRICS_PORT": str(metrics_port), "SERVICES_JSON_PATH": str(work / "services.json")},
                      work / "exporter.log", cwd=work)
    try:
        exporter.wait_for(f"http://127.0.0.1:{metrics_port}/metrics", 60)
        deadline = time.monotonic() + 60
        while ("statuspage_service_status", (("service_name", "Shop"),)) not in (
                found := metrics(requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text)):
            assert time.monotonic() < deadline, exporter.tail()
            time.sleep(0.5)
    finally:
        exporter.stop(grace=5)
        site.shutdown()
    shop_label = ("service_name", "Shop")
    assert found["statuspage_service_status", (shop_label,)] == 0  # a major incident is open
    assert found["statuspage_probe_check", (shop_label,)] == 1
    components = {dict(labels)["component_name"]: value for (name, labels), value in found.items()
                  if name == "statuspage_component_status"}
    assert components == {"Sales": 0, "Orders": 1, "Refunds": 0, "Finance": 1, "Ledger": 1}
    incidents = [dict(labels) for (name, labels), value in found.items() if name == "statuspage_incident_info" and value == 1]
    assert [(i["incident_id"], i["impact"], i["shortlink"], i["affected_components"]) for i in incidents] == [
        ("outage", "major", f"{base}/incidents/outage.html", "Orders")]
    maintenance = {dict(labels)["maintenance_id"]: dict(labels) for (name, labels), value in found.items()
                   if name == "statuspage_maintenance_info" and value == 1}
    assert set(maintenance) == {"running", "later"}
    assert maintenance["running"]["shortlink"] == f"{base}/incidents/running.html"
    assert maintenance["running"]["affected_components"] == "Refunds"
