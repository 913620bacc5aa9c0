"""History → the static site: the page model, then HTML and JSON written all at once.

The model is plain data, built from the history snapshot and the timeline, so templates
only lay it out. The site is rendered in a temporary folder and swapped into place, so a
failed render leaves the previous site as it was.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import functools
import hashlib
import json
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from functools import cached_property
from importlib.resources import files
from pathlib import Path
from typing import Any, Iterator, Mapping

import jinja2

from statusgen import formats, names
from statusgen.config import ComponentConfig, Config
from statusgen.errors import StatusgenError
from statusgen.feeds import atom, badge_svg, shields, statuspage
from statusgen.history import Snapshot, aware_utc, naive_utc
from statusgen.incidents import Incident, load_incidents, render_markdown
from statusgen.records import Run
from statusgen.status import SEVERITY, Freshness, RunState, Status, worst
from statusgen.swap import ASIDE, swap_in
from statusgen.timeline import (
    Day,
    Window,
    build_component_segments,
    build_source_segments,
    daily,
    empty_bar,
    failed_runs,
    status_since,
    uptime,
)
from statusgen.urls import public_text

MARKER = ".statusgen-site"
# A component page draws this many of its sources in full (about 8 KB each); past it, the
# rest are a table row each, so a component that stands for 20,000 DAGs still has a page
# of a few megabytes, not hundreds.
MAX_DRAWN_SOURCES = 100
FEED_DAYS = timedelta(days=30)
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
    runs: list[Run]
    bar: list[Day]
    uptime_pct: float | None

    @property
    def failed_run_url(self) -> str | None:
        """The link of its latest failed run, where the orchestrator gave one."""
        return next((r.url for r in self.runs if r.state == RunState.FAILED and r.url), None)


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
    def troubled_sources(self) -> list[SourceView]:
        return [s for s in self.sources if s.status is not Status.OPERATIONAL]

    @property
    def drawn_sources(self) -> list[SourceView]:
        """The sources its page draws in full (facts, bar, recent runs), worst first."""
        return self._by_severity[:MAX_DRAWN_SOURCES]

    @property
    def listed_sources(self) -> list[SourceView]:
        """The rest, one table row each: a page stays small whatever a component stands for."""
        return self._by_severity[MAX_DRAWN_SOURCES:]

    @cached_property
    def _by_severity(self) -> list[SourceView]:
        return sorted(self.sources, key=lambda s: -SEVERITY[s.status])

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

    @property
    def page(self) -> str:
        return f"groups/{names.slug(self.name)}.html"

    def by_status(self) -> dict[Status, list[ComponentView]]:
        return _by_status(self.components)

    @property
    def bar(self) -> list[Day]:
        """Each day, the worst day among the group's components."""
        days = []
        for marks in zip(*(c.bar for c in self.components)):
            worst_day = max(marks, key=lambda d: -1 if d.worst is None else SEVERITY[d.worst])
            days.append(worst_day)
        return days


@dataclass(frozen=True)
class Change:
    """A component's status changing, for the feed."""

    at: datetime
    key: str
    name: str
    old: Status
    new: Status
    page: str


