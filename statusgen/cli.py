"""The `statusgen` command: each command parses options, loads config and calls one function."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click

from statusgen import pipeline
from statusgen.config import Config, json_schema, load_config
from statusgen.history import History
from statusgen.site import SiteSummary
from statusgen.status import SEVERITY, Status

CONFIG_OPTION = click.option(
    "-c", "--config", "config_path", type=click.Path(path_type=Path), default="sources.yaml",
    envvar="STATUSGEN_CONFIG", show_default=True, help="The sources.yaml to read.",
)
HISTORY_OPTION = click.option(
    "--history", "history_path", type=click.Path(file_okay=False, path_type=Path),
    help="History folder (default: history.path from the config).",
)
OUT_OPTION = click.option("--out", type=click.Path(file_okay=False, path_type=Path), default="site", show_default=True, help="Where to write the site.")
FAIL_ON_OPTION = click.option(
    "--fail-on", type=click.Choice([Status.DEGRADED.value, Status.FAILING.value]),
    help="Exit 1 when any source is at this status or worse (for CI checks).",
)


def _parse_now(ctx, param, value: str | None) -> datetime:
    if value is None:
        return datetime.now(timezone.utc)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected an ISO 8601 time such as 2026-11-22T06:00:00Z, got {value!r}") from None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


NOW_OPTION = click.option("--now", callback=_parse_now, metavar="ISO", help="Act as if it were this time (UTC unless a zone is given).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="statusgen")
def main() -> None:
    """A static status page for data pipelines, built from your orchestrators' APIs."""


@main.command()
@CONFIG_OPTION
def validate(config_path: Path) -> None:
    """Check the config and print every problem at once."""
    config = load_config(config_path)
    _warn(config.warnings)
    click.echo(f"{config_path}: OK ({len(config.connections)} connections, {len(config.sources)} sources, {len(config.components)} components)")


@main.command()
def schema() -> None:
    """Print the JSON Schema of sources.yaml, for editors."""
    click.echo(json.dumps(json_schema(), indent=2))


@main.command()
@CONFIG_OPTION
@HISTORY_OPTION
@NOW_OPTION
@FAIL_ON_OPTION
def collect(config_path: Path, history_path: Path | None, now: datetime, fail_on: str | None) -> None:
    """Ask every source once and append what was seen to history."""
    config = load_config(config_path)
    _exit_on(_collect(config, _history(config, history_path), now), fail_on)


@main.command()
@CONFIG_OPTION
@HISTORY_OPTION
@OUT_OPTION
@NOW_OPTION
def render(config_path: Path, history_path: Path | None, out: Path, now: datetime) -> None:
    """Write the static site from history."""
    config = load_config(config_path)
    _report_site(pipeline.render(config, _history(config, history_path), out, now))


@main.command()
@CONFIG_OPTION
@HISTORY_OPTION
@OUT_OPTION
@NOW_OPTION
@FAIL_ON_OPTION
def run(config_path: Path, history_path: Path | None, out: Path, now: datetime, fail_on: str | None) -> None:
    """Collect, compact finished days, then render: what the scheduled job runs."""
    config = load_config(config_path)
    history = _history(config, history_path)
    lines = _collect(config, history, now)
    pipeline.maintain(config, history, now)
    _report_site(pipeline.render(config, history, out, now))
    _exit_on(lines, fail_on)


@main.command()
@CONFIG_OPTION
@HISTORY_OPTION
@NOW_OPTION
def compact(config_path: Path, history_path: Path | None, now: datetime) -> None:
    """Merge finished days into one file each and drop days past retention."""
    config = load_config(config_path)
    compaction, dropped = pipeline.maintain(config, _history(config, history_path), now)
    click.echo(f"compacted {len(compaction.days)} days: {compaction.files_before} files → {compaction.files_after}; dropped {len(dropped)} days")


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
    summary = run_demo(workdir, out, days, now)
    _report_site(summary)


def _history(config: Config, override: Path | None) -> History:
    return History(override or config.history.path)


def _collect(config: Config, history: History, now: datetime) -> list[pipeline.SourceLine]:
    _warn(config.warnings)
    total = len(config.sources)
    done = 0
    show_progress = sys.stderr.isatty()

    def progress(collected) -> None:
        nonlocal done
        done += 1
        if show_progress:
            click.echo(f"\rcollecting: {done}/{total} sources", nl=done == total, err=True)

    summary = pipeline.collect(config, history, now, progress)
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
    return summary.lines


def _exit_on(lines: list[pipeline.SourceLine], fail_on: str | None) -> None:
    if fail_on is None:
        return
    threshold = SEVERITY[Status(fail_on)]
    bad = [line.source_id for line in lines if SEVERITY[line.status] >= threshold]
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
