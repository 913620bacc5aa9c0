"""history.html, Statuspage's /history: past incidents by the month they began in (in the
site's time zone), and each component's uptime per month, the timeline's own figure over the
bar's days in that month."""

from datetime import date, timedelta
from html.parser import HTMLParser
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import duckdb
import pytest

from statusgen.config import load_config
from statusgen.incidents import Impact, Incident
from statusgen.site.months import by_month
from statusgen.status import Status
from statusgen.timeline import Day, time_in, uptime
from tests.conftest import collect_and_render, utc

NOW = utc(2026, 11, 22, 12)
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
WEIGHTS = {Status.FAILING: 1.0, Status.DEGRADED: 0.5}


def incident(key, **times):
    moments = dict.fromkeys(("started", "resolved", "scheduled_for", "scheduled_until")) | times
    return Incident(id=key, title=key, impact=Impact.MINOR, components=["orders"], html="", updates=[], **moments)


def day(when: date, **seconds) -> Day:
    spent = {Status(name): n for name, n in seconds.items()}
    return Day(when, spent, 86400 - sum(spent.values()))


def bar(first: date, count: int, **seconds):
    return [day(first + timedelta(days=n), **seconds) for n in range(count)]


def test_an_incident_belongs_to_the_month_it_began_in_where_the_page_is_read():
    # 23:30 UTC on Oct 31 is already Nov 1 in Amsterdam.
    late = incident("late", started=utc(2026, 10, 31, 23, 30))
    months = by_month([], [late], WEIGHTS, AMSTERDAM, NOW)
    assert [(m.name, [i.id for i in m.incidents]) for m in months] == [("November 2026", ["late"])]
    assert by_month([], [late], WEIGHTS, ZoneInfo("UTC"), NOW)[0].name == "October 2026"


def test_months_run_newest_first_from_the_bars_and_back_to_the_oldest_incident():
    old = incident("old", started=utc(2026, 3, 2, 8), resolved=utc(2026, 3, 2, 9))
    coming = incident("upgrade", scheduled_for=utc(2026, 11, 29, 1), scheduled_until=utc(2026, 11, 29, 3))
    orders = SimpleNamespace(id="orders", bar=bar(date(2026, 10, 15), 39, operational=86400))
    months = by_month([orders], [coming, old], WEIGHTS, AMSTERDAM, NOW)
    assert [(m.anchor, m.days, m.partial, [i.id for i in m.incidents]) for m in months] == [
        ("2026-11", 22, True, []),  # maintenance still to come is not history
        ("2026-10", 17, True, []),
        ("2026-03", 0, False, ["old"]),  # no bar reaches back: incidents only, no uptime
    ]
    assert months[2].uptime == {}


def test_a_months_uptime_is_the_timelines_over_that_months_days_of_the_bar():
    october = bar(date(2026, 10, 25), 7, operational=80000, failing=6400)
    november = bar(date(2026, 11, 1), 22, operational=86400, degraded=0)
    orders = SimpleNamespace(id="orders", bar=october + november)
    nothing = SimpleNamespace(id="new", bar=bar(date(2026, 10, 25), 29))
    months = {m.anchor: m for m in by_month([orders, nothing], [], WEIGHTS, AMSTERDAM, NOW)}
    assert months["2026-10"].uptime == {"orders": uptime(time_in(october), WEIGHTS), "new": None}
    assert months["2026-10"].uptime["orders"] == 92.59  # 80000 of 86400 s a day up, rounded down
    assert months["2026-11"].uptime["orders"] == 100.0


def test_a_month_the_bars_cover_whole_is_not_partial():
    october = SimpleNamespace(id="orders", bar=bar(date(2026, 10, 1), 31, operational=86400))
    assert [(m.days, m.partial) for m in by_month([october], [], WEIGHTS, AMSTERDAM, NOW)] == [(31, False)]


class Text(HTMLParser):
    """The page's headings, table rows (cells' text) and links."""

    def __init__(self):
        super().__init__()
        self.headings, self.rows, self.links = [], [], []
        self._heading = self._row = None

    def handle_starttag(self, tag, attrs):
        if tag in ("h1", "h2", "h3"):
            self._heading = ""
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._row.append("")
        elif tag == "a":
            self.links.append(dict(attrs)["href"])

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3"):
            self.headings.append(self._heading.strip())
            self._heading = None
        elif tag == "tr":
            self.rows.append([cell.strip() for cell in self._row])
            self._row = None

    def handle_data(self, data):
        if self._heading is not None:
            self._heading += data
        if self._row:
            self._row[-1] += data


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("history")
    with duckdb.connect(str(root / "wh.duckdb")) as db:
        db.execute("CREATE TABLE orders AS SELECT TIMESTAMP '2026-11-22 11:00' AS loaded_at")
    (root / "incidents").mkdir()
    (root / "incidents/late.md").write_text("---\ntitle: Orders late\ncomponents: [orders]\nstarted: 2026-11-20T08:00:00Z\n"
                                            "resolved: 2026-11-20T09:00:00Z\n---\nLate.\n")
    (root / "incidents/spring.md").write_text("---\ntitle: Spring outage\nimpact: major\nstarted: 2026-04-02T08:00:00Z\n"
                                              "resolved: 2026-04-02T10:00:00Z\n---\nDown.\n")
    (root / "sources.yaml").write_text(
        "site: {title: Shop data, days: 30}\nconnections:\n  wh: {type: sql, database: wh.duckdb}\n"
        "sources:\n  - {id: orders_raw, connection: wh, query: SELECT max(loaded_at) FROM orders}\n"
        "components:\n  - {id: orders, name: Orders, group: Sales, depends_on: [orders_raw]}\n"
        "  - {id: ads, name: Ad spend, group: Marketing, depends_on: [orders_raw]}\n")
    collect_and_render(load_config(root / "sources.yaml", {}), root, NOW)
    return root / "site"


def test_history_lists_each_month_with_its_incidents_and_a_row_of_uptime_per_component(site):
    page = Text()
    page.feed((site / "history.html").read_text())
    assert page.headings == ["History", "November 2026", "Orders late", "October 2026", "April 2026", "Spring outage",
                             "Uptime by month"]
    assert "incidents/late.html" in page.links and "incidents/spring.html" in page.links
    # The 30 days of the bars reach into October; one collection, on Nov 22, is all that is known.
    assert page.rows == [
        ["Component", "Oct 2026 8 days", "Nov 2026 22 days"],
        ["Sales"], ["Orders", "no data", "100.00 %"],
        ["Marketing"], ["Ad spend", "no data", "100.00 %"],
    ]


def test_every_page_leads_to_the_history(site):
    for page in ("index.html", "incidents.html", "components/orders.html"):
        assert 'href="' + "../" * page.count("/") + 'history.html"' in (site / page).read_text(), page
