"""Who can read the page: an `internal` site deployed where anyone can read it.

GitHub Pages serves a site to the whole internet, even from a private repository (access
control needs Enterprise Cloud). `validate` cannot see the hosting, only the repository:
a workflow under `.github/workflows/` that uses `actions/deploy-pages`, in the folder of
sources.yaml or any folder above it up to the repository's root (the first with `.git`;
without one, only the folder of sources.yaml), is taken to deploy the site to Pages.
`site.private_hosting: true` says the site is behind access control all the same.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from statusgen.config import Config

_DEPLOYS_PAGES = re.compile(r"^\s*(-\s*)?uses:\s*['\"]?actions/deploy-pages@", re.MULTILINE)
MAX_WORKFLOW_BYTES = 1_000_000  # a workflow is a few kilobytes; this bounds what is read


def hosting_warnings(config: Config) -> list[str]:
    """A warning when an internal site looks deployed to public GitHub Pages."""
    site = config.site
    if site.audience != "internal" or site.private_hosting:
        return []
    workflows = pages_workflows(config.file)
    if not workflows:
        return []
    deploy = "deploys" if len(workflows) == 1 else "deploy"
    return [
        f"{config.file}: site.audience is internal (source names, error messages and run links), "
        f"and {', '.join(workflows)} {deploy} the site to GitHub Pages, which anyone on the internet can read, "
        "even from a private repository. Put it behind access control and set site.private_hosting: true, "
        "or set site.audience: public."
    ]


def pages_workflows(config_file: Path) -> list[str]:
    """The workflows of the repository holding `config_file` that deploy to GitHub Pages,
    by their path from the repository's root."""
    folder = Path(os.path.abspath(config_file)).parent
    chain = [folder, *folder.parents]
    root = next((i for i, f in enumerate(chain) if (f / ".git").exists()), 0)
    found = []
    for candidate in chain[: root + 1]:
        workflows = candidate / ".github" / "workflows"
        for workflow in sorted(workflows.iterdir()) if workflows.is_dir() else []:
            if workflow.suffix in (".yml", ".yaml") and workflow.is_file() and _deploys_pages(workflow):
                found.append(workflow.relative_to(chain[root]).as_posix())
    return found


def _deploys_pages(workflow: Path) -> bool:
    try:
        with open(workflow, "rb") as handle:
            text = handle.read(MAX_WORKFLOW_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return False  # unreadable: nothing can be said of it
    return _DEPLOYS_PAGES.search(text) is not None
