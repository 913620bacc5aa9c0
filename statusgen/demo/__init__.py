"""`statusgen demo`: simulate a small shop's pipelines and run the real pipeline over them.

Nothing on the demo page is drawn by hand. A seeded simulation decides when loads land
in a DuckDB warehouse and what each nightly dbt invocation does; at every simulated
collection time the warehouse and the dbt artifacts are brought up to that moment and the
real collectors, history and renderer run with `now` set to it. The data is simulated;
the pipeline that reads it is the one users run.
"""

from __future__ import annotations

import bisect
import json
import random
import shutil
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from importlib.resources import files
from pathlib import Path
from typing import Callable, Iterator

import duckdb

from statusgen import pipeline
from statusgen.config import load_config
from statusgen.history import History, naive_utc
from statusgen.site import SiteSummary

SEED = 20261122
# A real cron runs every 5-60 minutes; the demo looks twice a day in the past to stay
# quick. Loads and dbt runs are events, so what happened between two looks still shows.
COLLECT_EVERY = timedelta(hours=12)
COLLECT_EVERY_LAST_DAY = timedelta(hours=1)
PROJECT = "shop"

# The dbt project of the demo: the same graph as tests/dbt_project, which a real dbt run
# turned into the artifacts the collector's tests read.
SOURCES = {  # table → (warn_after, error_after) in hours, as declared in dbt
    "orders": (24, 48),
    "customers": (26, 48),
    "ad_spend": (28, 72),
}
MODELS = {  # model → parents
    "stg_orders": ["source.shop.raw.orders"],
    "fct_orders": ["model.shop.stg_orders"],
    "dim_customers": ["source.shop.raw.customers", "model.shop.fct_orders"],
    "revenue_daily": ["model.shop.fct_orders"],
    "ad_spend_daily": ["source.shop.raw.ad_spend"],
    "marketing_roi": ["model.shop.ad_spend_daily", "model.shop.revenue_daily"],
}
TESTS = {  # test → model it is attached to
    "unique_fct_orders_order_id": "fct_orders",
    "not_null_fct_orders_order_id": "fct_orders",
    "not_null_dim_customers_email": "dim_customers",
    "not_null_revenue_daily_revenue": "revenue_daily",
}
EXPOSURES = {
    "revenue_dashboard": ("Revenue dashboard", "Finance analytics", ["revenue_daily", "dim_customers"],
                          "Daily revenue for the leadership team."),
    "marketing_roi_report": ("Marketing ROI", "Growth team", ["marketing_roi"], "Return on ad spend per channel."),
}


@dataclass(frozen=True)
class Load:
    table: str
    at: datetime
    rows: int


@dataclass
class Invocation:
    """One `dbt build`: the status of each model and test, and why one failed."""

    at: datetime
    statuses: dict[str, str] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)


def run_demo(workdir: Path, out: Path, days: int, now: datetime, progress: Callable[[int, int], None] = lambda day, days: None) -> SiteSummary:
    """The demo's site in `out`; `progress(day, days)` is told each simulated day as it begins."""
    now = now.replace(minute=0, second=0, microsecond=0)  # same hour, same site
    start = now - timedelta(days=days)
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    config_path = workdir / "sources.yaml"
    config_path.write_text(files("statusgen").joinpath("demo/sources.yaml").read_text(encoding="utf-8"))

    rng = random.Random(SEED)
    loads = simulate_loads(start, now, rng)
    invocations = simulate_dbt(start, now, rng)
    write_incidents(workdir / "incidents", now)
    warehouse = Warehouse(workdir / "warehouse.duckdb")
    target = DbtTarget(workdir / "dbt" / "target")
    target.write_manifest(start)

    history = History(workdir / "history")
    config = load_config(config_path, {})  # the demo's config reads no variable: the user's environment cannot change it

    def simulate(moment: datetime) -> None:
        """The warehouse and dbt's artifacts as they stand at `moment`."""
        warehouse.load_until(loads, moment)
        target.write_until(invocations, loads, moment)

    moments = collection_times(start, now)  # the last is `now`: the collection that renders
    previous = None
    try:
        # Each next moment is simulated on a thread of its own as soon as the collectors have read
        # this one, while history records it: on two cores, ≈ 1.3 s less of the demo's wall time
        # (the simulation waits on DuckDB and the disk, which let go of Python's lock meanwhile).
        with ThreadPoolExecutor(max_workers=1) as meanwhile:
            simulate(moments[0])
            for moment, following in zip(moments, moments[1:]):
                progress(min((moment - start).days + 1, days), days)
                simulated: list[Future] = []
                pipeline.advance(config, history, moment, previous,
                                 on_answered=lambda: simulated.append(meanwhile.submit(simulate, following)))
                if simulated:
                    simulated[0].result()  # raises what the simulation raised
                else:
                    simulate(following)
                previous = moment
    finally:
        warehouse.close()
    progress(days, days)
    return pipeline.run(config, history, now, out).site


