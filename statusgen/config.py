"""sources.yaml → typed configuration, with every problem reported as file:line:col.

The file is declared as pydantic models. Connections and sources are validated in a
second step by the models their collector declares (a `dbt` connection has a
`target_dir`, an `sql` source has a `query`), so a collector adds config keys without
touching this module. The JSON Schema comes from the same models.
"""

from __future__ import annotations

import difflib
import re
import zlib
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Mapping, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    SecretStr,
    Tag,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from statusgen import names
from statusgen.deadlines import MAX_GRACE, Deadline, cron_problem, holidays_problem
from statusgen.errors import ConfigError, Problem
from statusgen.markdown import render_markdown
from statusgen.status import Freshness
from statusgen.urls import public_url
from statusgen.yamlfile import YamlDocument, load

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


# Longer than any promise, look-back or schedule, and short enough that a time minus it
# (or three of it) stays inside what datetime can hold: a longer one is a typo.
MAX_DURATION_DAYS = 3650


def parse_duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        seconds = value
    elif match := _DURATION.match(value) if isinstance(value, str) else None:
        seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    else:
        raise ValueError(f"expected a duration like 90s, 15m, 2h or 1d, found {value!r}")
    if seconds > MAX_DURATION_DAYS * _UNIT_SECONDS["d"]:
        raise ValueError(f"at most {MAX_DURATION_DAYS}d (ten years), found {value!r}")
    return timedelta(seconds=seconds)


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(lambda d: f"{int(d.total_seconds())}s"),
    WithJsonSchema({"type": "string", "pattern": _DURATION.pattern, "examples": ["90s", "15m", "2h", "1d"]}),
]


def _resolve_path(value: Any, info: ValidationInfo) -> Any:
    """Relative paths in sources.yaml are relative to the file, not to the working dir."""
    if not isinstance(value, (str, Path)):
        return value  # not a path at all: the field's type check says so
    path = Path(value)
    base = (info.context or {}).get("base_dir")
    return path if path.is_absolute() or base is None else base / path


# For URLs that are only ever shown (on the page, in the feed, in alerts), never fetched:
# the user:password of a site behind basic auth would be published with every link.
_SHOWN = AfterValidator(public_url)
ShownUrl = Annotated[str, Field(pattern=r"^https?://"), _SHOWN]

RelativePath = Annotated[Path, BeforeValidator(_resolve_path), WithJsonSchema({"type": "string"})]


def _file_id(value: str) -> str:
    problem = names.id_problem(value)
    if problem:
        raise ValueError(problem)
    return value


# An id names files (components/ID.html, badges/ID.svg), so it must be one on every disk.
FileId = Annotated[str, Field(pattern=names.ID_PATTERN), AfterValidator(_file_id)]


def _existing_file(path: Path) -> Path:
    # A stat, not a read: `validate` then names a missing file at its line, where every
    # render would otherwise stop at it.
    if not path.is_file():
        raise ValueError(f"no file {path}")
    return path


ExistingFile = Annotated[RelativePath, AfterValidator(_existing_file)]


def _resolve_location(value: Any, info: ValidationInfo) -> Any:
    return value if isinstance(value, str) and value.startswith("s3://") else _resolve_path(value, info)


# A folder (relative to sources.yaml), or s3://bucket/prefix.
Location = Annotated[Path | str, BeforeValidator(_resolve_location), WithJsonSchema({"type": "string"})]


class Model(BaseModel):
    """Every config block: unknown keys are errors, values are not coerced silently."""

    # Defaults are validated too, so a default path is resolved against sources.yaml's folder.
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _choices_from_text(cls, data: Any) -> Any:
        """A `${VAR}` is always text, and pydantic converts text to a number or a boolean but
        never to one of a Literal's non-text choices: convert those the same way here."""
        if not isinstance(data, dict):
            return data
        converted = dict(data)
        for key, value in data.items():
            field = cls.model_fields.get(key) if isinstance(key, str) else None
            if field is not None and isinstance(value, str):
                converted[key] = _as_choice(value, _literal_choices(field.annotation))
        return converted