@dataclass(frozen=True)
class SiteModel:
    config: Config
    now: datetime
    last_collected_at: datetime | None
    groups: list[GroupView]
    sources: list[SourceView]
    weights: Mapping[Status, float]
    incidents: list[Incident] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def components(self) -> list[ComponentView]:
        return [c for g in self.groups for c in g.components]

    @property
    def internal(self) -> bool:
        return self.config.site.audience == "internal"

    @property
    def stale_at(self) -> datetime | None:
        """From when on the page is out of date. The page embeds it, so the render and the
        script in the page judge by the same moment; None: nothing was ever collected."""
        return self.last_collected_at + self.config.site.stale_threshold if self.last_collected_at else None

    @property
    def stale(self) -> bool:
        """True when the schedule stopped: what the page says is no longer known to be true."""
        return self.stale_at is None or self.now > self.stale_at

    @property
    def known_until(self) -> datetime:
        """Where "failing for …" stops counting: now, or the last collection once the page is
        out of date (what happened since is not known). The page's script applies the same rule."""
        return self.last_collected_at if self.stale and self.last_collected_at else self.now

    @property
    def active_incidents(self) -> list[Incident]:
        return [i for i in self.incidents if not i.is_maintenance and i.active(self.now)]

    @property
    def maintenance(self) -> list[Incident]:
        """Windows running now or still to come, soonest first."""
        return sorted((i for i in self.incidents if i.is_maintenance and (i.active(self.now) or i.upcoming(self.now))),
                      key=lambda i: i.begins)

    def incidents_of(self, component_id: str) -> list[Incident]:
        return [i for i in self.incidents if component_id in i.components]

    @property
    def status(self) -> Status:
        return worst(c.status for c in self.components) if self.components else Status.UNKNOWN

    def by_status(self) -> dict[Status, list[ComponentView]]:
        """Components by status, worst first: what the banner names."""
        return _by_status(self.components)

    @property
    def compact(self) -> bool:
        """Too many components for one page: the index lists groups, each with a page of its own."""
        return len(self.components) > self.config.site.max_index_components


@dataclass(frozen=True)
class SiteSummary:
    out: Path
    pages: int
    status: Status
    warnings: list[str]
    model: SiteModel


def build_model(config: Config, snapshot: Snapshot, now: datetime) -> SiteModel:
    window = Window.ending(now, config.site.days, config.site.zone)
    snapshot.keep_runs()
    latest = snapshot.latest_observations()
    last_collected = snapshot.last_collected_at()
    declared = snapshot.declared_promises()
    promises = {s.id: s.promise(declared.get(s.id), config.site.zone) for s in config.sources}
    covered_until = min(last_collected, now) if last_collected else window.start
    build_source_segments(snapshot, promises, window, covered_until)
    incidents, incident_warnings = load_incidents(config.site.incidents_dir, {c.id for c in config.components}, config.site.zone)
    windows: dict[str, list[tuple[datetime, datetime]]] = {}
    for incident in incidents:
        for component_id in incident.components if incident.is_maintenance else []:
            windows.setdefault(component_id, []).append((incident.scheduled_for, incident.scheduled_until))
    build_component_segments(snapshot, {c.id: c.depends_on for c in config.components}, windows)
    source_bars = daily(snapshot, "segments", "source_id", window)
    component_bars = daily(snapshot, "component_segments", "component_id", window)
    failures = failed_runs(snapshot)
    recent = snapshot.recent_runs(RECENT_RUNS)
    # The timeline is the one truth: what every output says now is its value at the last
    # collection (how old that is, the page says separately), never a second verdict.
    source_now = status_since(snapshot, "segments", "source_id")
    component_now = status_since(snapshot, "component_segments", "component_id")
    facts = snapshot.source_facts()
    weights = {Status.FAILING: config.site.uptime_weights.failing, Status.DEGRADED: config.site.uptime_weights.degraded}

    sources = {}
    for source in config.sources:
        seen = latest.get(source.id)
        counts = failures.get(source.id, {})
        bar = [replace(d, failed_runs=n) if (n := counts.get(d.day)) else d for d in source_bars.get(source.id) or empty_bar(window)]
        status, since = source_now.get(source.id, (Status.UNKNOWN, None))
        known = facts.get(source.id)
        sources[source.id] = SourceView(
            id=source.id,
            title=source.title,
            connection=source.connection,
            kind=config.connections[source.connection].type,
            status=status,
            since=since,
            latest_state=known.latest_state if known else None,
            last_success_at=known.last_success_at if known else None,
            freshness=promises[source.id],
            # Rows written before collection stripped URL credentials hold them still: not on the page.
            note=public_text(seen.error or seen.message or "") or None if seen else "not collected yet",
            runs=recent.get(source.id, []),
            bar=bar,
            uptime_pct=uptime(bar, weights),
        )
    groups: dict[str, list[ComponentView]] = {}
    for component in config.components:
        view = _component_view(component, sources, component_bars, component_now.get(component.id), window, weights)
        groups.setdefault(component.group, []).append(replace(view, bar=_annotated(view, incidents, window)))
    return SiteModel(
        config=config,
        now=now,
        last_collected_at=last_collected,
        groups=[GroupView(name, members) for name, members in groups.items()],
        sources=list(sources.values()),
        weights=weights,
        incidents=incidents,
        changes=_changes(snapshot, {c.id: c for g in groups.values() for c in g}, now - FEED_DAYS),
        warnings=list(snapshot.warnings) + incident_warnings,
    )


