"""Identifiers become file names through one rule: unique on disks that ignore case, bounded
in length, never a Windows device name, never a path; clashes are named by validate."""

import pytest
from click.testing import CliRunner

from statusgen.cli import main

pytestmark = pytest.mark.reliability

HEAD = """
connections:
  wh: {type: sql, database: wh.duckdb}
sources:
  - {id: orders_raw, connection: wh, query: SELECT 1}
"""


def validate():
    return CliRunner().invoke(main, ["validate"])


def render():
    return CliRunner().invoke(main, ["render", "--now", "2026-11-22T12:00:00Z"])


def test_groups_whose_names_have_no_latin_letters_get_pages_of_their_own(write_config, tmp_path):
    write_config(HEAD + """site: {max_index_components: 1}
components:
  - {id: a, name: A, group: 財務, depends_on: [orders_raw]}
  - {id: b, name: B, group: 販売, depends_on: [orders_raw]}
  - {id: c, name: C, group: Sales, depends_on: [orders_raw]}
""")
    assert render().exit_code == 0
    pages = sorted(p.name for p in (tmp_path / "site/groups").glob("*.html"))
    assert len(pages) == 3 and "sales.html" in pages  # names that were safe keep today's page


def test_groups_that_would_share_a_page_are_named_by_validate(write_config):
    write_config(HEAD + """components:
  - {id: a, name: A, group: finance, depends_on: [orders_raw]}
  - {id: b, name: B, group: "Finance!", depends_on: [orders_raw]}
""")
    done = validate()
    assert done.exit_code == 2
    assert "components[1].group: groups 'finance' and 'Finance!' would both be groups/finance.html; rename one" in done.output


@pytest.mark.parametrize("name, problem", [
    ("../../../x", "connection name '../../../x': letters, digits"),
    ("/etc/x", "connection name '/etc/x': letters, digits"),
])
def test_a_connection_name_that_is_a_path_is_refused(write_config, name, problem):
    write_config(f"""
connections:
  "{name}": {{type: github_actions, repository: a/b}}
""")
    done = validate()
    assert done.exit_code == 2 and problem in done.output


@pytest.mark.parametrize("ids, problem", [
    (["o" * 300], "at most 100 characters (it names files), found 300"),
    (["con"], "'con' cannot be a file name on Windows"),
    (["AUX.backup"], "'AUX' cannot be a file name on Windows"),
    (["Orders", "orders"], "id 'orders' names the same files as 'Orders' on disks that ignore case; rename one"),
    (["orders", "orders"], "duplicate id 'orders'"),
])
def test_ids_that_cannot_name_files_everywhere_are_refused(write_config, ids, problem):
    sources = "".join(f"  - {{id: {i}, connection: wh, query: SELECT 1}}\n" for i in ids)
    write_config("connections:\n  wh: {type: sql, database: wh.duckdb}\nsources:\n" + sources)
    done = validate()
    assert done.exit_code == 2 and problem in done.output, done.output


def test_incident_files_that_would_share_a_page_keep_the_first_and_name_the_others(write_config, tmp_path):
    write_config(HEAD + "site: {incidents_dir: incidents}\ncomponents:\n  - {id: orders, name: Orders, depends_on: [orders_raw]}\n")
    folder = tmp_path / "incidents"
    folder.mkdir()
    text = "---\ntitle: {}\nimpact: minor\nstarted: 2026-11-22T08:00:00Z\n---\nDetails.\n"
    for name in ("db outage.md", "db-outage.md", "db?outage.md", ".md", "..md"):
        (folder / name).write_text(text.format(name))
    done = render()
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in (tmp_path / "site/incidents").iterdir()) == ["db-outage.html"]
    assert "incidents/db-outage.md: would have the same page as db outage.md (incidents/db-outage.html)" in done.output
    assert "incidents/db?outage.md: would have the same page as db outage.md" in done.output


def test_safe_ids_keep_their_file_names(write_config, tmp_path):
    write_config(HEAD + "components:\n  - {id: Orders.Daily, name: Orders, group: Sales, depends_on: [orders_raw]}\n")
    assert render().exit_code == 0
    assert (tmp_path / "site/components/Orders.Daily.html").exists() and (tmp_path / "site/badges/Orders.Daily.svg").exists()