def collection_times(start: datetime, now: datetime) -> list[datetime]:
    """When the simulated job ran: twice a day, then hourly over the last day (the page's
    "today" shows hours), the last one at `now`."""
    moments, moment = [], start + COLLECT_EVERY
    while moment <= now:
        moments.append(moment)
        moment += COLLECT_EVERY if now - moment > timedelta(days=1) else COLLECT_EVERY_LAST_DAY
    return moments


def write_incidents(folder: Path, now: datetime) -> None:
    """What the data team wrote about the simulated trouble, as people write it."""
    folder.mkdir(parents=True)
    outage = (now - timedelta(days=12)).replace(hour=8)
    stopped = now - timedelta(hours=3)
    upgrade = (now + timedelta(days=1)).replace(hour=5)
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    (folder / f"{outage:%Y-%m-%d}-orders-outage.md").write_text(f"""---
title: Orders stopped arriving from the shop database
impact: major
components: [orders, revenue-report]
started: {outage:{stamp}}
resolved: {outage.replace(hour=18):{stamp}}
updates:
  - {{at: {outage.replace(hour=9):{stamp}}, status: identified, body: "The shop database's replica is down; the hourly load cannot read it."}}
  - {{at: {outage.replace(hour=18):{stamp}}, status: resolved, body: "The replica is back and the missed hours were loaded."}}
---
Orders placed between 08:00 and 18:00 UTC reached the warehouse only in the evening.
Yesterday's revenue in the **Daily revenue report** was complete again the next morning.
""")
    (folder / f"{stopped:%Y-%m-%d}-web-events.md").write_text(f"""---
title: Website analytics are not updating
impact: minor
components: [web-analytics]
started: {stopped:{stamp}}
updates:
  - {{at: {(stopped + timedelta(minutes=50)):{stamp}}, status: investigating, body: "The event collector stopped sending; we are looking into it."}}
---
Page views and sessions after {stopped:%H:%M} UTC are missing for now. Nothing is lost:
the events are queued and will load once the collector is back.
""")
    (folder / f"{upgrade:%Y-%m-%d}-warehouse-upgrade.md").write_text(f"""---
title: Warehouse upgrade
components: [orders, customers, revenue-report]
scheduled_for: {upgrade:{stamp}}
scheduled_until: {upgrade.replace(hour=7):{stamp}}
---
The warehouse moves to a larger machine. Loads pause for up to two hours and catch up after.
""")


