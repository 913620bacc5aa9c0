"""docs/theming.md is the theme API: the names it documents for each template, the globals,
the filters and the fields of each type are exactly what the renderer gives the templates."""

import functools
import inspect
import re
from pathlib import Path

import duckdb
import jinja2
import jinja2.defaults
import pytest

from statusgen.config import SiteConfig, load_config
from statusgen.incidents import Incident, Update
from statusgen.records import Run
from statusgen.site import ComponentView, GroupView, SiteModel, SourceView, render_pages
from statusgen.site.model import Change
from statusgen.site.months import Month
from statusgen.site.strips import Strip
from statusgen.status import Freshness, Status
from statusgen.timeline import Day
from tests.conftest import collect_and_render, utc

DOC = Path(__file__).resolve().parent.parent / "docs" / "theming.md"
NOW = utc(2026, 11, 22, 12)
CLASSES = {cls.__name__: cls for cls in (SiteModel, SiteConfig, GroupView, ComponentView, SourceView, Freshness, Day, Change,
                                          Incident, Update, Run, Strip, Month)}


def documented() -> dict[tuple[str, str | None], set[str]]:
    """The names in the first column of each table, by (## section, ### subsection)."""
    found: dict[tuple[str, str | None], set[str]] = {}
    section, subsection = "", None
    for line in DOC.read_text().splitlines():
        if line.startswith("## "):
            section, subsection = line[3:], None
        elif line.startswith("### "):
            # "### `index.html`" or "### Every page"; a heading naming several (the layout and the
            # macros, which are not rendered on their own) has no table of its own.
            subsection = line[4:].strip("`") if re.fullmatch(r"### (`[^`]+`|[^`]+)", line) else None
        found.setdefault((section, subsection), set())
        if name := re.match(r"\| `([^`]+)` \|", line):
            found[(section, subsection)].add(name[1])
    return found


def public_names(cls: type) -> set[str]:
    names = set(getattr(cls, "__dataclass_fields__", {})) | set(getattr(cls, "model_fields", {})) | set(getattr(cls, "_fields", ()))
    for klass in (k for k in cls.__mro__ if k.__module__.startswith("statusgen.")):  # not pydantic's own
        names |= {name for name, value in vars(klass).items() if not name.startswith("_")
                  and (isinstance(value, (property, functools.cached_property)) or inspect.isfunction(value))}
    return names


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Render a site that writes every page template (incidents, and group pages), noting what
    each template was given."""
    tmp_path = tmp_path_factory.mktemp("theming")
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as db:
        db.execute("CREATE TABLE t AS SELECT TIMESTAMP '2026-11-22 09:00' AS loaded_at")
    (tmp_path / "incidents").mkdir()
    (tmp_path / "incidents/late.md").write_text("---\ntitle: Late\ncomponents: [a]\nstarted: 2026-11-22T08:00:00Z\n---\nLate.\n")
    (tmp_path / "sources.yaml").write_text(
        "site: {title: T, max_index_components: 1, incidents_dir: incidents}\n"
        "connections:\n  wh: {type: sql, database: wh.duckdb}\n"
        "sources:\n  - {id: t, connection: wh, query: SELECT loaded_at FROM t}\n"
        "components:\n  - {id: a, name: A, group: G, depends_on: [t]}\n  - {id: b, name: B, group: G, depends_on: [t]}\n"
    )
    model = collect_and_render(load_config(tmp_path / "sources.yaml", {}), tmp_path, NOW).model
    given: dict[str, set[str]] = {}
    environments = []
    real_render = jinja2.Template.render

    def spy(self, *args, **kwargs):
        given.setdefault(self.name, set()).update(kwargs)
        environments.append(self.environment)
        return real_render(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jinja2.Template, "render", spy)
        render_pages(model)
    return model, given, environments[0]


def test_each_template_gets_the_names_documented_for_it(rendered):
    _, given, _ = rendered
    doc = documented()
    every_page = doc[("Templates", "Every page")]
    pages = {sub: names | every_page for (section, sub), names in doc.items() if section == "Templates" and sub and sub.endswith(".html")}
    assert given == pages


def test_the_globals_and_filters_are_the_documented_ones(rendered):
    _, _, environment = rendered
    doc = documented()
    assert set(environment.globals) - set(jinja2.defaults.DEFAULT_NAMESPACE) == doc[("Globals", None)]
    assert set(environment.filters) - set(jinja2.defaults.DEFAULT_FILTERS) == doc[("Filters", None)]


def test_each_documented_type_has_the_documented_fields(rendered):
    model, _, _ = rendered
    doc = documented()
    types = {sub: names for (section, sub), names in doc.items() if section == "Types" and sub}
    assert set(types) == set(CLASSES) | {"Status"}
    for name, cls in CLASSES.items():
        assert public_names(cls) == types[name], name
    assert {status.value for status in Status} == types["Status"]
