"""History → the static site: the page model, then HTML and JSON written all at once.

The model is plain data, built from the history snapshot and the timeline, so templates
only lay it out. The site is rendered in a temporary folder and swapped into place, so a
failed render leaves the previous site as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any, Mapping

import jinja2

from statusgen.config import ComponentConfig, Config, SourceConfig
from statusgen.errors import StatusgenError
from statusgen.history import Snapshot
from statusgen.status import SEVERITY, Freshness, Status, worst
from statusgen.timeline import (
    Day,
    Window,
    build_component_segments,
    build_source_segments,
    daily,
    empty_bar,
    status_since,
    uptime,
)

MARKER = ".statusgen-site"
RECENT_RUNS = 15
STATUS_LABEL = {
    Status.OPERATIONAL: "Operational",
    Status.DEGRADED: "Degraded",
    Status.FAILING: "Failing",
    Status.UNKNOWN: "Unknown",
    Status.MAINTENANCE: "Maintenance",
}
BANNER = {
    Status.OPERATIONAL: "All data is fresh",
    Status.DEGRADED: "Some data is late or incomplete",
    Status.FAILING: "Some data is failing",
    Status.UNKNOWN: "Some statuses are unknown",
    Status.MAINTENANCE: "Maintenance in progress",
}


@dataclass(frozen=True)
class SourceView:
    id: str
    title: str
    connection: str
    kind: str
    status: Status
    since: datetime | None
    latest_state: str | None
    last_success_at: datetime | None
    freshness: Freshness
    note: str | None
    runs: list[dict[str, Any]]
    bar: list[Day]
    uptime_pct: float | None


@dataclass(frozen=True)
class ComponentView:
    id: str
    name: str
    group: str
    description: str
    owner: str
    url: str | None
    status: Status
    since: datetime | None
    uptime_pct: float | None
    bar: list[Day]
    sources: list[SourceView]

    @property
    def last_success_at(self) -> datetime | None:
        """When every source had last succeeded: the oldest of their last successes."""
        times = [s.last_success_at for s in self.sources]
        return None if not times or None in times else min(times)

    @property
    def page(self) -> str:
        return f"components/{self.id}.html"


@dataclass(frozen=True)
class GroupView:
    name: str
    components: list[ComponentView]

    @property
    def status(self) -> Status:
        return worst(c.status for c in self.components)


@dataclass(frozen=True)
class SiteModel:
    config: Config
    now: datetime
    last_collected_at: datetime | None
    groups: list[GroupView]
    sources: list[SourceView]
    weights: Mapping[Status, float]
    warnings: list[str] = field(default_factory=list)

    @property
    def components(self) -> list[ComponentView]:
        return [c for g in self.groups for c in g.components]

    @property
    def status(self) -> Status:
        return worst(c.status for c in self.components) if self.components else Status.UNKNOWN

    def by_status(self) -> dict[Status, list[ComponentView]]:
        """Components by status, worst first: what the banner names."""
        found: dict[Status, list[ComponentView]] = {}
        for component in self.components:
            found.setdefault(component.status, []).append(component)
        return dict(sorted(found.items(), key=lambda item: -SEVERITY[item[0]]))


@dataclass(frozen=True)
class SiteSummary:
    out: Path
    pages: int
    status: Status
    warnings: list[str]
    model: SiteModel


def build_model(config: Config, snapshot: Snapshot, now: datetime) -> SiteModel:
    window = Window.ending(now, config.site.days, config.site.zone)
    latest = snapshot.latest_observations()
    last_collected = snapshot.last_collected_at()
    promises = {s.id: _promise(s, latest.get(s.id)) for s in config.sources}
    covered_until = min(last_collected, now) if last_collected else window.start
    build_source_segments(snapshot, promises, window, covered_until)
    build_component_segments(snapshot, {c.id: c.depends_on for c in config.components})
    source_bars = daily(snapshot, "segments", "source_id", window)
    component_bars = daily(snapshot, "component_segments", "component_id", window)
    source_since = status_since(snapshot, "segments", "source_id")
    component_since = status_since(snapshot, "component_segments", "component_id")
    weights = {Status.FAILING: config.site.uptime_weights.failing, Status.DEGRADED: config.site.uptime_weights.degraded}

    sources = {}
    for source in config.sources:
        seen = latest.get(source.id, {})
        bar = source_bars.get(source.id) or empty_bar(window)
        status = Status(seen["status"]) if seen else Status.UNKNOWN
        sources[source.id] = SourceView(
            id=source.id,
            title=source.title,
            connection=source.connection,
            kind=config.connections[source.connection].type,
            status=status,
            since=_since(status, source_since.get(source.id)),
            latest_state=seen.get("latest_state"),
            last_success_at=seen.get("last_success_at"),
            freshness=promises[source.id],
            note=seen.get("error") or seen.get("message") if seen else "not collected yet",
            runs=snapshot.recent_runs([source.id], RECENT_RUNS),
            bar=bar,
            uptime_pct=uptime(bar, weights),
        )
    groups: dict[str, list[ComponentView]] = {}
    for component in config.components:
        view = _component_view(component, sources, component_bars, window, weights)
        groups.setdefault(component.group, []).append(replace(view, since=_since(view.status, component_since.get(component.id))))
    return SiteModel(
        config=config,
        now=now,
        last_collected_at=last_collected,
        groups=[GroupView(name, members) for name, members in groups.items()],
        sources=list(sources.values()),
        weights=weights,
        warnings=list(config.warnings) + list(snapshot.warnings),
    )


def _component_view(component: ComponentConfig, sources, bars, window, weights) -> ComponentView:
    members = [sources[s] for s in component.depends_on]
    bar = bars.get(component.id) or empty_bar(window)
    return ComponentView(
        id=component.id,
        name=component.name,
        group=component.group,
        description=component.description,
        owner=component.owner,
        url=component.url,
        status=worst(s.status for s in members),
        since=None,
        uptime_pct=uptime(bar, weights),
        bar=bar,
        sources=members,
    )


def _since(status: Status, latest: tuple[Status, datetime] | None) -> datetime | None:
    """When the current status began, if the timeline's last stretch is that status."""
    return latest[1] if latest and latest[0] is status else None