def simulate_loads(start: datetime, now: datetime, rng: random.Random) -> list[Load]:
    """When each raw table received data; the outages are what the page should reveal."""
    loads: list[Load] = []

    def days_ago(n: int, hour: int = 0) -> datetime:
        return (now - timedelta(days=n)).replace(hour=hour)

    # Orders: hourly from the shop database; a ten-hour outage twelve days ago.
    outage = (days_ago(12, 8), days_ago(12, 18))
    t = start.replace(minute=5)
    while t <= now:
        if not outage[0] <= t < outage[1] and rng.random() > 0.01:
            loads.append(Load("orders", t + timedelta(minutes=rng.randint(0, 12)), rng.randint(80, 240)))
        t += timedelta(hours=1)
    # Web events: every 15 minutes; down for six hours two months ago, and since 3 hours ago.
    t = start
    while t <= now - timedelta(hours=3):
        if not days_ago(60, 9) <= t < days_ago(60, 15):
            loads.append(Load("web_events", t, rng.randint(2000, 9000)))
        t += timedelta(minutes=15)
    # Customers: nightly at 01:00; the CRM export was missed once.
    # Ad spend: daily at 04:00; the vendor API was down for three days, and today is late.
    for n in range((now - start).days + 1, -1, -1):
        if n != 30:
            loads.append(Load("customers", days_ago(n, 1) + timedelta(minutes=rng.randint(0, 20)), rng.randint(20, 60)))
        if n not in (5, 4, 3, 0):
            loads.append(Load("ad_spend", days_ago(n, 4) + timedelta(minutes=rng.randint(0, 30)), rng.randint(5, 12)))
    return sorted((load for load in loads if start <= load.at <= now), key=lambda load: load.at)


def simulate_dbt(start: datetime, now: datetime, rng: random.Random) -> list[Invocation]:
    """A nightly `dbt build` at 02:00, with a few bad nights and their manual re-runs."""
    invocations = []
    for n in range((now - start).days, -1, -1):
        at = (now - timedelta(days=n)).replace(hour=2, minute=rng.randint(0, 15))
        if not start <= at <= now:
            continue
        nightly = _invocation(at)
        if n == 45:  # the warehouse ran out of memory: fct_orders fails, its children skip
            _fail(nightly, "fct_orders", "Database Error: Out of Memory Error: failed to allocate 2.1 GiB")
            invocations += [nightly, _invocation(at.replace(hour=14))]
        elif n == 20:  # a bad deploy broke revenue_daily until someone re-ran it
            _fail(nightly, "revenue_daily", "Compilation Error: 'amount_eur' is undefined")
            invocations += [nightly, _invocation(at.replace(hour=15))]
        elif n == 7:  # a customer without e-mail made the not_null test fail for a day
            nightly.statuses["test.shop.not_null_dim_customers_email"] = "fail"
            nightly.messages["test.shop.not_null_dim_customers_email"] = "Got 1 result, configured to fail if != 0"
            invocations.append(nightly)
        else:
            invocations.append(nightly)
    return invocations


def _invocation(at: datetime) -> Invocation:
    invocation = Invocation(at)
    for model in MODELS:
        invocation.statuses[f"model.{PROJECT}.{model}"] = "success"
    for test in TESTS:
        invocation.statuses[f"test.{PROJECT}.{test}"] = "pass"
    return invocation


def _fail(invocation: Invocation, model: str, message: str) -> None:
    failed = f"model.{PROJECT}.{model}"
    invocation.statuses[failed] = "error"
    invocation.messages[failed] = f"Runtime Error in model {model} (models/{model}.sql)\n  {message}"
    children = {failed}
    changed = True
    while changed:  # everything downstream is skipped, as dbt does
        changed = False
        for name, parents in MODELS.items():
            node = f"model.{PROJECT}.{name}"
            if node not in children and children.intersection(parents):
                children.add(node)
                invocation.statuses[node] = "skipped"
                changed = True
    for test, attached in TESTS.items():
        if f"model.{PROJECT}.{attached}" in children:
            invocation.statuses[f"test.{PROJECT}.{test}"] = "skipped"


