"""`statusgen validate`: every file people write for a run, checked at once.

That is sources.yaml and the incident files in `site.incidents_dir`. Each problem is named
with its file, line and field. Render leaves a bad incident file out and still builds the
site; validate fails on it, so it is fixed before a page goes without it. Local files only:
offline and instant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from statusgen.config import Config, check_config
from statusgen.errors import ConfigError
from statusgen.hosting import hosting_warnings
from statusgen.incidents import read_incidents


def validate(path: Path, environ: Mapping[str, str] | None = None) -> tuple[Config, list[str]]:
    """The config and its warnings; ConfigError listing every problem of the config and of its incident files."""
    config, problems = check_config(path, environ)
    warnings = []
    # Incidents are read from site's folder in site's time zone: with `site:` itself wrong,
    # they would be read from a folder or in a zone the user did not mean.
    if not any(p.field == "site" or p.field.startswith("site.") for p in problems):
        _, left_out, warnings = read_incidents(config.site.incidents_dir, {c.id for c in config.components}, config.site.zone)
        problems += left_out
    if problems:
        raise ConfigError(problems)
    return config, warnings + hosting_warnings(config)
