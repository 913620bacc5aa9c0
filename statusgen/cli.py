"""The `statusgen` command: each command parses options, loads config and calls one function."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path

import click

from statusgen import heartbeat as dead_mans_switch
from statusgen import job_summary, pipeline
from statusgen.config import Config, json_schema, load_config
from statusgen.history import git as history_git
from statusgen.history import history_at
from statusgen.publish import publish as publish_site
from statusgen.site import SiteSummary, status_json
from statusgen.status import SEVERITY, Status
from statusgen.validate import validate as validate_files

CONFIG_OPTION = click.option(
    "-c", "--config", "config_path", type=click.Path(path_type=Path), default="sources.yaml",
    envvar="STATUSGEN_CONFIG", show_default=True, help="The sources.yaml to read.",
)
HISTORY_OPTION = click.option(
    "--history", "history_path", metavar="DIR|s3://BUCKET/PREFIX",
    help="Where history is (default: history.path from the config).",
)
OUT_OPTION = click.option("--out", type=click.Path(file_okay=False, path_type=Path), default="site", show_default=True, help="Where to write the site.")
FAIL_ON_OPTION = click.option(
    "--fail-on", type=click.Choice([Status.UNKNOWN.value, Status.DEGRADED.value, Status.FAILING.value]),
    help="Exit 1 when any source is at this level or worse: failing; degraded (or failing); unknown (or degraded, or failing).",
)


# Commands reach back from --now (bars, retention, look-backs: at most a century) and a
# little forward; inside these bounds every such step stays inside what datetime can hold.
EARLIEST_NOW = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST_NOW = datetime(9000, 1, 1, tzinfo=timezone.utc)


def _parse_now(ctx, param, value: str | None) -> datetime:
    if value is None:
        return datetime.now(timezone.utc)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected an ISO 8601 time such as 2026-11-22T06:00:00Z, got {value!r}") from None
    try:
        now = parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)
    except OverflowError:  # a zone's offset pushed it past year 1 or 9999
        now = None
    if now is None or not EARLIEST_NOW <= now < LATEST_NOW:
        last = LATEST_NOW - timedelta(days=1)
        raise click.BadParameter(
            f"{value!r} is outside the times statusgen handles: from {EARLIEST_NOW:%Y-%m-%d} to {last:%Y-%m-%d} (UTC)"
        )
    return now


def _parse_shard(ctx, param, value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    index, _, count = value.partition("/")
    if not (index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count)):
        raise click.BadParameter(f"expected I/N with 1 <= I <= N, such as 2/4, got {value!r}")
    return int(index), int(count)


class _Progress:
    """"collecting: N sources" on a terminal, one line rewritten as sources finish."""

    def __init__(self) -> None:
        self.done = 0
        self.shown = sys.stderr.isatty()

    def __call__(self, collected) -> None:
        self.done += 1
        if self.shown:
            click.echo(f"\rcollecting: {self.done} sources", nl=False, err=True)

    def end(self) -> None:
        if self.shown and self.done:
            click.echo(err=True)


def _print_collection(summary: pipeline.CollectSummary) -> None:
    _warn(summary.warnings)
    rows = [("SOURCE", "STATUS", "AGE", "TOOK", "RUNS", "NOTE")]
    for line in summary.lines:
        age = _short(line.age) if line.age is not None else "—"
        rows.append((line.source_id, line.status.value, age, f"{line.latency_ms} ms", str(line.runs), line.note or ""))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for row in rows:
        click.echo("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + "  " + row[5])
    counts: dict[str, int] = {}
    for line in summary.lines:
        counts[line.status.value] = counts.get(line.status.value, 0) + 1
    requests = ", ".join(f"{name} {count}" for name, count in summary.requests.items() if count)
    click.echo(f"collection {summary.collection_id}: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
               + (f"; API requests: {requests}" if requests else ""))


def _exit_on(statuses: dict[str, Status], fail_on: str | None) -> None:
    if fail_on is None:
        return
    threshold = SEVERITY[Status(fail_on)]
    bad = [source_id for source_id, status in statuses.items() if SEVERITY[status] >= threshold]
    if bad:
        click.echo(f"{len(bad)} source(s) {fail_on} or worse: {', '.join(bad)}", err=True)
        sys.exit(1)


def _report_site(summary: SiteSummary) -> None:
    _warn(summary.warnings)
    click.echo(f"wrote {summary.pages} files to {summary.out} (overall: {summary.status.value})")


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)


def _short(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


NOW_OPTION = click.option("--now", callback=_parse_now, metavar="ISO", help="Act as if it were this time (UTC unless a zone is given).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="statusgen")
def main() -> None:
    """A static status page for data pipelines, built from your orchestrators' APIs."""


