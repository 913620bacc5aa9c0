"""History → the page model: plain data, built from the history snapshot and the timeline,
so templates only lay it out and every output (pages, JSON, feeds) says the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping

from statusgen import formats, names
from statusgen.config import ComponentConfig, Config
from statusgen.garbage import held_off
from statusgen.history import Snapshot
from statusgen.incidents import Incident, load_incidents
from statusgen.promises import promises as promises_of
from statusgen.records import Run
from statusgen.site import runs as run_table
from statusgen.site.months import Month, by_month
from statusgen.site.reasons import Reason, component_reason, source_reason
from statusgen.site.strips import Strip, component_strip, group_strip
from statusgen.site.words import day_label, iso, short_date
from statusgen.status import SEVERITY, Freshness, RunState, Status, worst
from statusgen.timeline import Day, Now, Timeline, Window, kept_by
from statusgen.urls import public_text

# A component page draws this many of its sources in full (about 8 KB each); past it, the
# rest are a table row each, so a component that stands for 20,000 DAGs still has a page
# of a few megabytes, not hundreds.
MAX_DRAWN_SOURCES = 100
FEED_DAYS = timedelta(days=30)
RECENT_RUNS = 15


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
    on_time_pct: float | None = None  # the share of its deadlines in the window met on time
    next_deadline: datetime | None = None
    why: Reason | None = None  # why it is not operational, in both wordings (statusgen/site/reasons.py)

    @property
    def reason(self) -> str | None:
        """Why it has its status, in one sentence; None when operational."""
        return self.why.internal if self.why else None

    @cached_property
    def strip(self) -> Strip:
        return component_strip(self.bar, day_label)

    @cached_property
    def run_columns(self) -> tuple[str, ...]:
        """The columns of its runs table that some run has a value for (statusgen/site/runs.py)."""
        return run_table.columns(self.runs)

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
    watched_since: datetime | None = None  # the first collection of any of its sources
    on_time_pct: float | None = None  # the share of its sources' deadlines in the window met on time
    next_deadline: datetime | None = None  # the soonest of its sources'
    reason: str | None = None  # why it is not operational, its root cause, in the audience's words

    @cached_property
    def strip(self) -> Strip:
        return component_strip(self.bar, day_label)

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
        """When all of it that ever succeeded had last done so: the oldest of its sources' last
        successes. A source that never succeeded leaves it out, or one such source would make a
        component whose data did load say "Updated never"; its status says what is wrong."""
        return min((s.last_success_at for s in self.sources if s.last_success_at), default=None)

    @property
    def page(self) -> str:
        return f"components/{self.id}.html"

    @property
    def tile(self) -> str:
        """Its tile, for an iframe in a dashboard."""
        return f"tiles/{self.id}.html"

    @property
    def feed(self) -> str:
        """Its Atom feed, beside its page."""
        return f"components/{self.id}.atom"


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

    @cached_property
    def strip(self) -> Strip:
        """Each day, how many of the group's components were not in their usual status."""
        return group_strip([c.bar for c in self.components], short_date)


@dataclass(frozen=True)
class Change:
    """A component's status changing, for the feed."""

    at: datetime
    key: str
    name: str
    old: Status
    new: Status
    page: str
    reason: str | None = None  # the component's reason now, on its latest change only


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

    @property
    def ongoing(self) -> list[Incident]:
        """Incidents and maintenance going on now, newest first."""
        return [i for i in self.incidents if i.active(self.now)]

    @property
    def upcoming(self) -> list[Incident]:
        """Maintenance (or an incident) still to come, soonest first."""
        return sorted((i for i in self.incidents if i.upcoming(self.now)), key=lambda i: i.begins)

    @property
    def past(self) -> list[Incident]:
        """Incidents resolved and maintenance over, newest first."""
        return [i for i in self.incidents if i.ends is not None and i.ends <= self.now]

    @cached_property
    def months(self) -> list[Month]:
        """The history page's months, newest first: past incidents by the month they began in,
        and each component's uptime in every month its bars cover."""
        return by_month(self.components, self.incidents, self.weights, self.config.site.zone, self.now)

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


