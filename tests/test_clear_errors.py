"""Input that used to crash with a traceback, or to act on the wrong thing, now gets one clear
line: a config error with file:line, a usage error, a skipped file with a warning, or a
warning. Every case here was first reproduced through the command line (issue #13)."""

import fcntl
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from statusgen import alerts
from statusgen.cli import main
from statusgen.config import AlertsConfig, load_config
from statusgen.site import MARKER
from statusgen.site.output import _publish_folder
from statusgen.status import Status
from tests.conftest import collect_and_render, utc
from tests.test_alerts import Outbox, model

pytestmark = pytest.mark.reliability

NOW = utc(2026, 11, 22, 12)
MAX_DEPTH = 50  # statusgen.yamlfile.MAX_DEPTH, written out: the messages are asserted as users read them
SQL_SOURCES = """
connections:
  wh: {type: sql, database: wh.duckdb}
sources:
  - {id: s0, connection: wh, query: 'SELECT loaded_at FROM loads WHERE loaded_at > $since AND loaded_at <= $now'}
components:
  - {id: c0, name: Orders, depends_on: [s0]}
"""


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def alerts_config():
    return AlertsConfig(urls=["json://127.0.0.1:9/"])


@pytest.fixture
def warehouse(tmp_path):
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as db:
        db.execute("CREATE TABLE loads (loaded_at TIMESTAMP)")
        db.execute("INSERT INTO loads VALUES ('2026-11-22 03:00')")


def assert_clean(result, exit_code):
    """One clear message, never a traceback: the exception click saw is its own."""
    assert "Traceback" not in result.output
    assert result.exit_code == exit_code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)


# -- deep YAML nesting (#13 item 10) ------------------------------------------------------