class Warehouse:
    """The raw tables, filled with each load as simulated time passes it."""

    def __init__(self, path: Path):
        self.path = path
        self.applied = 0
        # The collector opens the file read-only, so the writer must let go of it before it
        # looks. A database of its own per load would cost ~17 ms each time to start; the
        # file is attached to this one and detached instead.
        self.db = duckdb.connect()
        with self._attached() as db:
            db.execute("CREATE SCHEMA raw")
            for table in ("orders", "customers", "ad_spend", "web_events"):
                db.execute(f"CREATE TABLE raw.{table} (batch_rows INTEGER, loaded_at TIMESTAMP)")

    @contextmanager
    def _attached(self) -> Iterator[duckdb.DuckDBPyConnection]:
        quoted = str(self.path).replace("'", "''")
        self.db.execute(f"ATTACH '{quoted}' AS warehouse; USE warehouse")
        try:
            yield self.db
        finally:
            self.db.execute("USE memory; DETACH warehouse")

    def load_until(self, loads: list[Load], moment: datetime) -> None:
        due = []
        while self.applied < len(loads) and loads[self.applied].at <= moment:
            due.append(loads[self.applied])
            self.applied += 1
        if not due:
            return
        with self._attached() as db:
            for table in {load.table for load in due}:
                batch = [load for load in due if load.table == table]
                db.execute(
                    f"INSERT INTO raw.{table} SELECT unnest($1::INTEGER[]), unnest($2::TIMESTAMP[])",
                    [[load.rows for load in batch], [naive_utc(load.at) for load in batch]],
                )

    def close(self) -> None:
        self.db.close()


class DbtTarget:
    """Writes dbt artifacts shaped as dbt 1.11 writes them (see tests/fixtures/dbt_target)."""

    def __init__(self, path: Path):
        self.path = path
        path.mkdir(parents=True)
        self.written_invocation: Invocation | None = None

    def write_manifest(self, generated_at: datetime) -> None:
        nodes, parent_map = {}, {}
        for model, parents in MODELS.items():
            unique_id = f"model.{PROJECT}.{model}"
            nodes[unique_id] = {"unique_id": unique_id, "name": model, "resource_type": "model",
                                "depends_on": {"nodes": parents}}
            parent_map[unique_id] = parents
        for test, model in TESTS.items():
            unique_id = f"test.{PROJECT}.{test}"
            nodes[unique_id] = {"unique_id": unique_id, "name": test, "resource_type": "test",
                                "attached_node": f"model.{PROJECT}.{model}",
                                "depends_on": {"nodes": [f"model.{PROJECT}.{model}"]}}
            parent_map[unique_id] = [f"model.{PROJECT}.{model}"]
        sources = {}
        for table in SOURCES:
            unique_id = f"source.{PROJECT}.raw.{table}"
            sources[unique_id] = {"unique_id": unique_id, "name": table, "source_name": "raw", "resource_type": "source"}
            parent_map[unique_id] = []
        exposures = {}
        for name, (label, owner, refs, description) in EXPOSURES.items():
            unique_id = f"exposure.{PROJECT}.{name}"
            parents = [f"model.{PROJECT}.{ref}" for ref in refs]
            exposures[unique_id] = {"unique_id": unique_id, "name": name, "label": label, "type": "dashboard",
                                    "resource_type": "exposure", "description": description,
                                    "owner": {"name": owner, "email": None}, "url": None,
                                    "depends_on": {"nodes": parents}}
            parent_map[unique_id] = parents
        manifest = {"metadata": _metadata("manifest/v12", generated_at), "nodes": nodes, "sources": sources,
                    "exposures": exposures, "parent_map": parent_map}
        self._write("manifest.json", manifest)

    def write_until(self, invocations: list[Invocation], loads: list[Load], moment: datetime) -> None:
        latest = next((i for i in reversed(invocations) if i.at <= moment), None)
        if latest is not None and latest is not self.written_invocation:
            self._write("run_results.json", _run_results(latest))
            self.written_invocation = latest
        # `dbt source freshness` runs a quarter of an hour before each collection.
        checked_at = moment - timedelta(minutes=15)
        self._write("sources.json", _sources(loads, checked_at))

    def _write(self, name: str, content: dict) -> None:
        temporary = self.path / f".{name}.tmp"
        # On one line: indented, the json module encodes in Python, not in C (≈ 0.3 s of the
        # demo's CPU for its 295 artifacts); dbt's reader minds neither.
        temporary.write_text(json.dumps(content))
        temporary.replace(self.path / name)