@main.command()
@CONFIG_OPTION
def validate(config_path: Path) -> None:
    """Check the config and its incident files, and print every problem at once."""
    config, warnings = validate_files(config_path)
    click.echo(f"{config_path}: OK ({len(config.connections)} connections, {len(config.sources)} sources, {len(config.components)} components)")
    _warn(warnings)


@main.command()
def schema() -> None:
    """Print the JSON Schema of sources.yaml, for editors."""
    click.echo(json.dumps(json_schema(), indent=2))


@main.command()
@CONFIG_OPTION
@HISTORY_OPTION
@NOW_OPTION
@FAIL_ON_OPTION
@click.option("--shard", callback=_parse_shard, metavar="I/N", help="Collect only slice I of N (for a matrix of parallel jobs).")
def collect(config_path: Path, history_path: str | None, now: datetime, fail_on: str | None, shard: tuple[int, int] | None) -> None:
    """Ask every source once and append what was seen to history."""
    config = load_config(config_path)
    progress = _Progress()
    with _history(config, history_path, now, write=True) as history:
        summary = pipeline.collect(config, history, now, progress, shard)
    progress.end()
    _print_collection(summary)
    _exit_on({line.source_id: line.status for line in summary.lines}, fail_on)


@main.command()
@CONFIG_OPTION
@HISTORY_OPTION
@OUT_OPTION
@NOW_OPTION
def render(config_path: Path, history_path: str | None, out: Path, now: datetime) -> None:
    """Write the static site from history."""
    config = load_config(config_path)
    with _history(config, history_path, now, write=False) as history:
        _report_site(pipeline.render(config, history, out, now))


@main.command()
@CONFIG_OPTION
@HISTORY_OPTION
@OUT_OPTION
@NOW_OPTION
@FAIL_ON_OPTION
def run(config_path: Path, history_path: str | None, out: Path, now: datetime, fail_on: str | None) -> None:
    """Collect, compact finished days, then render: what the scheduled job runs."""
    config = load_config(config_path)
    progress = _Progress()
    with _history(config, history_path, now, write=True) as history:
        result = pipeline.run(config, history, now, out, progress)
    progress.end()
    _print_collection(result.collected)
    _report_site(result.site)
    for line in job_summary.report(result.site.model, os.environ):
        click.echo(line)
    for transition in result.transitions:
        click.echo(f"alerted: {transition.title()}")
    _warn(result.warnings)
    _exit_on({line.source_id: line.status for line in result.collected.lines}, fail_on)


@main.command()
@CONFIG_OPTION
@HISTORY_OPTION
@NOW_OPTION
@FAIL_ON_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print status.json's content instead of a table.")
def status(config_path: Path, history_path: str | None, now: datetime, fail_on: str | None, as_json: bool) -> None:
    """What the page says now, in the terminal: every component and source, from history."""
    config = load_config(config_path)
    with _history(config, history_path, now, write=False) as history:
        model = pipeline.model(config, history, now)
    _warn(model.warnings)
    if as_json:
        click.echo(json.dumps(status_json(model), indent=2))
    else:
        rows = [("COMPONENT / SOURCE", "STATUS", "SINCE", "WHY")]
        for component in model.components:
            zone = config.site.zone
            rows.append((component.name, component.status.value, _when(component.since, zone), component.reason or ""))
            rows += [(f"  {s.title}", s.status.value, _when(s.since, zone), s.reason or s.note or "") for s in component.sources]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        for row in rows:
            click.echo("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3])
        click.echo(f"overall: {model.status.value}; last collected {_when(model.last_collected_at, config.site.zone)}")
    _exit_on({s.id: s.status for s in model.sources}, fail_on)


def _when(moment: datetime | None, zone: tzinfo) -> str:
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M %Z}" if moment else "—"


@main.command()
@CONFIG_OPTION
@HISTORY_OPTION
@NOW_OPTION
def compact(config_path: Path, history_path: str | None, now: datetime) -> None:
    """Merge finished days into one file each and drop days past retention."""
    config = load_config(config_path)
    with _history(config, history_path, now, write=True) as history:
        before = history.file_count()
        done = pipeline.maintain(config, history, now)
        after = history.file_count()
    if done is None:
        click.echo("another statusgen is using this history; nothing compacted (the next run will)")
        return
    compaction, dropped = done
    click.echo(f"compacted {len(compaction.days)} days, dropped {len(dropped)} days: {before} files → {after}")


