"""The page model → every file of the site, in memory: the Jinja environment the templates
(built-in or a theme's) get, the pages, the stylesheet and logo under names that change with
their content, and the machine-readable files beside them.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from datetime import timezone
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2

from statusgen.errors import StatusgenError
from statusgen.garbage import frozen
from statusgen.incidents import render_markdown
from statusgen.site.feeds import badge_svg, badge_widths, feed_files, shields
from statusgen.site.ical import calendar
from statusgen.site.model import ComponentView, SiteModel, status_json
from statusgen.site.parallel import Job, draw_all
from statusgen.site.runs import own_id
from statusgen.site.statuspage import statuspage
from statusgen.site.words import BANNER, STATUS_LABEL, ago, day_label, day_words, duration, short_date
from statusgen.status import Status

# The built-in templates: the top-level site_templates/ folder, installed under this name.
TEMPLATES = "statusgen.site_templates"
def render_pages(model: SiteModel) -> dict[str, str | bytes]:
    """Every file of the site by relative path."""
    with frozen():  # the model, while drawing makes millions of short-lived objects
        return _render_pages(model)


def _render_pages(model: SiteModel) -> dict[str, str | bytes]:
    site = model.config.site
    theme = Path(site.theme_dir) if site.theme_dir else None
    css = _stylesheet(theme, "style.css") + _strip_columns(site.days)
    tile_css = _stylesheet(theme, "tile.css")
    css_name, tile_css_name = _fingerprinted("style", css), _fingerprinted("tile", tile_css)
    pages: dict[str, str | bytes] = {css_name: css, tile_css_name: tile_css}
    logo = None
    if site.logo:
        data = _read("site.logo", site.logo)
        logo = f"logo.{hashlib.sha256(data).hexdigest()[:10]}{Path(site.logo).suffix.lower()}"
        pages[logo] = data
    # Browsers ask for an icon whatever the page says: without one, a 404 on every page.
    favicon = f"favicon{Path(site.favicon).suffix.lower()}" if site.favicon else "favicon.ico"
    pages[favicon] = _read("site.favicon", site.favicon) if site.favicon else files(TEMPLATES).joinpath("favicon.ico").read_bytes()
    env = _environment(model, theme)
    env.globals.update(css=css_name, tile_css=tile_css_name, logo=logo, favicon=favicon, footer=render_markdown(site.footer) if site.footer else "",
                       age_script=age_script(), csp=content_security_policy(age_script()))

    def page(template: str, path: str, **context: Any) -> Job:
        # Compiled here, once, before the jobs may be shared among processes. What it extends
        # or imports is compiled as it is first drawn, in each process (≈ 0.09 s of CPU, run
        # alongside: compiled here first, it would hold up every process instead).
        compiled = env.get_template(template)
        return lambda: {path: compiled.render(site=model, root="../" * path.count("/"), **context)}

    def component_files(component: ComponentView) -> Job:
        """Its page, its tile and its badges."""
        its_page = page("component.html", component.page, component=component)
        its_tile = page("tile.html", component.tile, component=component)
        return lambda: {**its_page(), **its_tile(),
                        f"badges/{component.id}.svg": badge_svg(component.name, component.status),
                        f"badges/{component.id}.json": _json(shields(component.name, component.status, site.collect_every))}

    url = site.url or ""
    pages.update(draw_all([
        page("index.html", "index.html"),
        page("incidents.html", "incidents.html"),
        page("history.html", "history.html"),
        *(page("group.html", group.page, group=group) for group in (model.groups if model.compact else [])),
        *(component_files(component) for component in model.components),
        *(page("incident.html", incident.page, incident=incident) for incident in model.incidents),
        lambda: {f"api/v2/{name}": _json(content) for name, content in statuspage(model, url).items()},
        lambda: feed_files(model, url),
        lambda: {"maintenance.ics": calendar(model, url), "status.json": _json(status_json(model))},
    ]))
    return pages


@functools.cache
def age_script() -> str:
    """The one script of every page: it judges the page's age when it is read. Its lines of
    comment stay in age.js: every page would carry them (a tenth of the 2,000-component index)."""
    text = files(TEMPLATES).joinpath("age.js").read_text(encoding="utf-8")
    return "".join(line for line in text.splitlines(keepends=True) if not line.lstrip().startswith("//"))


def content_security_policy(script: str) -> str:
    """Nothing but the page's own files and the one script whose hash it is, so text that
    slips past escaping still cannot run, load or send anything. Hashed at every render, so
    editing the script cannot leave the page with a policy that blocks it."""
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    # connect-src 'self': tools that check a page from inside it (Lighthouse reads robots.txt
    # so) may ask the site itself; only the hashed script could, and only there.
    return (f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'self'; img-src 'self'; "
            "connect-src 'self'; base-uri 'none'; form-action 'none'")


def _stylesheet(theme: Path | None, name: str) -> str:
    """A theme's stylesheet of that name, else the built-in one."""
    if theme and (theme / name).is_file():
        return (theme / name).read_text(encoding="utf-8")
    return files(TEMPLATES).joinpath(name).read_text(encoding="utf-8")


def _fingerprinted(stem: str, css: str) -> str:
    """A name that changes with the content, so browsers and CDNs may keep the file for a year."""
    return f"{stem}.{hashlib.sha256(css.encode()).hexdigest()[:10]}.css"


def _strip_columns(days: int) -> str:
    """A strip's day columns and a mark's spans of days, for the site's number of days: the
    page's policy forbids the inline styles that could place a mark otherwise, so each is a class."""
    places = " ".join(f".c{n}{{left:calc(var(--day)*{n - 1})}}" for n in range(1, days + 1))
    spans = " ".join(f".w{n}{{--span:{n}}}" for n in range(2, days + 1))
    return f"\n/* Strips: {days} days (statusgen/site/strips.py). */\n.strip{{--days:{days}}}\n{places}\n{spans}\n"


def _read(key: str, path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:  # validated, but removed or locked since
        raise StatusgenError(f"cannot read {key} {path}: {exc.strerror}") from None


def _json(content: Any) -> str:
    return json.dumps(content, indent=2, ensure_ascii=False) + "\n"



def _environment(model: SiteModel, theme: Path | None) -> jinja2.Environment:
    built_in = jinja2.PackageLoader(TEMPLATES, "")
    env = jinja2.Environment(
        # A theme's templates come first; what it does not define falls back to the built-ins.
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(theme), built_in]) if theme else built_in,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # a render is over in seconds: no need to stat every template at each page
    )
    zone = model.config.site.zone
    env.filters["local"] = functools.lru_cache(maxsize=8192)(  # runs of many sources share their hours
        lambda t, fmt="%Y-%m-%d %H:%M %Z": t.astimezone(zone).strftime(fmt) if t else "never")
    env.filters["ago"] = lambda t: ago(model.now - t) if t else "never"
    # To the second, in UTC: what the page's script reads back with Date.parse.
    env.filters["iso"] = lambda t: t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if t else ""
    env.filters["duration"] = duration
    env.filters["day_label"] = day_label  # the built-in pages label days through strips; themes may still draw a day a mark
    env.filters["day_words"] = day_words
    env.filters["short_date"] = short_date
    env.filters["badge_width"] = lambda component: sum(badge_widths(component.name, component.status))
    names = {c.id: c.name for c in model.components}
    env.filters["component_name"] = lambda cid: names.get(cid, cid)
    env.filters["own_id"] = own_id
    env.filters["safe_url"] = lambda u: u if isinstance(u, str) and u.startswith(("http://", "https://")) else None
    env.globals.update(label=STATUS_LABEL, banner=BANNER, Status=Status)
    return env
