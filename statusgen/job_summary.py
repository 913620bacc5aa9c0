"""What a GitHub Actions run shows of the page: a job summary and annotations.

A run's page on GitHub shows the log and little else. Under Actions (`GITHUB_ACTIONS=true`)
`statusgen run` also appends a Markdown summary to `$GITHUB_STEP_SUMMARY` (the overall
status and a table of what is not operational, with links) and prints one annotation per
source that is failing (an error) or degraded or unknown (a warning), so the state shows on
the Actions tab and on the commit's checks. Outside Actions nothing is written.

Everything here comes from the page model, whose messages were scrubbed of secrets when
they were collected; with `audience: public` it names components only, as the page does.
"""

from __future__ import annotations

from typing import Mapping

from statusgen.site import ComponentView, SiteModel
from statusgen.status import SEVERITY, Status

# GitHub shows at most ten annotations of each level for a step; the tenth says how many
# more there are, so none is dropped without a word.
MOST_ANNOTATIONS = 10
LEVEL = {Status.FAILING: "error", Status.DEGRADED: "warning", Status.UNKNOWN: "warning"}


def report(model: SiteModel, environ: Mapping[str, str]) -> list[str]:
    """Append the job summary when running under Actions, and return the annotation lines to print."""
    if environ.get("GITHUB_ACTIONS") != "true":
        return []
    lines = annotations(model)
    if environ.get("GITHUB_STEP_SUMMARY"):
        try:
            with open(environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as summary:
                summary.write(markdown(model))
        except OSError as exc:  # the page is built and published already; this is only a report
            lines.append(f"::warning::{_data(f'no job summary: {exc.strerror}')}")
    return lines


def markdown(model: SiteModel) -> str:
    site = model.config.site
    counts = ", ".join(f"{len(members)} {status.value}" for status, members in model.by_status().items())
    collected = f"{model.last_collected_at:%Y-%m-%d %H:%M} UTC" if model.last_collected_at else "never"
    lines = [f"## {_cell(site.title)}: {model.status.value}", "",
             f"Collected {collected} · {len(model.components)} components: {counts}", ""]
    troubled = sorted((c for c in model.components if c.status is not Status.OPERATIONAL), key=lambda c: -SEVERITY[c.status])
    if troubled:
        lines += ["| Component | Status | Since | Why | Run |", "|---|---|---|---|---|"]
        lines += [_row(component, model) for component in troubled]
    else:
        lines.append("Every component is operational.")
    return "\n".join(lines) + "\n\n"


def annotations(model: SiteModel) -> list[str]:
    if model.internal:
        subjects = [(s.status, f"{s.title} ({s.kind} · {s.connection})", s.reason or s.note or s.status.value) for s in model.sources]
    else:
        subjects = [(c.status, c.name, f"{c.name} is {c.status.value}" + (f": {c.reason}" if c.reason else "")) for c in model.components]
    lines = []
    for level in ("error", "warning"):
        found = sorted((s for s in subjects if LEVEL.get(s[0]) == level), key=lambda s: -SEVERITY[s[0]])
        shown = found if len(found) <= MOST_ANNOTATIONS else found[: MOST_ANNOTATIONS - 1]
        lines += [f"::{level} title={_property(title)}::{_data(message)}" for _, title, message in shown]
        if len(shown) < len(found):
            lines.append(f"::{level}::{_data(f'+{len(found) - len(shown)} more; see the job summary or the status page')}")
    return lines


def _row(component: ComponentView, model: SiteModel) -> str:
    name = _cell(component.name)
    if model.config.site.url:
        name = f"[{name}]({model.config.site.url.rstrip('/')}/{component.page})"
    since = f"{component.since:%Y-%m-%d %H:%M} UTC" if component.since else ""
    why = component.reason or ""
    run = next((s.failed_run_url for s in component.troubled_sources if s.failed_run_url), None) if model.internal else None
    link = f"[failed run]({run.replace(' ', '%20').replace(')', '%29')})" if run and run.startswith(("https://", "http://")) else ""
    return f"| {name} | {component.status.value} | {since} | {_cell(why)} | {link} |"


def _cell(text: str) -> str:
    """Text as it may stand in a Markdown table cell: one line, no column break, no markup."""
    text = " ".join(text.split())
    for raw, safe in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|"), ("[", "\\["), ("]", "\\]")):
        text = text.replace(raw, safe)
    return text


def _data(text: str) -> str:
    # Workflow commands end at a line break and read %XX: both are escaped as GitHub documents.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