def _by_status(components: list[ComponentView]) -> dict[Status, list[ComponentView]]:
    found: dict[Status, list[ComponentView]] = {}
    for component in components:
        found.setdefault(component.status, []).append(component)
    return dict(sorted(found.items(), key=lambda item: -SEVERITY[item[0]]))


def _annotated(component: ComponentView, incidents: list[Incident], window: Window) -> list[Day]:
    """The component's days, with its sources' failed runs and the incidents that touched it."""
    days = []
    for index, ((_, start, end), mark) in enumerate(zip(window.days, component.bar)):
        failed = sum(s.bar[index].failed_runs for s in component.sources)
        touched = tuple(i.title for i in incidents if component.id in i.components and i.begins < end and (i.ends is None or i.ends > start))
        days.append(replace(mark, failed_runs=failed, incidents=touched))
    return days


def _changes(snapshot: Snapshot, components: Mapping[str, ComponentView], since: datetime) -> list[Change]:
    """Status changes of components from `since` on: where one stretch of the timeline ends and another begins.
    Newest first, and by component at one instant: an order that varied would change the feed between renders."""
    rows = snapshot.db.execute(
        """
        SELECT component_id, start, sev, lag(sev) OVER w AS before, lag(stop) OVER w AS before_stop
        FROM component_segments WINDOW w AS (PARTITION BY component_id ORDER BY start)
        QUALIFY before IS NOT NULL AND before_stop = start AND start >= $since
        ORDER BY start DESC, component_id LIMIT 100
        """,
        {"since": naive_utc(since)},
    ).fetchall()
    by_rank = {rank: status for status, rank in SEVERITY.items()}
    return [
        Change(aware_utc(at), cid, components[cid].name, by_rank[before], by_rank[sev], components[cid].page)
        for cid, at, sev, before, _ in rows
        if cid in components
    ]


def _component_view(component: ComponentConfig, sources, bars, now: tuple[Status, datetime] | None, window, weights) -> ComponentView:
    members = [sources[s] for s in component.depends_on]
    bar = bars.get(component.id) or empty_bar(window)
    status, since = now or (Status.UNKNOWN, None)
    return ComponentView(
        id=component.id,
        name=component.name,
        group=component.group,
        description=component.description,
        owner=component.owner,
        url=component.url,
        status=status,
        since=since,
        uptime_pct=uptime(bar, weights),
        bar=bar,
        sources=members,
    )


def write_site(model: SiteModel, out: Path) -> SiteSummary:
    pages = render_pages(model)
    _publish_folder(out, pages)
    return SiteSummary(out, len(pages), model.status, model.warnings, model)