def build_model(config: Config, snapshot: Snapshot, now: datetime, upstream: Mapping[str, frozenset[str]] | None = None) -> SiteModel:
    """The page model at `now`; `upstream` gives each source's ancestors among the sources
    (statusgen.catalog.upstream), for a component's root cause."""
    with held_off():  # all it makes is kept for the pages
        return _build_model(config, snapshot, now, upstream)


def _build_model(config: Config, snapshot: Snapshot, now: datetime, upstream: Mapping[str, frozenset[str]] | None) -> SiteModel:
    window = Window.ending(now, config.site.days, config.site.zone)
    snapshot.keep_runs()
    latest = snapshot.latest_observations()
    last_collected = snapshot.last_collected_at()
    promises = promises_of(config, snapshot)
    covered_until = min(last_collected, now) if last_collected else window.start
    incidents, incident_warnings = load_incidents(config.site.incidents_dir, {c.id for c in config.components}, config.site.zone)
    windows: dict[str, list[tuple[datetime, datetime]]] = {}
    for incident in incidents:
        for component_id in incident.components if incident.is_maintenance else []:
            windows.setdefault(component_id, []).append((incident.scheduled_for, incident.scheduled_until))
    members = {c.id: c.depends_on for c in config.components}
    timeline = Timeline(snapshot, promises, window, covered_until, kept_by(snapshot), members, windows)
    source_bars = timeline.source_days()
    component_bars = timeline.component_days()
    recent = snapshot.recent_runs(RECENT_RUNS)
    # The timeline is the one truth: what every output says now is its value at the last
    # collection (how old that is, the page says separately), never a second verdict.
    source_now = timeline.sources_now()
    component_now = timeline.components_now()
    why = timeline.sources_why()
    facts = snapshot.source_facts({source_id: promise.min_rows for source_id, promise in promises.items()})
    weights = {Status.FAILING: config.site.uptime_weights.failing, Status.DEGRADED: config.site.uptime_weights.degraded}
    source_uptime, component_uptime = timeline.source_uptime(weights), timeline.component_uptime(weights)
    source_on_time = timeline.source_on_time()
    component_on_time = timeline.component_on_time(source_on_time)

    sources = {}
    for source in config.sources:
        seen = latest.get(source.id)
        bar = source_bars[source.id]
        status, since = (at.status, at.since) if (at := source_now.get(source.id)) else (Status.UNKNOWN, None)
        known = facts.get(source.id)
        runs = recent.get(source.id, [])
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
            runs=runs,
            bar=bar,
            uptime_pct=source_uptime[source.id],
            on_time_pct=on_time.pct if (on_time := source_on_time.get(source.id)) else None,
            next_deadline=deadline.next_tick(covered_until) if (deadline := promises[source.id].deadline) else None,
            why=source_reason(status, why.get(source.id), seen, runs, promises[source.id], covered_until, config.site.zone),
        )
    first = snapshot.first_collected_at()
    groups: dict[str, list[ComponentView]] = {}
    for component in config.components:
        view = _component_view(component, sources, component_bars, component_now.get(component.id), component_uptime[component.id])
        view = replace(
            view,
            watched_since=min((first[s] for s in component.depends_on if s in first), default=None),
            on_time_pct=on_time.pct if (on_time := component_on_time.get(component.id)) else None,
            next_deadline=min((d for s in component.depends_on if (d := sources[s].next_deadline)), default=None),
        )
        cause = component_reason(view.status, view.sources, upstream or {}, _maintenance_now(incidents, component.id, covered_until))
        view = replace(view, reason=cause.said_to(config.site.audience == "internal") if cause else None)
        groups.setdefault(component.group, []).append(replace(view, bar=_annotated(view, incidents, window)))
    return SiteModel(
        config=config,
        now=now,
        last_collected_at=last_collected,
        groups=[GroupView(name, members) for name, members in groups.items()],
        sources=list(sources.values()),
        weights=weights,
        incidents=incidents,
        changes=_changes(timeline, {c.id: c for g in groups.values() for c in g}, now - FEED_DAYS),
        warnings=list(snapshot.warnings) + incident_warnings,
    )


