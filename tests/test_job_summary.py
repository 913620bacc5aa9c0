"""Under GitHub Actions, `statusgen run` writes a job summary and annotations; elsewhere
nothing (workflow commands as GitHub documents them:
https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands)."""

import duckdb
import pytest
from click.testing import CliRunner

from statusgen.cli import main


@pytest.fixture
def shop(write_config, tmp_path, httpserver):
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as db:
        db.execute("CREATE TABLE orders (loaded_at TIMESTAMP)")
        db.execute("INSERT INTO orders VALUES ('2026-11-22 02:00')")
        db.execute("CREATE TABLE events (loaded_at TIMESTAMP)")
        db.execute("INSERT INTO events VALUES ('2026-11-22 11:50')")
    httpserver.expect_request("/status").respond_with_data("no access for s3cr3t-t0k3n", status=500)
    write_config(f"""
        site: {{title: "Acme | data", url: "https://status.example.com/data"}}
        connections:
          wh: {{type: sql, database: wh.duckdb}}
          vendor: {{type: http, url: "{httpserver.url_for('/')}", headers: {{Authorization: "${{VENDOR_TOKEN}}"}}, timeout: 2s}}
        sources:
          - {{id: orders_raw, name: Orders <raw>, connection: wh, query: "SELECT max(loaded_at) FROM orders",
             freshness: {{error_after: 6h}}}}
          - {{id: events, connection: wh, query: "SELECT max(loaded_at) FROM events"}}
          - {{id: vendor_feed, connection: vendor, path: status}}
        components:
          - {{id: orders, name: "Orders | daily", depends_on: [orders_raw]}}
          - {{id: web, name: Web, depends_on: [events]}}
          - {{id: vendor, name: Vendor feed, depends_on: [vendor_feed]}}
        """)
    return tmp_path


def run(environ):
    return CliRunner().invoke(main, ["run", "--now", "2026-11-22T12:00:00Z"], env={"VENDOR_TOKEN": "s3cr3t-t0k3n", **environ})


def test_the_summary_lists_what_is_not_operational_and_the_sources_are_annotated(shop):
    summary = shop / "summary.md"
    done = run({"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
    text = summary.read_text()
    assert done.exit_code == 0, done.output
    assert text.startswith("## Acme \\| data: failing\n")
    assert "3 components: 1 failing, 1 unknown, 1 operational" in text
    rows = [line for line in text.splitlines() if line.startswith("| [")]
    assert rows[0].startswith("| [Orders \\| daily](https://status.example.com/data/components/orders.html) | failing |")
    assert "Orders &lt;raw&gt;: " in rows[0]
    assert rows[1].startswith("| [Vendor feed](https://status.example.com/data/components/vendor.html) | unknown |")
    assert "Web" not in text  # operational components are not listed
    annotations = [line for line in done.output.splitlines() if line.startswith("::")]
    assert annotations[0].startswith("::error title=Orders <raw> (sql · wh)::")
    assert annotations[1].startswith("::warning title=vendor_feed (http · vendor)::Could not be checked at the last collection: vendor: HTTP 500 from http")
    assert len(annotations) == 2
    assert "s3cr3t-t0k3n" not in text + done.output


def test_at_most_ten_annotations_a_level_and_the_tenth_says_how_many_more(write_config, tmp_path):
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as db:
        db.execute("CREATE TABLE t (loaded_at TIMESTAMP)")
    sources = "\n".join(f"  - {{id: s{n}, connection: wh, query: 'SELECT max(x) FROM missing{n}'}}" for n in range(12))
    write_config(f"connections:\n  wh: {{type: sql, database: wh.duckdb}}\nsources:\n{sources}\n"
                 "components:\n  - {id: all, name: All, depends_on: [" + ", ".join(f"s{n}" for n in range(12)) + "]}\n")
    done = run({"GITHUB_ACTIONS": "true"})
    warnings = [line for line in done.output.splitlines() if line.startswith("::warning")]
    assert len(warnings) == 10
    assert warnings[-1] == "::warning::+3 more; see the job summary or the status page"


def test_nothing_is_written_outside_actions(shop):
    summary = shop / "summary.md"
    done = run({"GITHUB_STEP_SUMMARY": str(summary)})
    assert not summary.exists()
    assert not any(line.startswith("::") for line in done.output.splitlines())


def test_a_public_page_names_components_only(shop):
    text = (shop / "sources.yaml").read_text().replace('site: {title: "Acme | data"', 'site: {audience: public, title: "Acme | data"')
    (shop / "sources.yaml").write_text(text)
    summary = shop / "summary.md"
    done = run({"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
    annotations = "\n".join(line for line in done.output.splitlines() if line.startswith("::"))
    assert "orders_raw" not in summary.read_text() + annotations and "Orders <raw>" not in annotations
    assert "::error title=Orders | daily::Orders | daily is failing" in done.output