def render_pages(model: SiteModel) -> dict[str, str | bytes]:
    """Every file of the site by relative path."""
    site = model.config.site
    theme = Path(site.theme_dir) if site.theme_dir else None
    css_file = theme / "style.css" if theme and (theme / "style.css").is_file() else None
    css = css_file.read_text(encoding="utf-8") if css_file else files("statusgen").joinpath("site_templates/style.css").read_text(encoding="utf-8")
    # The name changes with the content, so browsers and CDNs may keep it for a year.
    css_name = f"style.{hashlib.sha256(css.encode()).hexdigest()[:10]}.css"
    pages: dict[str, str | bytes] = {css_name: css}
    logo = None
    if site.logo:
        try:
            data = Path(site.logo).read_bytes()
        except OSError as exc:  # validated, but removed or locked since
            raise StatusgenError(f"cannot read site.logo {site.logo}: {exc.strerror}") from None
        logo = f"logo.{hashlib.sha256(data).hexdigest()[:10]}{Path(site.logo).suffix.lower()}"
        pages[logo] = data
    env = _environment(model, theme)
    env.globals.update(css=css_name, logo=logo, footer=render_markdown(site.footer) if site.footer else "",
                       age_script=age_script(), csp=content_security_policy(age_script()))

    def page(template: str, path: str, **context: Any) -> None:
        pages[path] = env.get_template(template).render(site=model, root="../" * path.count("/"), **context)

    page("index.html", "index.html")
    page("incidents.html", "incidents.html")
    for group in model.groups if model.compact else []:
        page("group.html", group.page, group=group)
    for component in model.components:
        page("component.html", component.page, component=component)
        pages[f"badges/{component.id}.svg"] = badge_svg(component.name, component.status)
        pages[f"badges/{component.id}.json"] = _json(shields(component.name, component.status, site.collect_every))
    for incident in model.incidents:
        page("incident.html", incident.page, incident=incident)
    for name, content in statuspage(model, site.url or "").items():
        pages[f"api/v2/{name}"] = _json(content)
    pages["feed.xml"] = atom(model, site.url or "")
    pages["status.json"] = _json(status_json(model))
    return pages


@functools.cache
def age_script() -> str:
    """The one script of every page: it judges the page's age when it is read."""
    return files("statusgen").joinpath("site_templates/age.js").read_text(encoding="utf-8")


def content_security_policy(script: str) -> str:
    """Nothing but the page's own files and the one script whose hash it is, so text that
    slips past escaping still cannot run, load or send anything. Hashed at every render, so
    editing the script cannot leave the page with a policy that blocks it."""
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    # connect-src 'self': tools that check a page from inside it (Lighthouse reads robots.txt
    # so) may ask the site itself; only the hashed script could, and only there.
    return (f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'self'; img-src 'self'; "
            "connect-src 'self'; base-uri 'none'; form-action 'none'")


def _json(content: Any) -> str:
    return json.dumps(content, indent=2, ensure_ascii=False) + "\n"


def status_json(model: SiteModel) -> dict[str, Any]:
    """The site's own JSON; a public site leaves out sources, their names and messages."""
    components = [
        {"id": c.id, "name": c.name, "group": c.group, "status": c.status.value, "uptime_pct": c.uptime_pct,
         "last_success_at": _iso(c.last_success_at), **({"sources": [s.id for s in c.sources]} if model.internal else {})}
        for c in model.components
    ]
    sources = [
        {"id": s.id, "name": s.title, "status": s.status.value, "last_success_at": _iso(s.last_success_at),
         "last_run_state": s.latest_state, "message": s.note}
        for s in model.sources
    ]
    return {
        "schema_version": formats.STATUS_JSON.version,
        "generated_at": _iso(model.now),
        "last_collected_at": _iso(model.last_collected_at),
        "status": model.status.value,
        "components": components,
        **({"sources": sources} if model.internal else {}),
    }


def _environment(model: SiteModel, theme: Path | None) -> jinja2.Environment:
    built_in = jinja2.PackageLoader("statusgen", "site_templates")
    env = jinja2.Environment(
        # A theme's templates come first; what it does not define falls back to the built-ins.
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(theme), built_in]) if theme else built_in,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    zone = model.config.site.zone
    env.filters["local"] = lambda t, fmt="%Y-%m-%d %H:%M %Z": t.astimezone(zone).strftime(fmt) if t else "never"
    env.filters["ago"] = lambda t: _ago(model.now - t) if t else "never"
    # To the second, in UTC: what the page's script reads back with Date.parse.
    env.filters["iso"] = lambda t: t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if t else ""
    env.filters["duration"] = _duration
    env.filters["day_label"] = _day_label
    names = {c.id: c.name for c in model.components}
    env.filters["component_name"] = lambda cid: names.get(cid, cid)
    env.filters["safe_url"] = lambda u: u if isinstance(u, str) and u.startswith(("http://", "https://")) else None
    env.globals.update(label=STATUS_LABEL, banner=BANNER, Status=Status)
    return env


