"""Size is bounded: a component standing for thousands of sources still gets a page of a few
megabytes, and discovery adds at most `max_discovered` sources (tests/test_discovery.py)."""

import pytest
from click.testing import CliRunner

from statusgen.cli import main
from statusgen.site import MAX_DRAWN_SOURCES

pytestmark = pytest.mark.reliability


def test_a_component_of_five_thousand_sources_has_a_page_of_bounded_size(write_config, tmp_path):
    count = 5_000
    sources = "".join(f"  - {{id: s{i}, connection: wh, query: 'SELECT 1'}}\n" for i in range(count))
    write_config("connections:\n  wh: {type: sql, database: missing.duckdb}\nsources:\n" + sources
                 + "components:\n  - {id: all, name: All, depends_on: [" + ", ".join(f"s{i}" for i in range(count)) + "]}\n")
    done = CliRunner().invoke(main, ["run", "--now", "2026-11-22T12:00:00Z"])
    assert done.exit_code == 0, done.output[-2000:]
    page = (tmp_path / "site/components/all.html").read_text()
    assert len(page) < 2_000_000  # it was 8 MB at 1,000 sources, 880 MB at 100,000
    assert page.count('<section class="source">') == MAX_DRAWN_SOURCES
    assert f"{count - MAX_DRAWN_SOURCES:,} more sources, each on one row" in page