@pytest.mark.parametrize(
    "text, line",
    [
        ("site:\n  links: " + "[" * 500 + "]" * 500 + "\n", 2),  # flow style
        ("site:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 500)), MAX_DEPTH),  # block style
    ],
    ids=["flow", "block"],
)
def test_deep_nesting_in_sources_yaml_is_a_config_error_with_its_line(runner, write_config, text, line):
    write_config(text)
    result = runner.invoke(main, ["validate"])
    assert_clean(result, 2)
    assert f"sources.yaml:{line}:" in result.output
    assert f"invalid YAML: nested deeper than {MAX_DEPTH} levels" in result.output


@pytest.mark.parametrize(
    "text",
    [
        "site: &a [*a]\n",  # an alias inside its own anchor
        "site: &a {<<: *a}\n",  # a mapping merging itself
    ],
    ids=["alias", "merge"],
)
def test_an_anchor_that_contains_itself_is_a_config_error(runner, write_config, text):
    write_config(text)
    result = runner.invoke(main, ["validate"])
    assert_clean(result, 2)
    assert f"sources.yaml:1:7: site: nested deeper than {MAX_DEPTH} levels (an alias inside its own anchor?)\n" in result.output
    assert "merges only mappings" not in result.output  # named once, as too deep


def test_deep_nesting_in_an_incident_skips_that_incident_and_the_site_renders(runner, write_config, warehouse, tmp_path):
    write_config(SQL_SOURCES)
    incidents = tmp_path / "incidents"
    incidents.mkdir()
    (incidents / "good.md").write_text("---\ntitle: Orders late\nstarted: 2026-11-21 08:00\ncomponents: [c0]\n---\nLate.\n")
    (incidents / "deep.md").write_text(
        "---\ntitle: Deep\nstarted: 2026-11-21 08:00\nupdates: " + "[" * 500 + "]" * 500 + "\n---\nBody\n"
    )
    assert_clean(runner.invoke(main, ["collect", "--now", "2026-11-22T12:00"]), 0)
    result = runner.invoke(main, ["render", "--now", "2026-11-22T12:00"])
    assert_clean(result, 0)
    assert f"warning: incident skipped: incidents/deep.md:4:{10 + MAX_DEPTH - 1}: invalid YAML: nested deeper than {MAX_DEPTH} levels" in result.output
    assert (tmp_path / "site/incidents/good.html").exists()
    assert not (tmp_path / "site/incidents/deep.html").exists()


DEEP_LIST = "".join("  " * i + "- a\n" for i in range(600))


def test_markdown_nested_too_deeply_skips_that_incident(write_config, warehouse, tmp_path):
    config = load_config(write_config(SQL_SOURCES), {})
    (tmp_path / "incidents").mkdir()
    (tmp_path / "incidents/deep.md").write_text("---\ntitle: Deep\nstarted: 2026-11-21 08:00\n---\n" + DEEP_LIST)
    summary = collect_and_render(config, tmp_path, NOW)
    assert summary.warnings == ["incident skipped: incidents/deep.md: Markdown nested too deeply to render"]


def test_a_footer_nested_too_deeply_is_a_config_error(runner, write_config):
    write_config("site:\n  footer: |\n" + "".join("    " + line + "\n" for line in DEEP_LIST.splitlines()))
    result = runner.invoke(main, ["validate"])
    assert_clean(result, 2)
    assert "sources.yaml:2:3: site.footer: Markdown nested too deeply to render" in result.output


# -- a logo that is not there (#13 item 10) -----------------------------------------------


def test_a_missing_logo_is_a_config_error_in_validate(runner, write_config):
    write_config("site:\n  title: T\n  logo: missing.png\n")
    result = runner.invoke(main, ["validate"])
    assert_clean(result, 2)
    assert result.output == "Error: 1 problem in configuration:\n  sources.yaml:3:3: site.logo: no file missing.png\n"


def test_a_logo_that_is_a_folder_is_a_config_error(runner, write_config, tmp_path):
    (tmp_path / "logo.png").mkdir()
    write_config("site:\n  logo: logo.png\n")
    result = runner.invoke(main, ["validate"])
    assert_clean(result, 2)
    assert "sources.yaml:2:3: site.logo: no file logo.png" in result.output


def test_a_logo_removed_after_validation_stops_render_with_one_line(write_config, warehouse, tmp_path):
    from statusgen.errors import StatusgenError

    (tmp_path / "logo.png").write_bytes(b"\x89PNG")
    config = load_config(write_config("site:\n  logo: logo.png\n" + SQL_SOURCES), {})
    (tmp_path / "logo.png").unlink()
    with pytest.raises(StatusgenError, match=r"^cannot read site.logo logo.png: No such file or directory$"):
        collect_and_render(config, tmp_path, NOW)


# -- a date= folder that is a symlink (#13 item 10) ---------------------------------------


@pytest.fixture
def linked_day(write_config, warehouse, tmp_path):
    """History with one real collection, and a date= folder that links to a folder outside."""
    config = load_config(write_config(SQL_SOURCES), {})
    collect_and_render(config, tmp_path, NOW)
    outside = tmp_path / "outside"
    outside.mkdir()
    real = next((tmp_path / "history/runs").glob("date=*/part-*.parquet"))
    for name in ("part-a.parquet", "part-b.parquet"):
        (outside / name).write_bytes(real.read_bytes())
    (outside / ".stale.tmp").write_text("")
    os.utime(outside / ".stale.tmp", (0, 0))
    return outside


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_date_folder_linked_past_retention_is_unlinked_and_its_target_kept(runner, linked_day, tmp_path):
    before = _tree(linked_day)
    link = tmp_path / "history/runs/date=2020-01-01"
    link.symlink_to(linked_day, target_is_directory=True)
    result = runner.invoke(main, ["compact", "--now", "2026-11-22T12:00"])
    assert_clean(result, 0)
    assert not link.is_symlink() and not link.exists()
    assert _tree(linked_day) == before


def test_a_date_folder_linked_within_retention_is_never_compacted_through(runner, linked_day, tmp_path):
    before = _tree(linked_day)
    (tmp_path / "history/runs/date=2026-11-20").symlink_to(linked_day, target_is_directory=True)
    result = runner.invoke(main, ["compact", "--now", "2026-11-22T12:00"])
    assert_clean(result, 0)
    assert _tree(linked_day) == before


# -- --now out of range (#13 item 10) -----------------------------------------------------

NOW_COMMANDS = ["collect", "render", "run", "compact", "demo"]


@pytest.mark.parametrize("command", NOW_COMMANDS)
@pytest.mark.parametrize("now", ["9999-12-31T23:59:59", "0001-01-01", "0001-01-01T00:00+01:00", "1969-12-31T23:59:59Z", "9000-01-01T00:00Z"])
def test_now_out_of_range_is_a_usage_error(runner, write_config, command, now):
    write_config(SQL_SOURCES)
    result = runner.invoke(main, [command, "--now", now])
    assert_clean(result, 2)
    assert f"Invalid value for '--now': {now!r} is outside the times statusgen handles: from 1970-01-01 to 8999-12-31 (UTC)" in result.output


@pytest.mark.parametrize("now", ["1970-01-01T00:00:00Z", "8999-12-31T23:59:59Z"])
def test_now_at_either_end_of_the_range_runs(runner, write_config, warehouse, now):
    write_config("site:\n  timezone: Pacific/Kiritimati\n" + SQL_SOURCES)
    result = runner.invoke(main, ["run", "--now", now])
    assert_clean(result, 0)
    result = runner.invoke(main, ["run", "--now", now])  # with history at that edge, and compaction
    assert_clean(result, 0)


@pytest.mark.parametrize(
    "text, message",
    [
        ("history:\n  retention_days: 1000000000\n", "history.retention_days: Input should be less than or equal to 36500"),
        ("site:\n  collect_every: 99999999999w\n", "site.collect_every: at most 3650d (ten years), found '99999999999w'"),
        ("site:\n  collect_every: 200000000w\n", "site.collect_every: at most 3650d (ten years), found '200000000w'"),
    ],
)
def test_a_span_too_long_for_any_date_is_a_config_error(runner, write_config, text, message):
    write_config(text)
    result = runner.invoke(main, ["validate"])
    assert_clean(result, 2)
    assert f"sources.yaml:2:3: {message}" in result.output


# -- alert state through a symlink (#13 item 11) ------------------------------------------


@pytest.mark.parametrize("name", [".state.json.tmp", "state.json", ".lock"])
def test_alert_state_is_never_written_through_a_symlink(alerts_config, tmp_path, name):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    folder = tmp_path / "history/alerts"
    folder.mkdir(parents=True)
    (folder / name).symlink_to(victim)
    alerts.notify(alerts_config, model(orders=Status.OPERATIONAL), tmp_path / "history", Outbox())
    transitions, _ = alerts.notify(alerts_config, model(orders=Status.FAILING), tmp_path / "history", Outbox())
    assert victim.read_text() == "precious"
    assert (folder / "state.json").is_file() and not (folder / "state.json").is_symlink()
    assert [t.title() for t in transitions] == ["Orders: operational → failing"]


def test_a_linked_state_file_is_named_in_a_warning(alerts_config, tmp_path):
    (tmp_path / "victim.txt").write_text('{"version": 1, "announced": {"orders": {"status": "failing"}}}')
    (tmp_path / "alerts").mkdir()
    (tmp_path / "alerts/state.json").symlink_to(tmp_path / "victim.txt")
    transitions, warnings = alerts.notify(alerts_config, model(orders=Status.OPERATIONAL), tmp_path, Outbox())
    assert transitions == []  # what the link points to is not read as state
    assert warnings == [f"ignored {tmp_path / 'alerts/state.json'}: a symbolic link; statusgen never follows links inside history"]


def test_the_api_response_cache_is_never_read_or_written_through_a_symlink(tmp_path):
    from statusgen.collectors.api import ResponseCache

    victim = tmp_path / "victim.json"
    victim.write_text('{"https://api.example.com/x": {"etag": "planted"}}')
    (tmp_path / "cache").mkdir()
    for name in ("gh.json", ".gh.json.tmp"):
        (tmp_path / "cache" / name).symlink_to(victim)
    cache = ResponseCache(tmp_path / "cache/gh.json")
    assert cache.entries == {}
    cache.save()
    assert victim.read_text() == '{"https://api.example.com/x": {"etag": "planted"}}'
    assert not (tmp_path / "cache/gh.json").is_symlink()


# -- the output folder swap (#13 item 11) -------------------------------------------------

PAGES = {"index.html": "<h1>ok</h1>", "components/c0.html": "<h1>c0</h1>"}


def test_render_leaves_a_user_folder_named_like_its_previous_site_alone(tmp_path):
    out = tmp_path / "site"
    _publish_folder(out, PAGES)
    mine = tmp_path / ".site.previous"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    _publish_folder(out, PAGES)
    _publish_folder(out, PAGES)
    assert (mine / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".site.previous", "site"]


KILLED_RENDER = """
import os, sys
from pathlib import Path
from statusgen.site.output import _publish_folder

written = 0
real_write = Path.write_text

def write_then_die(self, *args, **kwargs):
    global written
    written += 1
    if written == 50:
        os._exit(9)  # as a SIGKILL would: no cleanup runs
    return real_write(self, *args, **kwargs)

Path.write_text = write_then_die
_publish_folder(Path(sys.argv[1]), {f"components/c{i}.html": "<p>x</p>" for i in range(200)})
"""


def test_staging_left_by_a_killed_render_is_removed_by_the_next(tmp_path):
    out = tmp_path / "site"
    _publish_folder(out, PAGES)
    killed = subprocess.run([sys.executable, "-c", KILLED_RENDER, str(out)], cwd=tmp_path)
    assert killed.returncode == 9
    (left,) = [p for p in tmp_path.iterdir() if p.name != "site"]
    assert len(list(left.rglob("*.html"))) >= 40
    unmarked = tmp_path / ".site.abcd1234"  # looks like staging, but statusgen did not mark it
    unmarked.mkdir()
    (unmarked / "index.html").write_text("someone else's")
    _publish_folder(out, PAGES)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".site.abcd1234", "site"]
    assert (out / "index.html").read_text() == "<h1>ok</h1>"