def _maintenance_now(incidents: list[Incident], component_id: str, at: datetime) -> str | None:
    """The title of the maintenance `component_id` is under at `at`, if any: to the window's
    end inclusive, as the timeline holds it (component_segments.sql), or a collection at that
    instant would be maintenance with no maintenance to name."""
    return next((i.title for i in incidents if i.is_maintenance and component_id in i.components
                 and i.scheduled_for <= at <= i.scheduled_until), None)


def _by_status(components: list[ComponentView]) -> dict[Status, list[ComponentView]]:
    found: dict[Status, list[ComponentView]] = {}
    for component in components:
        found.setdefault(component.status, []).append(component)
    return dict(sorted(found.items(), key=lambda item: -SEVERITY[item[0]]))


def _annotated(component: ComponentView, incidents: list[Incident], window: Window) -> list[Day]:
    """The component's days, with its sources' failed runs and the incidents that touched it."""
    mine = [i for i in incidents if component.id in i.components]
    failed = [0] * len(window.days)
    for source in component.sources:
        for index, day in enumerate(source.bar):
            failed[index] += day.failed_runs
    days = []
    for (_, start, end), mark, failed_runs in zip(window.days, component.bar, failed):
        touched = tuple(i.title for i in mine if i.begins < end and (i.ends is None or i.ends > start))
        days.append(mark._replace(failed_runs=failed_runs, incidents=touched))
    return days


def _changes(timeline: Timeline, components: Mapping[str, ComponentView], since: datetime) -> list[Change]:
    """Status changes of components from `since` on, newest first."""
    found = []
    for c in timeline.changes(since, limit=100):
        if (component := components.get(c.component_id)) is not None:
            current = c.at == component.since and c.after is component.status
            found.append(Change(c.at, c.component_id, component.name, c.before, c.after, component.page, component.reason if current else None))
    return found


def _component_view(component: ComponentConfig, sources, bars, now: Now | None, uptime_pct: float | None) -> ComponentView:
    members = [sources[s] for s in component.depends_on]
    bar = bars[component.id]
    status, since = (now.status, now.since) if now else (Status.UNKNOWN, None)
    return ComponentView(
        id=component.id,
        name=component.name,
        group=component.group,
        description=component.description,
        owner=component.owner,
        url=component.url,
        status=status,
        since=since,
        uptime_pct=uptime_pct,
        bar=bar,
        sources=members,
    )


def status_json(model: SiteModel) -> dict[str, Any]:
    """The site's own JSON; a public site leaves out sources, their names and messages."""
    components = [
        {"id": c.id, "name": c.name, "group": c.group, "status": c.status.value, "uptime_pct": c.uptime_pct,
         "on_time_pct": c.on_time_pct, "next_deadline": iso(c.next_deadline), "last_success_at": iso(c.last_success_at), "reason": c.reason, **({"sources": [s.id for s in c.sources]} if model.internal else {})}
        for c in model.components
    ]
    sources = [
        {"id": s.id, "name": s.title, "status": s.status.value, "on_time_pct": s.on_time_pct,
         "next_deadline": iso(s.next_deadline), "last_success_at": iso(s.last_success_at),
         "last_run_state": s.latest_state, "reason": s.reason, "message": s.note}
        for s in model.sources
    ]
    return {
        "schema_version": formats.STATUS_JSON.version,
        "generated_at": iso(model.now),
        "last_collected_at": iso(model.last_collected_at),
        "status": model.status.value,
        "components": components,
        **({"sources": sources} if model.internal else {}),
    }