# Names that load on some machines but mean that machine's own zone (localtime, posixrules)
# or exist only in some builds of the zone files: the page would depend on the runner.
_MACHINE_ZONES = {"localtime", "posixrules"}
_MACHINE_ZONE_FOLDERS = ("posix/", "right/")


def _known_zone(value: str) -> str:
    if value in _MACHINE_ZONES or value.startswith(_MACHINE_ZONE_FOLDERS):
        raise ValueError(f"{value!r} depends on the machine that runs statusgen; use an IANA name such as Europe/Paris")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        hint = did_you_mean(value, available_timezones()) or " (use an IANA name such as Europe/Paris)"
        raise ValueError(f"unknown time zone {value!r}{hint}") from None
    return value


TimeZoneName = Annotated[str, AfterValidator(_known_zone)]


def _schedule(value: str) -> str:
    problem = cron_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _grace(value: timedelta) -> timedelta:
    # The timeline reads a deadline's ticks a week back: a tick missed before that is failing.
    if value > MAX_GRACE:
        raise ValueError("a grace longer than 7d is a different promise: use a later deadline")
    return value


def _calendar(value: str) -> str:
    problem = holidays_problem(value)
    if problem:
        raise ValueError(problem)
    return value


class FreshnessConfig(Model):
    warn_after: Duration | None = Field(None, description="Degraded once the last success is older than this.")
    error_after: Duration | None = Field(None, description="Failing once the last success is older than this.")
    deadline: Annotated[str, AfterValidator(_schedule)] | None = Field(
        None, description="A cron schedule ('0 6 * * 1-5', @daily): by each tick, new data must have landed."
    )
    since: Duration | None = Field(
        None, description="Only a landing this long before a tick counts for it (default: a landing after the tick before)."
    )
    grace: Annotated[Duration, AfterValidator(_grace)] = Field(
        timedelta(0), description="Degraded (late) this long after a missed tick, failing after it (at most 7d)."
    )
    timezone: TimeZoneName | None = Field(None, description="The deadline's time zone (default: site.timezone).")
    holidays: Annotated[str, AfterValidator(_calendar)] | None = Field(
        None, description="No tick on this country's public holidays: a country (NL) or country-subdivision (DE-BY)."
    )

    @model_validator(mode="after")
    def _ordered(self) -> FreshnessConfig:
        if self.warn_after and self.error_after and self.warn_after > self.error_after:
            raise ValueError("warn_after must not be longer than error_after")
        if self.deadline is None:
            given = [key for key in ("since", "timezone", "holidays") if getattr(self, key) is not None] + (["grace"] if self.grace else [])
            if given:
                raise ValueError(f"{', '.join(given)} only apply{'s' if len(given) == 1 else ''} to a deadline; add deadline: (a cron schedule)")
        return self

    def promise(self, zone: ZoneInfo) -> Freshness:
        """The promise in force; `zone` is the site's, for a deadline that names none."""
        deadline = None
        if self.deadline is not None:
            deadline = Deadline(self.deadline, ZoneInfo(self.timezone) if self.timezone else zone, self.since, self.grace, self.holidays)
        return Freshness(self.warn_after, self.error_after, deadline)


# `freshness: none`: no promise at all, not even one its system declares or its schedule implies.
NO_PROMISE = "none"
_FRESHNESS_TAGS = ("promise", NO_PROMISE)  # pydantic names the branch of the union in a problem's path
FreshnessSetting = Annotated[
    Union[Annotated[FreshnessConfig, Tag("promise")], Annotated[Literal["none"], Tag(NO_PROMISE)]],
    Discriminator(lambda value: NO_PROMISE if isinstance(value, str) else "promise"),
]
_FRESHNESS_FORM = (f"expected a promise ({{warn_after: 3h}}, {{deadline: '0 6 * * 1-5'}}…) or {NO_PROMISE} "
                   "(no promise, not even one read from its system)")