def test_staging_of_a_render_still_running_is_left_alone(tmp_path):
    out = tmp_path / "site"
    running = tmp_path / ".site.staging-running"
    running.mkdir()
    with open(running / MARKER, "w") as marker:
        fcntl.flock(marker, fcntl.LOCK_EX)  # what a live render holds while it writes
        _publish_folder(out, PAGES)
        assert running.is_dir()
    _publish_folder(out, PAGES)
    assert not running.exists()


# -- time zones that depend on the machine (#13 item 11) ----------------------------------


@pytest.mark.parametrize("zone", ["localtime", "posixrules", "posix/Europe/Paris", "right/UTC"])
def test_a_time_zone_that_depends_on_the_machine_is_a_config_error(runner, write_config, zone):
    write_config(f"site:\n  timezone: {zone}\n")
    result = runner.invoke(main, ["validate"])
    assert_clean(result, 2)
    assert (f"sources.yaml:2:3: site.timezone: {zone!r} depends on the machine that runs statusgen; "
            "use an IANA name such as Europe/Paris") in result.output


def test_a_misspelt_time_zone_gets_a_did_you_mean(runner, write_config):
    write_config("site:\n  timezone: Europe/Pari\n")
    result = runner.invoke(main, ["validate"])
    assert_clean(result, 2)
    assert "site.timezone: unknown time zone 'Europe/Pari' (did you mean 'Europe/Paris'?)" in result.output


