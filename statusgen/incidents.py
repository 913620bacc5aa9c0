"""Incidents and maintenance windows, written by people as Markdown files in `incidents/`.

    ---
    title: Orders arrive late
    impact: minor                  # none, minor, major, critical
    components: [orders]
    started: 2026-11-20 08:30      # times without a zone are in site.timezone
    resolved: 2026-11-20 11:00
    updates:
      - {at: 2026-11-20 09:00, status: identified, body: "The shop database is being upgraded."}
    ---
    What happened, in Markdown.

A maintenance window has `scheduled_for` and `scheduled_until` instead of `started`; while
it runs, its components show as maintenance. Text is pasted in from anywhere, so the
Markdown is rendered and then sanitised. A file with a mistake is named with its line and
left out, and the site still builds; `statusgen validate` fails on it, so it is fixed first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from statusgen import names
from statusgen.errors import ConfigError, Problem
from statusgen.markdown import render_markdown
from statusgen.yamlfile import parse, read, shown_name


class Impact(StrEnum):
    NONE = "none"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


UpdateStatus = Literal["investigating", "identified", "monitoring", "resolved", "scheduled", "in_progress", "completed"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _local_times(cls, value: Any, info: ValidationInfo) -> Any:
        """Times written without a zone are in the site's zone."""
        if isinstance(value, str) and info.field_name in ("at", "started", "resolved", "scheduled_for", "scheduled_until"):
            try:
                stamp = datetime.fromisoformat(value)
            except ValueError:
                return value
            zone = (info.context or {}).get("zone", timezone.utc)
            return (stamp.replace(tzinfo=zone) if stamp.tzinfo is None else stamp).astimezone(timezone.utc)
        return value


class UpdateFile(_Strict):
    at: datetime
    status: UpdateStatus | None = None
    body: str = ""


class IncidentFile(_Strict):
    title: str = Field(min_length=1)
    impact: Impact = Impact.NONE
    components: list[str] = []
    started: datetime | None = None
    resolved: datetime | None = None
    scheduled_for: datetime | None = None
    scheduled_until: datetime | None = None
    updates: list[UpdateFile] = []

    @model_validator(mode="after")
    def _one_kind(self) -> IncidentFile:
        if self.scheduled_for or self.scheduled_until:
            if not (self.scheduled_for and self.scheduled_until) or self.scheduled_until <= self.scheduled_for:
                raise ValueError("a maintenance window needs scheduled_for before scheduled_until")
        elif self.started is None:
            raise ValueError("an incident needs started (or, for maintenance, scheduled_for and scheduled_until)")
        if self.started and self.resolved and self.resolved < self.started:
            raise ValueError("resolved is before started")
        return self


@dataclass(frozen=True)
class Update:
    at: datetime
    status: str | None
    html: str


@dataclass(frozen=True)
class Incident:
    id: str
    title: str
    impact: Impact
    components: list[str]
    started: datetime | None
    resolved: datetime | None
    scheduled_for: datetime | None
    scheduled_until: datetime | None
    updates: list[Update]
    html: str

    @property
    def is_maintenance(self) -> bool:
        return self.scheduled_for is not None

    @property
    def begins(self) -> datetime:
        return self.scheduled_for or self.started

    @property
    def ends(self) -> datetime | None:
        return self.scheduled_until if self.is_maintenance else self.resolved

    def active(self, now: datetime) -> bool:
        return self.begins <= now and (self.ends is None or now < self.ends)

    def upcoming(self, now: datetime) -> bool:
        return now < self.begins

    @property
    def page(self) -> str:
        return f"incidents/{self.id}.html"


def load_incidents(folder: Path, components: set[str], zone: ZoneInfo) -> tuple[list[Incident], list[str]]:
    """Every incident in `folder`, newest first, and a warning for each file left out or shown
    without a component it names."""
    incidents, left_out, warnings = read_incidents(folder, components, zone)
    return incidents, [f"incident skipped: {problem}" for problem in left_out] + warnings


def read_incidents(folder: Path, components: set[str], zone: ZoneInfo) -> tuple[list[Incident], list[Problem], list[str]]:
    """Every incident in `folder`, newest first; the problems of each file left out, located as
    a config's are; and a warning for each incident shown without a component it names."""
    incidents, left_out, warnings = [], [], []
    pages: dict[str, str] = {}  # lower-cased page name → the file that has it
    for path in sorted(folder.glob("*.md")) if folder.is_dir() else []:
        if path.name.startswith("."):
            continue  # hidden: an editor's swap file, or a name that would make a hidden page
        try:
            incident = _load(path, zone)
        except ConfigError as exc:
            left_out += exc.problems
            continue
        taken = pages.setdefault(incident.id.lower(), path.name)
        if taken != path.name:
            message = f"would have the same page as {taken} (incidents/{incident.id}.html); rename one"
            left_out.append(Problem(shown_name(path), None, None, "", message))
            continue
        unknown = [c for c in incident.components if c not in components]
        if unknown:
            warnings.append(f"incident {path.name}: no component {', '.join(map(repr, unknown))}; it is shown without them")
        incidents.append(incident)
    incidents.sort(key=lambda i: i.begins, reverse=True)
    return incidents, left_out, warnings


def _load(path: Path, zone: ZoneInfo) -> Incident:
    name, text = read(path)
    lines = text.splitlines(keepends=True)
    ends = [i for i, line in enumerate(lines) if line.strip() == "---"]
    if not lines or lines[0].strip() != "---" or len(ends) < 2:
        raise ConfigError([Problem(name, 1, 1, "", "expected YAML front matter between two --- lines")])
    front, body = "".join(lines[1 : ends[1]]), "".join(lines[ends[1] + 1 :])
    doc = parse(front, name, environ=None, first_line=2)
    problems = list(doc.problems)
    try:
        meta = IncidentFile.model_validate(doc.data if isinstance(doc.data, dict) else {}, context={"zone": zone})
    except ValidationError as exc:
        problems += [doc.problem(tuple(e["loc"]), e["msg"].removeprefix("Value error, ")) for e in exc.errors(include_input=False)]
        meta = None
    if problems:
        raise ConfigError(problems)
    try:
        html = render_markdown(body)
        updates = [Update(u.at, u.status, render_markdown(u.body)) for u in sorted(meta.updates, key=lambda u: u.at, reverse=True)]
    except ValueError as exc:
        raise ConfigError([Problem(name, None, None, "", str(exc))]) from None
    return Incident(
        # A file name that is a safe id keeps it (links to incident pages stay); others are slugged.
        id=path.stem if names.id_problem(path.stem) is None else names.slug(path.stem),
        title=meta.title,
        impact=meta.impact,
        components=list(meta.components),
        started=meta.started,
        resolved=meta.resolved,
        scheduled_for=meta.scheduled_for,
        scheduled_until=meta.scheduled_until,
        updates=updates,
        html=html,
    )