class Link(Model):
    name: str
    url: Annotated[str, Field(pattern=r"^(https?://|/|\.|#)"), _SHOWN]


class UptimeWeights(Model):
    """How much a minute in each status costs in uptime %; written on the page."""

    failing: float = Field(1.0, ge=0, le=1)
    degraded: float = Field(0.0, ge=0, le=1)


# What browsers take as a page's icon, by the file's suffix.
FAVICON_TYPES = (".ico", ".png", ".svg")


class SiteConfig(Model):
    title: str = "Data status"
    description: str = ""
    url: ShownUrl | None = Field(None, description="Where the site is published; for absolute links in feeds and alerts.")
    audience: Literal["internal", "public"] = Field(
        "internal", description="public hides source names, error messages and run links: the business view only."
    )
    private_hosting: bool = Field(
        False, description="true: the site is served behind access control, so `validate` does not warn that an internal site deployed to GitHub Pages is public."
    )
    logo: ExistingFile | None = Field(None, description="An image shown beside the title (copied into the site).")
    favicon: ExistingFile | None = Field(
        None, description="The icon of browser tabs and bookmarks, a .ico, .png or .svg file (copied into the site); default: a small built-in one."
    )
    footer: str = Field("", description="Text (Markdown) at the foot of every page.")
    theme_dir: RelativePath | None = Field(None, description="Templates and style.css here override the built-in ones.")
    incidents_dir: RelativePath = Field(Path("incidents"), description="Folder of incident and maintenance Markdown files.")
    max_index_components: int = Field(
        300, ge=1, description="Above this many components, the index lists groups and each group gets a page."
    )
    collect_every: Duration = Field(timedelta(minutes=30), description="How often collection is scheduled.")
    stale_after: Duration | None = Field(
        None, description="Once the last collection is older than this, the page says it is out of date (default: 3 × collect_every + 30m)."
    )
    heartbeat_url: SecretStr | None = Field(
        None, description="Requested by `statusgen heartbeat` after a successful publish (healthchecks.io, Cronitor…); from the environment."
    )
    timezone: TimeZoneName = Field("UTC", description="IANA name; days on the bars start at midnight here.")
    days: int = Field(90, ge=1, le=400, description="Days shown on each bar.")
    links: list[Link] = []
    uptime_weights: UptimeWeights = UptimeWeights()

    @field_validator("favicon")
    @classmethod
    def _icon(cls, value: Path | None) -> Path | None:
        if value is not None and value.suffix.lower() not in FAVICON_TYPES:
            raise ValueError(f"must be a {', '.join(FAVICON_TYPES)} file, not {value.name}")
        return value

    @field_validator("footer")
    @classmethod
    def _renders(cls, value: str) -> str:
        render_markdown(value)  # so text that cannot be rendered is named here, with its line
        return value

    @field_validator("heartbeat_url")
    @classmethod
    def _http(cls, value: SecretStr | None) -> SecretStr | None:
        # Empty means off, so `${VAR:-}` lets one sources.yaml serve runs with and without it.
        if value is None or not value.get_secret_value():
            return None
        # The value stays out of the message: it is a secret, and messages reach the logs.
        if not value.get_secret_value().startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def stale_threshold(self) -> timedelta:
        """How old the last collection may be before the page is out of date. Three missed runs,
        plus half an hour because GitHub's scheduled runs often start that late."""
        return self.stale_after if self.stale_after is not None else 3 * self.collect_every + timedelta(minutes=30)


class HistoryConfig(Model):
    path: Location = Field(Path("history"), description="Folder holding the Parquet history, or s3://bucket/prefix.")
    retention_days: int = Field(400, ge=1, le=36500, description="Days of history kept; older days are deleted.")


class GithubIssuesConfig(Model):
    repository: str = Field(pattern=r"^[\w.-]+/[\w.-]+$", description="owner/name where outage issues are opened.")
    token: SecretStr = Field(description="A token that can write issues (in a workflow: ${GITHUB_TOKEN}).")
    labels: list[str] = ["data-status"]
    api_url: str = Field("https://api.github.com", pattern=r"^https?://")