def _ago(delta: timedelta) -> str:
    if delta < timedelta(0):
        return "in the future"
    return "just now" if delta < timedelta(minutes=1) else f"{_duration(delta, 1)} ago"


def _duration(delta: timedelta | None, parts: int = 2) -> str:
    return "—" if delta is None else _duration_of(int(delta.total_seconds()), parts)


def _duration_of(seconds: int, parts: int = 2) -> str:
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
    when = _short_date(day.day)
    worst = day.worst
    if worst is None:
        return f"{when}: no data"
    parts = [] if worst is Status.OPERATIONAL else [
        f"{_duration_of(day.seconds[s])} {STATUS_LABEL[s].lower()}"
        for s in (Status.FAILING, Status.DEGRADED, Status.UNKNOWN, Status.MAINTENANCE)
        if day.seconds.get(s)
    ]
    if day.failed_runs:
        parts.append(f"{day.failed_runs} failed run{'s' if day.failed_runs > 1 else ''}")
    parts += [f"incident: {title}" for title in day.incidents]
    text = ", ".join(parts) if parts else "operational"
    return f"{when}: {text}" + (", partly no data" if day.no_data else "")


@functools.lru_cache(maxsize=1024)
def _short_date(day: date) -> str:
    return day.strftime("%b %-d")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


# Statusgen's own folders beside the output: `.<out>.staging-…` while a render writes,
# `.<out>.previous-…` while it swaps. Each carries MARKER; nothing else there is touched.
STAGING = "staging-"


def _publish_folder(out: Path, pages: Mapping[str, str | bytes]) -> None:
    """Write the site next to `out` and swap it in; never overwrite a folder we did not make."""
    out = out.resolve()
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise StatusgenError(f"{out} exists and was not made by statusgen; choose an empty or new folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(out)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.{STAGING}", dir=out.parent))
    try:
        with _claimed(staging):
            for relative, content in pages.items():
                target = staging / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(content, bytes):
                    target.write_bytes(content)
                else:
                    target.write_text(content, encoding="utf-8")
            os.chmod(staging, 0o755)
            swap_in(staging, out)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)  # swap_in left `out` as it was
        raise StatusgenError(f"cannot write the site to {out}: {exc.strerror}") from None


@contextlib.contextmanager
def _claimed(staging: Path) -> Iterator[None]:
    """MARKER first, locked while the render writes: a render killed mid-way leaves a folder
    that says it is statusgen's, and a render still running is told apart by its lock."""
    with open(staging / MARKER, "x") as marker:
        marker.write("This folder is written by statusgen render and replaced whole.\n")
        marker.flush()
        fcntl.flock(marker, fcntl.LOCK_EX)
        yield


def _remove_abandoned(out: Path) -> None:
    """Remove staging and previous folders left beside `out` by renders that were killed: only
    folders with statusgen's names and MARKER, and none whose render still holds the lock."""
    prefixes = (f".{out.name}.{STAGING}", f".{out.name}.{ASIDE}")
    try:
        entries = list(out.parent.iterdir())
    except OSError:
        return  # tidying up is a courtesy; the render itself reports what it cannot write
    for folder in entries:
        if not folder.name.startswith(prefixes) or folder.is_symlink() or not folder.is_dir():
            continue
        if _abandoned(folder):
            shutil.rmtree(folder, ignore_errors=True)
        elif folder.name.startswith(prefixes[1]):
            # Made empty, then killed before the swap; removing it loses nothing, and the rename
            # of a render swapping now works as well without it. (Not staging: an empty one may
            # be a running render's, not marked yet.)
            with contextlib.suppress(OSError):
                folder.rmdir()


def _abandoned(folder: Path) -> bool:
    try:
        # Non-blocking, or a FIFO under MARKER's name would hang the render here.
        descriptor = os.open(folder / MARKER, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False  # not marked: not statusgen's to remove
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return False
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False  # a render is writing it now
    finally:
        os.close(descriptor)
