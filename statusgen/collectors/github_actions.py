"""github_actions: workflow runs from GitHub's REST API.

`GET /repos/{owner}/{repo}/actions/workflows/{workflow}/runs`, asked conditionally
(If-None-Match: an unchanged answer is a 304 that costs no rate limit). The query carries no
window, since an ETag answers one URL: runs come newest first, and paging stops at runs
created before the context's `read_from`. A run is listed by when it was created but matters
when it completes, and workflows run for hours, so this connection's `overlap` defaults to 6
hours rather than every connection's 5 minutes; a run seen unfinished is also remembered
and asked for by itself (`GET …/actions/runs/{id}`) once it falls off the pages read, until
it ends.

For a source with no promise in sources.yaml, the workflow file itself is read too
(`GET /repos/{owner}/{repo}/contents/{path}`, conditionally: it changes rarely), for its
`on.schedule` crons; that needs the token's `contents: read`, and without it the runs are
still read. GitHub reads the schedule from the default branch's file, which is the one the
contents API answers when asked for no `ref`.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import replace
from datetime import timedelta
from typing import Any, ClassVar, Literal, Sequence
from urllib.parse import quote

import yaml
from pydantic import Field, SecretStr

from statusgen.collectors import Collector
from statusgen.collectors.api import ResponseCache, github_headers
from statusgen.collectors.context import CollectContext, WindowedConnection
from statusgen.collectors.schedules import needs_schedule, noted, with_schedule
from statusgen.collectors.timestamps import utc_time_or_none as _time
from statusgen.config import Duration, SourceConfig
from statusgen.errors import CollectorError
from statusgen.records import Run, Schedule, SourceReport
from statusgen.status import RunState

# A completed run's `conclusion`. None: not a data event (a run skipped by its `if:`).
CONCLUSION: dict[str, RunState | None] = {
    "success": RunState.SUCCESS,
    "neutral": RunState.SUCCESS,
    "failure": RunState.FAILED,
    "timed_out": RunState.FAILED,
    "startup_failure": RunState.FAILED,
    "cancelled": RunState.CANCELLED,
    "action_required": RunState.WARNING,  # waiting for someone to approve it
    "skipped": None,
    "stale": None,
}
# A run's `status` while it is not completed.
STATUS: dict[str, RunState] = {
    "queued": RunState.QUEUED,
    "requested": RunState.QUEUED,
    "waiting": RunState.QUEUED,
    "pending": RunState.QUEUED,
    "in_progress": RunState.RUNNING,
}
PER_PAGE = 100


class GithubActionsConnection(WindowedConnection):
    type: Literal["github_actions"]
    repository: str = Field(pattern=r"^[\w.-]+/[\w.-]+$", description="owner/name.")
    token: SecretStr | None = Field(None, description="A token with actions: read, and contents: read for the workflow's schedule (public repositories need none).")
    api_url: str = Field("https://api.github.com", pattern=r"^https?://", description="GitHub Enterprise: https://HOST/api/v3.")
    overlap: Duration = Field(timedelta(hours=6), description="Runs created this long before the previous collection are read again (runs last hours).")
    max_pages: int = Field(5, ge=1, le=100, description="Pages of 100 runs read at most per workflow.")


class GithubActionsSource(SourceConfig):
    workflow: str = Field(min_length=1, description="The workflow's file name (nightly.yml) or numeric id.")
    branch: str | None = Field(None, description="Only runs on this branch.")


class GithubActionsCollector(Collector):
    type: ClassVar[str] = "github_actions"
    Connection = GithubActionsConnection
    Source = GithubActionsSource

    def collect(self, sources: Sequence[GithubActionsSource], context: CollectContext) -> list[SourceReport]:
        (source,) = sources
        c = self.connection
        headers = github_headers(c.token.get_secret_value() if c.token else None)
        cache = ResponseCache(context.cache_dir / f"{self.name}.json") if context.cache_dir else None
        client = context.api(c.api_url, headers=headers, cache=cache)
        params: dict[str, Any] = {"per_page": PER_PAGE, **({"branch": source.branch} if source.branch else {})}
        path = f"/repos/{c.repository}/actions/workflows/{quote(source.workflow, safe='')}/runs"
        runs: list[Run] = []
        files: set[str] = set()
        try:
            for page in range(1, c.max_pages + 1):
                answer = client.get(path, {**params, "page": page})
                items = answer.get("workflow_runs") if isinstance(answer, dict) else None
                if not isinstance(items, list):
                    raise CollectorError(f"{self.name}: unexpected answer from {path}: no 'workflow_runs' list")
                runs += [replace(run, source_id=source.id) for run in map(_run, items) if run is not None]
                files |= {str(i["path"]).partition("@")[0] for i in items if isinstance(i, dict) and i.get("path")}
                created = [t for t in (_time(i.get("created_at")) for i in items if isinstance(i, dict)) if t]
                if len(items) < PER_PAGE or page * PER_PAGE >= int(answer.get("total_count") or 0) or min(created, default=context.now) < context.read_from:
                    break
            runs += self._unfinished(client, cache, source, runs)
            report = SourceReport(source.id, runs=runs, message=None if runs else "no runs in the window read")
            if needs_schedule(source):
                report = self._with_schedule(client, report, _workflow_file(source.workflow, files))
        finally:
            if cache is not None:
                cache.save()
        return [report]

    def _with_schedule(self, client, report: SourceReport, path: str | None) -> SourceReport:
        """`report` with the schedule in the workflow file at `path`. A file that cannot be
        read or parsed leaves the runs as they are and says why there is no schedule."""
        if path is None:
            return report
        try:
            answer = client.get(f"/repos/{self.connection.repository}/contents/{quote(path)}")
        except CollectorError as exc:  # the runs were read from the same host: most likely the token's permissions
            return noted(report, f"schedule not read: {exc} (reading {path} needs the token's contents: read)")
        try:
            schedules = _on_schedule(_file_text(answer))
        except CollectorError as exc:
            return noted(report, f"schedule not read from {path}: {exc}")
        return with_schedule(report, "GitHub Actions", schedules)

    def _unfinished(self, client, cache: ResponseCache | None, source: GithubActionsSource, listed: list[Run]) -> list[Run]:
        """Runs seen unfinished before and not on the pages read now, each asked for by itself;
        the unfinished ones are remembered for the next collection. No request when none is left."""
        if cache is None:
            return []
        key = f"unfinished {self.connection.repository} {source.id}"
        ids = {r.run_id for r in listed}
        remembered = [str(i) for i in (cache.entries.pop(key, None) or {}).get("ids", []) if str(i) not in ids]
        answers = (client.get(f"/repos/{self.connection.repository}/actions/runs/{quote(i, safe='')}") for i in remembered)
        found = [replace(run, source_id=source.id) for run in map(_run, answers) if run is not None]
        still = [r.run_id for r in [*listed, *found] if r.ended_at is None]
        if still:
            cache.entries[key] = {"ids": still}
        return found


def _workflow_file(workflow: str, listed: set[str]) -> str | None:
    """The workflow's file: from its file name, or for a numeric id, the one its listed runs
    name (none listed: no file to read, so no schedule)."""
    if not workflow.isdigit():
        return f".github/workflows/{workflow}"
    return min(listed) if len(listed) == 1 else None


def _file_text(answer: Any) -> str:
    """A file's text from the contents API, which sends it base64-encoded."""
    if not isinstance(answer, dict) or answer.get("encoding") != "base64" or not isinstance(answer.get("content"), str):
        raise CollectorError("not a file's base64 content")
    try:
        return base64.b64decode(answer["content"]).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise CollectorError("not a file's base64 content") from None