class AlertsConfig(Model):
    urls: list[SecretStr] = Field([], description="apprise URLs (slack://…, msteams://…, mailto://…, json://…); from the environment.")
    notify_unknown: bool = Field(False, description="Also announce changes to and from unknown.")
    sources: bool = Field(False, description="Also announce each source's changes, not only components'.")
    github_issues: GithubIssuesConfig | None = Field(None, description="Open an issue per outage, close it on recovery.")


class ConnectionConfig(Model):
    """Base of each collector's connection settings; `type` picks the collector."""

    type: str
    timeout: Duration = Field(timedelta(seconds=30), description="Longest one collection of this connection may take.")
    max_concurrency: int = Field(4, ge=1, le=64, description="Requests in flight at once to this connection.")
    max_discovered: int = Field(
        1000, ge=1, description="Most sources discovery may add for this connection (include/tags, dbt exposures); past it, discovery fails."
    )

    def secret_values(self) -> list[str]:
        """The values of its SecretStr settings, so messages can be scrubbed of them."""
        values = (v.get_secret_value() for v in self.__dict__.values() if isinstance(v, SecretStr))
        return [v for v in values if v]


class SourceConfig(Model):
    """Base of each collector's source settings: the selector fields come from the collector."""

    id: FileId
    connection: str
    name: str | None = None
    freshness: FreshnessSetting | None = Field(
        None, description=f"The promise: ages, a deadline, or {NO_PROMISE}; default: the one its system declares, or its schedule implies."
    )
    min_rows: int | None = Field(
        None, ge=1, description="A successful load or run that reports fewer rows is degraded and no landing: an empty load is not a fresh table."
    )

    @property
    def title(self) -> str:
        return self.name or self.id

    def promise(self, declared: Freshness | None, zone: ZoneInfo) -> Freshness:
        """The promise this source is judged by: sources.yaml's wins, and `none` is none at all;
        else the one its system gives (`declared`: statusgen.promises); else none. `zone` is
        the site's, for a deadline that names none. `min_rows` is sources.yaml's alone."""
        if self.freshness == NO_PROMISE:
            promise = Freshness()
        elif self.freshness is not None:
            promise = self.freshness.promise(zone)
        else:
            promise = declared or Freshness()
        return replace(promise, min_rows=self.min_rows)


class ComponentConfig(Model):
    id: FileId
    name: str
    group: str = "Other"
    description: str = ""
    owner: str = ""
    url: ShownUrl | None = None
    depends_on: Annotated[list[str], Field(min_length=1)]


class _AnyConnection(ConnectionConfig):
    """What every connection has, to check one whose type is unknown; its other keys are checked by name."""

    model_config = ConfigDict(extra="ignore")
    type: Any = None


class _AnySource(SourceConfig):
    """What every source has, to check one whose connection is unknown; its other keys are checked by name."""

    model_config = ConfigDict(extra="ignore")
    connection: Any = None


class ConfigFile(Model):
    """The top level of sources.yaml; connections and sources are checked per collector."""

    site: SiteConfig = SiteConfig()
    history: HistoryConfig = HistoryConfig()
    alerts: AlertsConfig = AlertsConfig()
    connections: dict[str, dict[str, Any]] = {}
    sources: list[dict[str, Any]] = []
    components: list[ComponentConfig] = []


@dataclass(frozen=True)
class Config:
    """A validated configuration: what sources.yaml says, and nothing read from elsewhere.
    What collectors discover is added later, from the catalog (statusgen/catalog.py)."""

    file: Path
    site: SiteConfig
    history: HistoryConfig
    connections: dict[str, ConnectionConfig]
    sources: list[SourceConfig]
    components: list[ComponentConfig]
    alerts: AlertsConfig = AlertsConfig()

    def shard(self, index: int, count: int) -> Config:
        """Slice `index` (1-based) of `count`: each source lands in one slice, always the same."""
        mine = [s for s in self.sources if zlib.crc32(s.id.encode()) % count == index - 1]
        return replace(self, sources=mine)