# -- who can read the page (#13 item 12) --------------------------------------------------

PAGES_WORKFLOW = """
jobs:
  status:
    steps:
      - run: statusgen run --out site
      - uses: actions/upload-pages-artifact@v5
        with: {path: site}
      - uses: actions/deploy-pages@v5
"""


@pytest.fixture
def repository(tmp_path, monkeypatch):
    """A repository with sources.yaml in a folder below its root, and a workflow that deploys Pages."""
    (tmp_path / ".git").mkdir()
    (tmp_path / ".github/workflows").mkdir(parents=True)
    (tmp_path / ".github/workflows/status.yml").write_text(textwrap.dedent(PAGES_WORKFLOW))
    (tmp_path / "status").mkdir()
    monkeypatch.chdir(tmp_path)

    def write(site: str) -> list[str]:
        (tmp_path / "status/sources.yaml").write_text(site)
        result = CliRunner().invoke(main, ["validate", "-c", "status/sources.yaml"])
        assert_clean(result, 0)
        return [line for line in result.output.splitlines() if line.startswith("warning:")]

    return write


WARNING = ("warning: status/sources.yaml: site.audience is internal (source names, error messages and run links), "
           "and .github/workflows/status.yml deploys the site to GitHub Pages, which anyone on the internet can read, "
           "even from a private repository. Put it behind access control and set site.private_hosting: true, "
           "or set site.audience: public.")


@pytest.mark.parametrize("site", ["site:\n  audience: internal\n", "site:\n  title: T\n"], ids=["internal", "by default"])
def test_an_internal_site_deployed_to_pages_gets_a_warning(repository, site):
    assert repository(site) == [WARNING]


@pytest.mark.parametrize("site", ["site:\n  audience: public\n", "site:\n  private_hosting: true\n"])
def test_a_public_or_acknowledged_site_gets_no_warning(repository, site):
    assert repository(site) == []


def test_no_warning_without_a_pages_workflow(repository, tmp_path):
    (tmp_path / ".github/workflows/status.yml").write_text("jobs: {s: {steps: [{uses: actions/checkout@v7}]}}\n")
    assert repository("site:\n  audience: internal\n") == []


def test_workflows_outside_the_repository_are_not_looked_at(repository, tmp_path):
    (tmp_path / "status/.git").mkdir()  # status/ is now a repository of its own
    assert repository("site:\n  audience: internal\n") == []
