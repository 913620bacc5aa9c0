"""The statusgen command end to end: exit codes, messages, and the whole pipeline."""

import hashlib
import json
import tomllib
from importlib import metadata
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from statusgen.cli import main
from statusgen.collectors import BUILTIN, registry

ROOT = Path(__file__).parent.parent


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def warehouse_config(write_config, tmp_path):
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as db:
        db.execute("CREATE TABLE orders (loaded_at TIMESTAMP)")
        db.execute("INSERT INTO orders VALUES ('2026-11-22 03:00')")
    return write_config(
        """
        connections:
          wh: {type: sql, database: wh.duckdb}
        sources:
          - id: orders_raw
            connection: wh
            query: SELECT max(loaded_at) FROM orders
            freshness: {warn_after: 2h, error_after: 6h}
        components:
          - {id: orders, name: Orders, depends_on: [orders_raw]}
        """
    )


def test_validate_ok_and_errors_exit_2_with_one_line_per_problem(runner, warehouse_config, write_config):
    ok = runner.invoke(main, ["validate", "-c", str(warehouse_config)])
    assert ok.exit_code == 0 and "OK (1 connections, 1 sources, 1 components)" in ok.output
    bad = write_config("sources:\n  - {id: x, connection: nowhere}\n", "bad.yaml")
    result = runner.invoke(main, ["validate", "-c", str(bad)])
    assert result.exit_code == 2
    assert result.output == "Error: 1 problem in configuration:\n  bad.yaml:2:13: sources[0].connection: no connection named 'nowhere'\n"


def test_a_config_error_writes_nothing(runner, write_config, tmp_path):
    bad = write_config("sources: 3\n")
    result = runner.invoke(main, ["run", "-c", str(bad), "--out", "site"])
    assert result.exit_code == 2
    assert not (tmp_path / "site").exists() and not (tmp_path / "history").exists()


def test_collect_then_render(runner, warehouse_config, tmp_path):
    collected = runner.invoke(main, ["collect", "-c", str(warehouse_config), "--now", "2026-11-22T04:00:00Z"])
    assert collected.exit_code == 0, collected.output
    header, line, total = collected.output.splitlines()
    assert header.split() == ["SOURCE", "STATUS", "AGE", "TOOK", "RUNS", "NOTE"]
    assert line.split()[:3] == ["orders_raw", "operational", "1h"]
    assert total.endswith(": 1 operational")
    rendered = runner.invoke(main, ["render", "-c", str(warehouse_config), "--now", "2026-11-22T04:00:00Z"])
    assert rendered.exit_code == 0, rendered.output
    assert json.loads((tmp_path / "site/status.json").read_text())["status"] == "operational"


def test_compact_counts_the_files_retention_dropped_too(runner, warehouse_config):
    for day in range(20, 23):
        for hour in (1, 2):
            runner.invoke(main, ["collect", "-c", str(warehouse_config), "--now", f"2026-11-{day}T0{hour}:00:00Z"])
    done = runner.invoke(main, ["compact", "-c", str(warehouse_config), "--now", "2028-01-01T00:00:00Z"])
    assert done.exit_code == 0, done.output
    # 6 collections' observations, and one file of runs: later collections read the same loads again.
    assert done.output.strip() == "compacted 3 days, dropped 3 days: 7 files → 0"


def test_fail_on_exits_1_when_a_source_is_that_bad(runner, warehouse_config):
    late = ["collect", "-c", str(warehouse_config), "--now", "2026-11-22T10:00:00Z"]
    assert runner.invoke(main, late).exit_code == 0  # opt-in only
    result = runner.invoke(main, late + ["--fail-on", "failing"])
    assert result.exit_code == 1
    assert "1 source(s) failing or worse: orders_raw" in result.output


def test_bad_now_is_a_usage_error(runner, warehouse_config):
    result = runner.invoke(main, ["collect", "-c", str(warehouse_config), "--now", "yesterday"])
    assert result.exit_code == 2 and "expected an ISO 8601 time" in result.output


def test_schema_prints_json_schema(runner):
    result = runner.invoke(main, ["schema"])
    assert json.loads(result.output)["title"] == "statusgen sources.yaml"


# What the demo's site must be, file by file, at a fixed --now: no speedup of the demo or of
# the pipeline under it may change a byte of it. A change that means to change the page
# rewrites them with `python tests/test_cli.py` and says why in its commit.
DEMO_DIGESTS = ROOT / "tests/fixtures/demo_site_digests.json"


