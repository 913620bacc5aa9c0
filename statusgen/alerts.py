"""Status changes → notifications (through apprise) and, optionally, a GitHub issue per outage.

The last status each component (or source) was announced with lives in the history folder
(`alerts/state.json`), not in memory, and is read, compared and written under a lock: each
change is announced once, however often runs repeat, overlap or are retried. The first run
records the statuses it finds without announcing them. A notifier that fails is reported
as a warning; it never stops collecting, rendering or publishing.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator

from statusgen import formats
from statusgen.collectors.api import ApiClient, github_headers
from statusgen.config import AlertsConfig
from statusgen.errors import CollectorError, HistoryError
from statusgen.files import read_text, write_text
from statusgen.history import Layout
from statusgen.site import SiteModel, SourceView
from statusgen.status import Status


@dataclass(frozen=True)
class Subject:
    """What an alert is about: a component, or (with `sources: true`) one source."""

    key: str
    name: str
    where: str
    status: Status
    since: datetime | None
    page: str
    parts: list[SourceView]
    reason: str | None = None


def subjects(model: SiteModel, with_sources: bool) -> list[Subject]:
    found = [Subject(c.id, c.name, c.group, c.status, c.since, c.page, c.sources, c.reason) for c in model.components]
    if with_sources:
        pages = {s.id: c.page for c in reversed(model.components) for s in c.sources}
        found += [Subject(f"source:{s.id}", s.title, f"{s.kind} · {s.connection}", s.status, s.since, pages.get(s.id, "index.html"), [s], s.reason)
                  for s in model.sources]
    return found


@dataclass(frozen=True)
class Transition:
    subject: Subject
    old: Status
    new: Status

    def title(self) -> str:
        return f"{self.subject.name}: {self.old.value} → {self.new.value}"

    def body(self, site_url: str | None, now: datetime) -> str:
        subject = self.subject
        since = subject.since or now
        lines = [f"{subject.name} ({subject.where}) is {self.new.value}, was {self.old.value}, since {since:%Y-%m-%d %H:%M} UTC."]
        if subject.reason and self.new is not Status.OPERATIONAL:
            lines.append(f"Why: {subject.reason}")
        troubled = [s for s in subject.parts if s.status is not Status.OPERATIONAL]
        lines += [f"- {s.title}: {s.status.value}" + (f" ({why})" if (why := s.reason or s.note) else "") for s in troubled]
        failing_run = next((s.failed_run_url for s in troubled if s.failed_run_url), None)
        if failing_run and self.new != Status.OPERATIONAL:
            lines.append(f"Failing run: {failing_run}")
        if site_url:
            lines.append(f"Status page: {site_url.rstrip('/')}/{subject.page}")
        return "\n".join(lines)


Send = Callable[[list[str], str, str], int]  # urls, title, body → how many failed


def notify(config: AlertsConfig, model: SiteModel, history_root: Path, send: Send | None = None) -> tuple[list[Transition], list[str]]:
    """Announce each component (and source, if asked) whose status changed since it was last announced."""
    state_path = Layout(history_root).alert_state
    warnings: list[str] = []
    with _locked(state_path.parent):
        try:
            state = _read(state_path, warnings)
        except HistoryError as exc:  # another statusgen's state: announce nothing, overwrite nothing
            return [], [f"no alerts sent: {exc}"]
        first_run = not state
        transitions = []
        for subject in subjects(model, config.sources):
            known = state.get(subject.key, {})
            old = Status(known["status"]) if "status" in known else None
            new = subject.status
            if new == Status.UNKNOWN and not config.notify_unknown:
                continue  # keep the last known status: an API hiccup is not a change to announce
            state[subject.key] = {**known, "status": new.value}
            if old is not None and old != new and not first_run:
                transitions.append(Transition(subject, old, new))
        for transition in transitions:
            warnings += _announce(config, transition, model, state[transition.subject.key], send or _apprise_send)
        _write(state_path, state)
    return transitions, warnings


def _announce(config: AlertsConfig, transition: Transition, model: SiteModel, entry: dict[str, Any], send: Send) -> list[str]:
    warnings = []
    urls = [u.get_secret_value() for u in config.urls]
    if urls:
        failed = send(urls, transition.title(), transition.body(model.config.site.url, model.now))
        if failed:
            warnings.append(f"alert for {transition.subject.key} could not be delivered to {failed} of {len(urls)} targets")
    if config.github_issues is not None:
        try:
            _github_issue(config, transition, model, entry)
        except CollectorError as exc:
            warnings.append(f"GitHub issue for {transition.subject.key}: {exc}")
    return warnings


def _github_issue(config: AlertsConfig, transition: Transition, model: SiteModel, entry: dict[str, Any]) -> None:
    """One issue per outage: opened when it starts failing, commented on changes, closed on recovery."""
    gh = config.github_issues
    client = ApiClient("github", gh.api_url, timeout=30, headers=github_headers(gh.token.get_secret_value()))
    repo = f"/repos/{gh.repository}/issues"
    body = transition.body(model.config.site.url, model.now)
    number = entry.get("issue")
    if number is None:
        if transition.new != Status.FAILING:
            return
        issue = client.post(repo, {"title": f"{transition.subject.name} is failing", "body": body, "labels": gh.labels})
        entry["issue"] = issue["number"]
        return
    client.post(f"{repo}/{number}/comments", {"body": body})
    if transition.new == Status.OPERATIONAL:
        client.request("PATCH", f"{repo}/{number}", json={"state": "closed", "state_reason": "completed"})
        entry.pop("issue")


def _apprise_send(urls: list[str], title: str, body: str) -> int:
    try:
        import apprise
    except ImportError:
        return len(urls)  # reported as undelivered; `pip install 'statusgen[alerts]'` fixes it
    failed = 0
    for url in urls:  # one at a time, so one bad target does not hide the others
        target = apprise.Apprise()
        if not target.add(url) or not target.notify(title=title, body=body):
            failed += 1
    return failed


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Held on the folder itself: a lock file could be a planted link, and opening it for
    writing would truncate what it points to."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as exc:
        raise HistoryError(f"cannot lock {folder} for the alert state: {exc.strerror}") from None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _read(path: Path, warnings: list[str]) -> dict[str, Any]:
    try:
        document = json.loads(read_text(path))
        formats.check("alert state", document.get("version") if isinstance(document, dict) else None, path)
        return document["announced"]
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            warnings.append(f"ignored {path}: a symbolic link; statusgen never follows links inside history")
        return {}
    except (ValueError, KeyError, TypeError):
        return {}


def _write(path: Path, announced: dict[str, Any]) -> None:
    write_text(path, json.dumps({"version": formats.ALERT_STATE.version, "announced": announced}, indent=1, sort_keys=True))