def _on_schedule(text: str) -> list[Schedule]:
    """The crons of a workflow's `on.schedule`, each in its `timezone` (UTC unless given)."""
    try:
        workflow = yaml.safe_load(text)
    except yaml.YAMLError:
        raise CollectorError("the workflow file is not YAML") from None
    # YAML 1.1, which PyYAML reads, takes the bare key `on` for the boolean true.
    triggers = workflow.get("on", workflow.get(True)) if isinstance(workflow, dict) else None
    entries = triggers.get("schedule") if isinstance(triggers, dict) else None
    return [Schedule(str(e["cron"]), str(e.get("timezone") or "UTC"))
            for e in entries if isinstance(e, dict) and e.get("cron")] if isinstance(entries, list) else []


def _run(item: Any) -> Run | None:
    if not isinstance(item, dict) or "id" not in item:
        raise CollectorError("a workflow run without an id")
    if item.get("status") == "completed":
        state = CONCLUSION.get(item.get("conclusion"))
        if state is None:
            return None
        ended = _time(item.get("updated_at"))
    else:
        state = STATUS.get(item.get("status"), RunState.RUNNING)
        ended = None
    attempt = int(item.get("run_attempt") or 1)
    url = item.get("html_url") if str(item.get("html_url", "")).startswith("https://") else None
    return Run(
        "",
        str(item["id"]),
        state,
        started_at=_time(item.get("run_started_at") or item.get("created_at")),
        ended_at=ended,
        url=url,
        message=f"attempt {attempt}" if attempt > 1 else None,
    )