def _run_results(invocation: Invocation) -> dict:
    results = []
    clock = invocation.at
    for node, status in invocation.statuses.items():
        took = timedelta(seconds=3 if node.startswith("test.") else 40)
        timing = [] if status == "skipped" else [
            {"name": "compile", "started_at": _stamp(clock), "completed_at": _stamp(clock)},
            {"name": "execute", "started_at": _stamp(clock), "completed_at": _stamp(clock + took)},
        ]
        if status != "skipped":
            clock += took
        results.append({
            "status": status, "timing": timing, "thread_id": "Thread-1 (worker)",
            "execution_time": took.total_seconds() if timing else 0.0,
            "adapter_response": {"_message": "OK"} if status in ("success", "pass", "fail") else {},
            "message": invocation.messages.get(node, "OK" if status == "success" else None),
            "failures": (1 if status == "fail" else 0) if node.startswith("test.") else None,
            "unique_id": node, "compiled": bool(timing), "batch_results": None,
        })
    return {"metadata": _metadata("run-results/v6", clock, invocation.at), "results": results,
            "elapsed_time": (clock - invocation.at).total_seconds(), "args": {"which": "build"}}


def _sources(loads: list[Load], checked_at: datetime) -> dict:
    results = []
    landed = _last_loads(loads, checked_at)
    for table, (warn_h, error_h) in SOURCES.items():
        latest = landed.get(table)
        age = (checked_at - latest).total_seconds() if latest else None
        status = "pass" if age is not None and age <= warn_h * 3600 else "warn" if age is not None and age <= error_h * 3600 else "error"
        results.append({
            "unique_id": f"source.{PROJECT}.raw.{table}",
            "max_loaded_at": latest.isoformat() if latest else None,
            "snapshotted_at": checked_at.isoformat(),
            "max_loaded_at_time_ago_in_s": age,
            "status": status,
            "criteria": {"warn_after": {"count": warn_h, "period": "hour"},
                         "error_after": {"count": error_h, "period": "hour"}, "filter": None},
            "adapter_response": {"_message": "OK"}, "timing": [], "thread_id": "Thread-1 (worker)",
            "execution_time": 0.01,
        })
    return {"metadata": _metadata("sources/v3", checked_at), "results": results, "elapsed_time": 0.1}


def _last_loads(loads: list[Load], moment: datetime) -> dict[str, datetime]:
    """When each of SOURCES' tables last landed at or before `moment`, from `loads` in time
    order: read backwards from `moment`, not all 90 days at each of the 200 collections."""
    found: dict[str, datetime] = {}
    for index in range(bisect.bisect_right(loads, moment, key=lambda load: load.at) - 1, -1, -1):
        if loads[index].table in SOURCES:
            found.setdefault(loads[index].table, loads[index].at)
            if len(found) == len(SOURCES):
                break
    return found


def _metadata(schema: str, generated_at: datetime, started_at: datetime | None = None) -> dict:
    invocation = uuid.uuid5(uuid.NAMESPACE_URL, f"statusgen-demo/{(started_at or generated_at).isoformat()}")
    return {"dbt_schema_version": f"https://schemas.getdbt.com/dbt/{schema}.json", "dbt_version": "1.11.16",
            "generated_at": _stamp(generated_at), "invocation_id": str(invocation),
            "invocation_started_at": _stamp(started_at or generated_at), "env": {}}


def _stamp(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
