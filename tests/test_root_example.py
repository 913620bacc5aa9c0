"""The repository's sources.yaml: the example users copy, written from the demo's.

The demo's config (statusgen/demo/sources.yaml) is the one maintained: it ships in the
package, and `statusgen demo` runs it end to end, so it is known to work. The root's is the
same config pointed at what the repository holds, as a real file (a symlink breaks on
Windows checkouts, and pointed at files only the demo makes). After editing the demo's,
rewrite it with `python tests/test_root_example.py`.
"""

from pathlib import Path

from click.testing import CliRunner

from statusgen.cli import main

ROOT = Path(__file__).parent.parent
DEMO = ROOT / "statusgen/demo/sources.yaml"
EXAMPLE = ROOT / "sources.yaml"

HEADER = """\
# statusgen's example: a small shop's data, watched from a DuckDB warehouse and a dbt project.
# Copy it, point its connections at your systems, and check it with `statusgen validate`.
# Written by `python tests/test_root_example.py` from statusgen/demo/sources.yaml, the demo's
# config (`statusgen demo` shows its page): edit that one. Paths are relative to this file.
"""

# Each line of the demo's config that differs here, and what it becomes.
CHANGES = {
    "  timezone: Europe/Amsterdam\n": (
        "  timezone: Europe/Amsterdam\n"
        "  audience: public               # its workflow publishes to GitHub Pages, which anyone can read\n"
    ),
    "    database: warehouse.duckdb\n": (
        "    database: warehouse.duckdb   # yours: until it exists, orders_raw and web_events are unknown\n"
    ),
    "    target_dir: dbt/target\n": (
        "    target_dir: tests/fixtures/dbt_target   # a real dbt run of tests/dbt_project, the demo's project\n"
    ),
}


def example(demo: str) -> str:
    """The root's sources.yaml, from the demo's text."""
    lines = demo.splitlines(keepends=True)
    body = lines[next(i for i, line in enumerate(lines) if not line.startswith("#")) :]
    for line, replacement in CHANGES.items():
        assert body.count(line) == 1, f"the demo's config no longer has {line.strip()!r} once: update CHANGES"
        body[body.index(line)] = replacement
    return HEADER + "".join(body)


def test_the_root_example_is_a_file_written_from_the_demos():
    assert not EXAMPLE.is_symlink()
    assert EXAMPLE.read_text(encoding="utf-8") == example(DEMO.read_text(encoding="utf-8")), (
        "sources.yaml is out of date: python tests/test_root_example.py"
    )


def test_validate_at_the_repository_root_passes_without_a_warning(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["validate"], env={"STATUSGEN_CONFIG": None})
    assert result.exit_code == 0
    assert result.output == "sources.yaml: OK (2 connections, 8 sources, 5 components)\n"


if __name__ == "__main__":
    EXAMPLE.unlink(missing_ok=True)  # it may still be the symlink into the demo's
    EXAMPLE.write_text(example(DEMO.read_text(encoding="utf-8")), encoding="utf-8")