def _promise(source: SourceConfig, seen: dict | None) -> Freshness:
    """The promise recorded with the latest observation (it may come from dbt), else the config's."""
    if seen and (seen.get("warn_after_s") is not None or seen.get("error_after_s") is not None):
        as_delta = lambda s: None if s is None else timedelta(seconds=s)  # noqa: E731
        return Freshness(as_delta(seen["warn_after_s"]), as_delta(seen["error_after_s"]))
    return source.freshness.promise() if source.freshness else Freshness()


def build_site(config: Config, snapshot: Snapshot, out: Path, now: datetime) -> SiteSummary:
    model = build_model(config, snapshot, now)
    pages = render_pages(model)
    _publish_folder(out, pages)
    return SiteSummary(out, len(pages), model.status, model.warnings, model)


def render_pages(model: SiteModel) -> dict[str, str | bytes]:
    """Every file of the site by relative path."""
    css = files("statusgen").joinpath("site_templates/style.css").read_text(encoding="utf-8")
    # The name changes with the content, so browsers and CDNs may keep it for a year.
    css_name = f"style.{hashlib.sha256(css.encode()).hexdigest()[:10]}.css"
    env = _environment(model)
    env.globals["css"] = css_name
    pages: dict[str, str | bytes] = {"index.html": env.get_template("index.html").render(site=model, root="")}
    for component in model.components:
        pages[component.page] = env.get_template("component.html").render(site=model, component=component, root="../")
    pages["status.json"] = json.dumps(status_json(model), indent=2, ensure_ascii=False) + "\n"
    pages[css_name] = css
    return pages


def status_json(model: SiteModel) -> dict[str, Any]:
    return {
        "generated_at": _iso(model.now),
        "last_collected_at": _iso(model.last_collected_at),
        "status": model.status.value,
        "components": [
            {
                "id": c.id,
                "name": c.name,
                "group": c.group,
                "status": c.status.value,
                "uptime_pct": c.uptime_pct,
                "sources": [s.id for s in c.sources],
            }
            for c in model.components
        ],
        "sources": [
            {
                "id": s.id,
                "name": s.title,
                "status": s.status.value,
                "last_success_at": _iso(s.last_success_at),
                "last_run_state": s.latest_state,
                "message": s.note,
            }
            for s in model.sources
        ],
    }


def _environment(model: SiteModel) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("statusgen", "site_templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    zone = model.config.site.zone
    env.filters["local"] = lambda t, fmt="%Y-%m-%d %H:%M %Z": t.astimezone(zone).strftime(fmt) if t else "never"
    env.filters["ago"] = lambda t: _ago(model.now - t) if t else "never"
    env.filters["duration"] = _duration
    env.filters["day_label"] = _day_label
    env.filters["safe_url"] = lambda u: u if isinstance(u, str) and u.startswith(("http://", "https://")) else None
    env.globals.update(label=STATUS_LABEL, banner=BANNER, Status=Status)
    return env


def _ago(delta: timedelta) -> str:
    if delta < timedelta(0):
        return "in the future"
    return "just now" if delta < timedelta(minutes=1) else f"{_duration(delta, 1)} ago"


def _duration(delta: timedelta | None, parts: int = 2) -> str:
    if delta is None:
        return "—"
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    units = [("d", 86400), ("h", 3600), ("min", 60)]
    out = []
    for name, size in units:
        if seconds >= size and len(out) < parts:
            out.append(f"{seconds // size} {name}")
            seconds %= size
        elif out:
            break
    return " ".join(out)


def _day_label(day: Day) -> str:
    when = day.day.strftime("%b %-d")
    if day.worst is None:
        return f"{when}: no data"
    parts = [
        f"{_duration(timedelta(seconds=day.seconds[s]))} {STATUS_LABEL[s].lower()}"
        for s in (Status.FAILING, Status.DEGRADED, Status.UNKNOWN, Status.MAINTENANCE)
        if day.seconds.get(s)
    ]
    if not parts:
        return f"{when}: operational" + (", partly no data" if day.no_data else "")
    return f"{when}: " + ", ".join(parts) + (", partly no data" if day.no_data else "")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _publish_folder(out: Path, pages: Mapping[str, str | bytes]) -> None:
    """Write the site next to `out` and swap it in; never overwrite a folder we did not make."""
    out = out.resolve()
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise StatusgenError(f"{out} exists and was not made by statusgen; choose an empty or new folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for relative, content in pages.items():
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        (staging / MARKER).write_text("This folder is written by statusgen render and replaced whole.\n")
        os.chmod(staging, 0o755)
        previous = out.with_name(f".{out.name}.previous")
        shutil.rmtree(previous, ignore_errors=True)
        if out.exists():
            out.rename(previous)
        staging.rename(out)
        shutil.rmtree(previous, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise StatusgenError(f"cannot write the site to {out}: {exc.strerror}") from None