def run_demo(runner, days: int, workdir: Path, out: Path) -> dict[str, str]:
    """The sha256 of every file of the site the demo builds, by path in the site."""
    now = json.loads(DEMO_DIGESTS.read_text())["now"]
    result = runner.invoke(main, ["demo", "--days", str(days), "--now", now, "--workdir", str(workdir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "\r" not in result.output  # no progress line where stderr is not a terminal
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.rglob("*")) if p.is_file()}


def locked() -> bool:
    """Whether every installed package is the release the lock names. The digests are the
    lock's site: other releases may write other bytes (DuckDB 1.1.0 returns the feed's
    changes of one instant in another order)."""
    for line in (ROOT / "requirements/constraints.txt").read_text().splitlines():
        name, pinned, version = line.partition("==")
        if pinned and not line.startswith(("#", " ")):
            try:
                if metadata.version(name.strip()) != version.split(";")[0].strip():
                    return False
            except metadata.PackageNotFoundError:
                continue  # not for this platform
    return True


def test_demo_is_deterministic_offline_and_unchanged(runner, tmp_path):
    first = run_demo(runner, 3, tmp_path / "w1", tmp_path / "s1")
    # In the same process: whatever the first run left cached must not change the second.
    assert run_demo(runner, 3, tmp_path / "w2", tmp_path / "s2") == first
    status = json.loads((tmp_path / "s1/status.json").read_text())
    assert {c["id"] for c in status["components"]} >= {"orders", "revenue_dashboard"}
    assert status["status"] == "failing"  # the website events stopped three hours ago
    if not locked():
        pytest.skip("the digests are those of the locked dependencies")
    assert first == json.loads(DEMO_DIGESTS.read_text())["days"]["3"]


def test_demo_shows_its_progress_on_a_terminal(runner, tmp_path, monkeypatch):
    monkeypatch.setattr("statusgen.cli._on_terminal", lambda: True)
    args = ["demo", "--days", "1", "--workdir", str(tmp_path / "work"), "--out", str(tmp_path / "site")]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "\rsimulating: day 1 of 1" in result.output


def test_demo_shows_its_progress_in_a_log_as_plain_lines(runner, tmp_path):
    args = ["demo", "--days", "20", "--workdir", str(tmp_path / "work"), "--out", str(tmp_path / "site")]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    told = [line for line in result.output.splitlines() if line.startswith("simulating:")]
    assert told == ["simulating: day 1 of 20", "simulating: day 10 of 20", "simulating: day 20 of 20"]


@pytest.mark.integration
def test_the_default_demo_is_unchanged(runner, tmp_path):
    if not locked():
        pytest.skip("the digests are those of the locked dependencies")
    assert run_demo(runner, 90, tmp_path / "work", tmp_path / "site") == json.loads(DEMO_DIGESTS.read_text())["days"]["90"]


def test_builtin_collectors_are_the_entry_points_pyproject_declares():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["statusgen.collectors"]
    assert declared == BUILTIN
    assert set(registry()) >= set(BUILTIN)


def test_readme_documents_every_command():
    readme = (ROOT / "README.md").read_text()
    for command in main.commands:
        assert f"statusgen {command}" in readme, command


def test_readme_documents_every_config_key():
    from statusgen.config import (
        ComponentConfig,
        FreshnessConfig,
        HistoryConfig,
        Link,
        SiteConfig,
        UptimeWeights,
    )

    readme = (ROOT / "README.md").read_text()
    models = [SiteConfig, Link, UptimeWeights, HistoryConfig, FreshnessConfig, ComponentConfig]
    for collector in registry().values():
        models += [collector.Connection, collector.Source]
    missing = {
        f"{m.__name__}.{key}" for m in models for key, info in m.model_fields.items() if f"{info.alias or key}:" not in readme
    }
    assert missing == set()


if __name__ == "__main__":
    # Rewrites the demo's digests from the code at hand (see DEMO_DIGESTS).
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        fixture = json.loads(DEMO_DIGESTS.read_text())
        for days in fixture["days"]:
            fixture["days"][days] = run_demo(CliRunner(), int(days), Path(scratch, days, "work"), Path(scratch, days, "site"))
        DEMO_DIGESTS.write_text(json.dumps(fixture, indent=2) + "\n")