def load_config(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate `path`; raise ConfigError with every problem found. Reads that file
    and nothing else: no network, no artifacts, so `validate` is offline and instant."""
    config, problems = check_config(path, environ)
    if problems:
        raise ConfigError(problems)
    return config


def check_config(path: Path, environ: Mapping[str, str] | None = None) -> tuple[Config, list[Problem]]:
    """What of `path` is valid, and every problem found, in the order of the file (a section
    with a problem is left at its defaults). ConfigError only for a file that cannot be read as a mapping."""
    from statusgen.collectors import registry

    doc = load(path, environ)
    if not isinstance(doc.data, dict):
        raise ConfigError(doc.problems + [doc.problem((), "expected a mapping with site, history, connections, sources and components")])
    check = _Checker(doc, {"base_dir": path.parent}, registry())
    for key in doc.data:
        if key not in ConfigFile.model_fields:
            check.fail((key,), f"unknown key {key!r}{did_you_mean(key, ConfigFile.model_fields)}")
    # Each section is checked on its own, so one mistake does not hide the others.
    site = check.section("site", SiteConfig, SiteConfig())
    history = check.section("history", HistoryConfig, HistoryConfig())
    alerts = check.section("alerts", AlertsConfig, AlertsConfig())
    check.literal_secrets(("site",), site)
    check.literal_secrets(("alerts",), alerts)
    raw_connections = check.section("connections", dict[str, dict[str, Any]], {})
    raw_sources = check.section("sources", list[dict[str, Any]], [])
    raw_components = check.section("components", list[dict[str, Any]], [])
    connections = check.connections(raw_connections)
    sources = check.sources(raw_sources, raw_connections)
    components = check.components(raw_components, {s.get("id") for s in raw_sources if isinstance(s.get("id"), str)})
    check.duplicates("sources", [s.get("id") for s in raw_sources])
    check.duplicates("components", [c.get("id") for c in raw_components])
    check.group_pages(components)
    problems = sorted(check.problems, key=lambda p: (p.line or 0, p.column or 0))
    return Config(path, site, history, connections, sources, components, alerts), problems


class _Checker:
    """Validates one document section by section, collecting every problem."""

    def __init__(self, doc: YamlDocument, context: dict[str, Any], collectors: Mapping[str, Any]):
        self.doc = doc
        self.context = context
        self.collectors = collectors
        self.problems: list[Problem] = list(doc.problems)
        self.kinds: dict[str, str] = {}  # connection name → its valid type

    def fail(self, path: tuple, message: str) -> None:
        self.problems.append(self.doc.problem(path, message))

    def validate(self, kind: Any, data: Any, where: tuple) -> Any:
        try:
            return TypeAdapter(kind).validate_python(data, context=self.context)
        except ValidationError as exc:
            for error in exc.errors(include_input=False, include_url=False):
                loc = error["loc"]
                tagged = [i for i, part in enumerate(loc) if part in _FRESHNESS_TAGS and i and loc[i - 1] == "freshness"]
                if tagged:
                    # The path is the document's, without the union's branch: its line, and the keys a did-you-mean offers.
                    error = {**error, "loc": loc[: tagged[0]] + loc[tagged[0] + 1 :]}
                    if tagged[0] == len(loc) - 1 and error["type"] in ("literal_error", "model_type"):  # neither form
                        self.fail(where + tuple(error["loc"]), _FRESHNESS_FORM)
                        continue
                self.fail(where + tuple(error["loc"]), _message(kind, error))
            return None

    def section(self, name: str, kind: Any, fallback: Any) -> Any:
        """A top-level section; an absent one is validated empty, so its defaults are resolved
        like written values (paths against sources.yaml's folder). `fallback` stands in for an invalid one."""
        absent = {} if isinstance(fallback, BaseModel) else fallback
        value = self.validate(kind, self.doc.data.get(name, absent), (name,))
        return fallback if value is None else value

    def connections(self, raw: dict[str, dict[str, Any]]) -> dict[str, ConnectionConfig]:
        found = {}
        for name, settings in raw.items():
            problem = names.id_problem(name)
            if problem:  # it names cache files, and appears in every message about its sources
                self.fail(("connections", name), f"connection name {name!r}: {problem}")
            kind = settings.get("type")
            if not isinstance(kind, str) or kind not in self.collectors:
                self.fail(("connections", name, "type"), f"unknown connection type {kind!r}{did_you_mean(str(kind), self.collectors)}")
                self.loose(settings, ("connections", name), _AnyConnection, [c.Connection for c in self.collectors.values()])
                continue
            self.kinds[name] = kind
            connection = self.validate(self.collectors[kind].Connection, settings, ("connections", name))
            if connection is None:
                continue
            found[name] = connection
            self.literal_secrets(("connections", name), connection)
        return found

    def literal_secrets(self, where: tuple, model: BaseModel) -> None:
        """Every secret written into the file itself: it would end up in git."""
        for key, value in model.__dict__.items():
            values = value if isinstance(value, list) else [value]
            for index, item in enumerate(values):
                path = where + ((key, index) if isinstance(value, list) else (key,))
                if isinstance(item, BaseModel):
                    self.literal_secrets(path, item)
                elif isinstance(item, SecretStr) and item.get_secret_value() and path not in self.doc.from_environment:
                    self.fail(path, "secrets must come from the environment: write ${VARIABLE}")

    def sources(self, raw: list[dict[str, Any]], connections: dict[str, Any]) -> list[SourceConfig]:
        found = []
        for index, settings in enumerate(raw):
            where = ("sources", index)
            name = settings.get("connection")
            kind = self.kinds.get(name) if isinstance(name, str) else None
            if name is not None and not isinstance(name, str):
                self.fail(where + ("connection",), "must be the name of a connection")
            elif name is None:
                self.fail(where + ("connection",), "required")
            elif name not in connections:
                meant = self.meant_connection(name, settings, connections)
                self.fail(where + ("connection",), f"no connection named {name!r}{_hint(meant)}")
                kind = self.kinds.get(meant)
            if kind is None:  # no collector to check it by: still, what every source shares is checked
                self.loose(settings, where, _AnySource, [c.Source for c in self.collectors.values()])
                continue
            source = self.validate(self.collectors[kind].Source, settings, where)
            found += [source] if source is not None else []
        return found

    def meant_connection(self, name: str, settings: dict[str, Any], connections: dict[str, Any]) -> str | None:
        """The connection a source naming an unknown one most likely means: the closest name;
        else of the connections whose collector takes the source's keys, the only one, or the
        only one that abbreviates the name or is abbreviated by it (`wh` for `warehouse`)."""
        close = difflib.get_close_matches(name, [str(c) for c in connections], n=1, cutoff=0.6)
        if close:
            return close[0]
        every_key = {key for c in self.collectors.values() for key in c.Source.model_fields}
        keys = {key for key in settings if key in every_key}  # a mistyped key says nothing of the kind
        fitting = [c for c, kind in self.kinds.items() if keys <= set(self.collectors[kind].Source.model_fields)]
        if len(fitting) > 1:
            fitting = [c for c in fitting if _abbreviates(c, name) or _abbreviates(name, c)]
        return fitting[0] if len(fitting) == 1 else None

    def loose(self, settings: dict[str, Any], where: tuple, shared: type[BaseModel], models: list[type[BaseModel]]) -> None:
        """Settings whose collector is unknown: each key is checked against every collector's,
        and the fields every collector shares by `shared`."""
        every_key = {key for model in models for key in model.model_fields}
        for key in settings:
            if key not in every_key:
                self.fail(where + (key,), f"unknown key {key!r}{did_you_mean(key, every_key)}")
        self.validate(shared, settings, where)

    def components(self, raw: list[dict[str, Any]], source_ids: set) -> list[ComponentConfig]:
        found = []
        for index, settings in enumerate(raw):
            component = self.validate(ComponentConfig, settings, ("components", index))
            if component is None:
                continue
            found.append(component)
            for position, dep in enumerate(component.depends_on):
                if dep not in source_ids:
                    self.fail(("components", index, "depends_on", position), f"no source with id {dep!r}{did_you_mean(dep, source_ids)}")
        return found

    def duplicates(self, section: str, ids: list) -> None:
        entries = [(value, value) if isinstance(value, str) else None for value in ids]  # else the field's own check says so
        for index, first, second, _ in names.clashes(entries):
            same = f"duplicate id {second!r}" if first == second else (
                f"id {second!r} names the same files as {first!r} on disks that ignore case; rename one")
            self.fail((section, index, "id"), same)

    def group_pages(self, components: list[ComponentConfig]) -> None:
        groups = list(dict.fromkeys(c.group for c in components))
        for position, first, second, file_name in names.clashes([(group, names.slug(group)) for group in groups]):
            index = next(i for i, c in enumerate(components) if c.group == groups[position])
            self.fail(("components", index, "group"), f"groups {first!r} and {second!r} would both be groups/{file_name}.html; rename one")


def _literal_choices(annotation: Any) -> list[Any]:
    """The choices of the Literals in `annotation`, itself or inside an Optional or a union."""
    if get_origin(annotation) is Literal:
        return list(get_args(annotation))
    if get_origin(annotation) in (Union, UnionType):
        return [choice for part in get_args(annotation) for choice in _literal_choices(part)]
    return []


def _as_choice(text: str, choices: list[Any]) -> Any:
    """The non-text choice that `text` converts to as pydantic converts text to its type, else `text`."""
    for choice in choices:
        if isinstance(choice, str):
            continue
        try:
            if TypeAdapter(type(choice)).validate_python(text) == choice:
                return choice
        except ValidationError:
            continue
    return text


def _message(kind: Any, error: Mapping[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        key = error["loc"][-1]
        fields = _fields_at(_model_in(kind), error["loc"][:-1])
        return f"unknown key {key!r}{did_you_mean(str(key), fields)}"
    if error["type"] == "missing":
        return "required"
    return error["msg"].removeprefix("Value error, ")


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """The field names of the model found at `loc`, for a did-you-mean hint."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        info = current.model_fields.get(part)
        if info is None:
            return []
        current = _model_in(info.annotation)
    return list(current.model_fields) if isinstance(current, type) and issubclass(current, BaseModel) else []


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def did_you_mean(word: str, choices) -> str:
    """The hint naming the choice closest to `word` (" (did you mean 'x'?)"), or "" when none is close."""
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1, cutoff=0.6)
    return _hint(close[0] if close else None)


def _hint(choice: str | None) -> str:
    return f" (did you mean {choice!r}?)" if choice is not None else ""


def _abbreviates(short: str, long: str) -> bool:
    """`short` is `long` with letters left out, starting alike: `wh` of `warehouse`."""
    letters = iter(long.lower())
    return len(short) < len(long) and short[:1].lower() == long[:1].lower() and all(c in letters for c in short.lower())


def json_schema() -> dict[str, Any]:
    """The JSON Schema of sources.yaml, for editors' YAML language servers."""
    from statusgen.collectors import registry

    schema = ConfigFile.model_json_schema()
    defs = schema.setdefault("$defs", {})
    connection_refs, source_refs = [], []
    for kind, collector in sorted(registry().items()):
        for model, refs in ((collector.Connection, connection_refs), (collector.Source, source_refs)):
            sub = model.model_json_schema(ref_template="#/$defs/{model}")
            defs.update(sub.pop("$defs", {}))
            title = f"{kind}_{sub['title']}"
            if model is collector.Connection:
                sub["properties"]["type"] = {"const": kind, "description": f"Collector: {kind}"}
            defs[title] = sub
            refs.append({"$ref": f"#/$defs/{title}"})
    schema["properties"]["connections"]["additionalProperties"] = {"oneOf": connection_refs}
    schema["properties"]["sources"]["items"] = {"anyOf": source_refs}
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "statusgen sources.yaml"
    return schema

