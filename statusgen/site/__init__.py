"""History → the static site, in three steps that know nothing of each other's insides:

- `model`: the page model, plain data built from the history snapshot and the timeline,
  and its JSON (`status.json`, `statusgen status --json`);
- `render`: the model → every file of the site, in memory (templates, stylesheet, JSON,
  feeds and badges from `feeds`);
- `output`: those files → the site's folder, swapped into place whole (`swap`, which
  publish uses too).

The names below are what the rest of statusgen imports; they stay here whichever module of
the package holds them.
"""

from statusgen.site.model import (
    MAX_DRAWN_SOURCES,
    Change,
    ComponentView,
    GroupView,
    SiteModel,
    SiteSummary,
    SourceView,
    build_model,
    status_json,
)
from statusgen.site.output import MARKER, write_site
from statusgen.site.render import age_script, content_security_policy, render_pages

__all__ = [
    "MARKER",
    "MAX_DRAWN_SOURCES",
    "Change",
    "ComponentView",
    "GroupView",
    "SiteModel",
    "SiteSummary",
    "SourceView",
    "age_script",
    "build_model",
    "content_security_policy",
    "render_pages",
    "status_json",
    "write_site",
]