@main.command()
@OUT_OPTION
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=".statusgen-demo", show_default=True,
              help="Where the simulated warehouse, dbt artifacts and history go.")
@click.option("--days", type=click.IntRange(1, 400), default=90, show_default=True, help="Days to simulate.")
@NOW_OPTION
def demo(out: Path, workdir: Path, days: int, now: datetime) -> None:
    """Simulate pipelines for --days and build the site from the bundled example, offline."""
    from statusgen.demo import run_demo

    click.echo(f"Simulating {days} days of pipelines in {workdir}/ …", err=True)
    on_terminal = _on_terminal()
    told: set[int] = set()

    def progress(day: int, of: int) -> None:
        if on_terminal:
            click.echo(f"\rsimulating: day {day} of {of}", err=True, nl=False)
        elif day not in told and (day == 1 or day % 10 == 0 or day == of):
            # A log or a pipe keeps no carriage returns: a plain line every ten days.
            told.add(day)
            click.echo(f"simulating: day {day} of {of}", err=True)

    summary = run_demo(workdir, out, days, now, progress)
    if on_terminal:
        click.echo(err=True)
    _report_site(summary)


def _on_terminal() -> bool:
    return sys.stderr.isatty()


@main.command()
@click.option("--site", type=click.Path(file_okay=False, exists=True, path_type=Path), default="site", show_default=True,
              help="The site statusgen render built.")
@click.option("--to", "target", required=True, metavar="DIR|s3://BUCKET/PREFIX", help="Where to publish it.")
@click.option("--delete", is_flag=True, help="Also remove files an earlier publish wrote that the site no longer has.")
@click.option("--dry-run", is_flag=True, help="Say what would change; change nothing.")
@click.option("--endpoint-url", envvar="AWS_ENDPOINT_URL", help="An S3-compatible store's endpoint.")
def publish(site: Path, target: str, delete: bool, dry_run: bool, endpoint_url: str | None) -> None:
    """Copy the site to a folder or an S3 prefix, sending only what changed."""
    result = publish_site(site, target, delete=delete, dry_run=dry_run, endpoint_url=endpoint_url)
    _warn(result.warnings)
    verb = "would upload" if dry_run else "uploaded"
    click.echo(f"{verb} {len(result.uploaded)}, unchanged {result.unchanged}, {'would delete' if dry_run else 'deleted'} {len(result.deleted)} → {target}")
    for name in result.uploaded:
        click.echo(f"  + {name}")
    for name in result.deleted:
        click.echo(f"  - {name}")


@main.command()
@CONFIG_OPTION
@click.option("--site", type=click.Path(file_okay=False, path_type=Path), default="site", show_default=True,
              help="The site just published.")
@NOW_OPTION
def heartbeat(config_path: Path, site: Path, now: datetime) -> None:
    """Tell site.heartbeat_url's monitor that a fresh page was published (run it after the deploy)."""
    config = load_config(config_path)
    told, warnings = dead_mans_switch.beat(config.site, site, now)
    _warn(warnings)
    if told:
        click.echo("heartbeat sent")


@main.group("history")
def history_group() -> None:
    """Keep the history folder on a git branch of its own between scheduled runs."""


@history_group.command("restore")
@click.option("--branch", default="status-history", show_default=True, help="The branch holding only the history.")
@click.option("--to", "folder", type=click.Path(file_okay=False, path_type=Path), default="history", show_default=True)
@click.option("--remote", default="origin", show_default=True, help="A remote's name or URL.")
def history_restore(branch: str, folder: Path, remote: str) -> None:
    """Fill the history folder from the branch (empty on the very first run)."""
    found = history_git.restore(branch, folder, remote)
    click.echo(f"restored history from {branch} into {folder}" if found else f"no branch {branch} yet: starting a new history in {folder}")


@history_group.command("save")
@click.option("--branch", default="status-history", show_default=True, help="The branch holding only the history.")
@click.option("--from", "folder", type=click.Path(file_okay=False, exists=True, path_type=Path), default="history", show_default=True)
@click.option("--remote", default="origin", show_default=True, help="A remote's name or URL.")
def history_save(branch: str, folder: Path, remote: str) -> None:
    """Replace the branch with one commit holding the history folder."""
    history_git.save(branch, folder, remote)
    click.echo(f"saved {folder} as the single commit of {branch}")


def _history(config: Config, override: str | None, now: datetime, write: bool):
    """History at --history or history.path: a folder, or an S3 prefix pulled for this command."""
    return history_at(
        override or config.history.path,
        today=now.date(),
        days=config.site.days,
        retention_days=config.history.retention_days,
        write=write,
        warn=lambda message: _warn([message]),
    )
