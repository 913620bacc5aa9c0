"""One collection: every source asked concurrently, each failure contained to its source.

The runner splits each connection's sources into the batches its collector asks for,
runs them on worker threads with a limit per connection and a deadline per batch, and
turns anything that goes wrong into a SourceReport with an error, so one broken system
never stops the others.
"""

from __future__ import annotations

import base64
import queue
import re
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import quote, quote_plus

from statusgen.collectors import Collector, registry
from statusgen.collectors.context import CollectContext, collect_context
from statusgen.config import Config, SourceConfig
from statusgen.errors import CollectorError
from statusgen.records import SourceReport
from statusgen.urls import public_text, public_url

# Threads mostly wait on the network; 64 lets that many connections be asked at once.
MAX_WORKERS = 64
MAX_MESSAGE = 500
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class Collected:
    """A report with how long its batch took."""

    report: SourceReport
    latency_ms: int


@dataclass(frozen=True)
class Collection:
    """Every source's report, and how many API requests each connection made."""

    reports: dict[str, Collected]
    requests: dict[str, int]


@dataclass(frozen=True)
class _Batch:
    collector: Collector
    sources: list[SourceConfig]
    since: datetime | None


def collect_all(
    config: Config,
    now: datetime,
    since: dict[str, datetime],
    on_done: Callable[[Collected], None] = lambda collected: None,
    cache_dir: Path | None = None,
    max_workers: int = MAX_WORKERS,
    not_before: datetime | None = None,
) -> Collection:
    """Collect every source in `config`; `since` maps source ids to their last collection.
    No collector reads runs from before `not_before` (what history keeps)."""
    batches = list(_batches(config, since))
    limits = {name: threading.Semaphore(c.max_concurrency) for name, c in config.connections.items()}
    scrub = scrubber(config)
    results: dict[str, Collected] = {}

    began: dict[int, float] = {}
    contexts: dict[int, CollectContext] = {}
    deadline = time.monotonic() + _longest_wait(config, batches)
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    finished: queue.SimpleQueue[tuple[int, list[Collected]]] = queue.SimpleQueue()
    for index in range(len(batches)):
        todo.put(index)

    def worker() -> None:
        while True:
            try:
                index = todo.get_nowait()
            except queue.Empty:
                return
            batch = batches[index]
            connection = batch.collector.connection
            with limits[batch.collector.name]:
                began[index] = time.monotonic()
                # Past its timeout the batch is reported and abandoned: its clients then start no request.
                give_up_at = min(began[index] + connection.timeout.total_seconds(), deadline)
                contexts[index] = collect_context(batch.collector.name, connection, now, batch.since,
                                                  cache_dir=cache_dir, give_up_at=give_up_at, not_before=not_before)
                reports = _call(batch, contexts[index])
                latency = int((time.monotonic() - began[index]) * 1000)
            finished.put((index, [Collected(_scrubbed(r, scrub), latency) for r in reports]))

    # Daemon threads: one stuck in a call that never returns is abandoned when the
    # run ends, instead of keeping the process alive.
    for _ in range(min(max_workers, len(batches))):
        threading.Thread(target=worker, name="collect", daemon=True).start()
    pending = set(range(len(batches)))
    while pending:
        try:
            index, collected = finished.get(timeout=0.2)
        except queue.Empty:
            index, collected = None, []
        if index in pending:
            pending.discard(index)
            for item in collected:
                results[item.report.source_id] = item
                on_done(item)
        for index in sorted(pending):
            timeout = batches[index].collector.connection.timeout.total_seconds()
            late = index in began and time.monotonic() - began[index] > timeout
            # A batch stuck behind hung ones never starts; the deadline ends the wait.
            if late or time.monotonic() > deadline:
                pending.discard(index)
                for source in batches[index].sources:
                    results[source.id] = Collected(SourceReport(source.id, error=f"timed out after {timeout:g}s"), int(timeout * 1000))
                    on_done(results[source.id])
    requests = {batch.collector.name: 0 for batch in batches}
    for index, context in list(contexts.items()):
        requests[batches[index].collector.name] += context.api.requests_made
    return Collection(results, requests)


def _longest_wait(config: Config, batches: list[_Batch]) -> float:
    """How long a run may take if every connection used its whole timeout for each batch."""
    longest = 0.0
    for name, connection in config.connections.items():
        count = sum(1 for b in batches if b.collector.name == name)
        rounds = -(-count // connection.max_concurrency)
        longest = max(longest, rounds * connection.timeout.total_seconds())
    return longest + 1


def _batches(config: Config, since: dict[str, datetime]) -> Iterator[_Batch]:
    collectors = registry()
    for name, connection in config.connections.items():
        collector = collectors[connection.type](name, connection)
        sources = [s for s in config.sources if s.connection == name]
        size = max(1, collector.batch_size)
        for start in range(0, len(sources), size):
            chunk = sources[start : start + size]
            known = [since[s.id] for s in chunk if s.id in since]
            yield _Batch(collector, chunk, min(known) if len(known) == len(chunk) else None)


def _call(batch: _Batch, context: CollectContext) -> list[SourceReport]:
    try:
        reports = list(batch.collector.collect(batch.sources, context))
    except CollectorError as exc:
        return [SourceReport(s.id, error=str(exc) or "collector failed") for s in batch.sources]
    except Exception as exc:  # a bug in one collector must not take the run down
        message = f"{batch.collector.type} collector crashed: {type(exc).__name__}: {exc}"
        return [SourceReport(s.id, error=message) for s in batch.sources]
    wanted = {s.id for s in batch.sources}
    by_id = {r.source_id: r for r in reports if r.source_id in wanted}
    for source in batch.sources:
        if source.id not in by_id:
            by_id[source.id] = SourceReport(source.id, error="the collector returned nothing for this source")
    return [by_id[s.id] for s in batch.sources]


def scrubber(config: Config) -> Callable[[str | None], str | None]:
    """What makes a text fit to keep and show: no URL credentials, and no secret of any
    connection in any form a request carries it (raw, base64 alone or as `user:secret` in a
    Basic header, URL-encoded), since a server may echo the request back in what it answers."""
    forms: set[str] = set()
    for connection in config.connections.values():
        secrets = connection.secret_values()
        partners = [v for v in connection.__dict__.values() if isinstance(v, str) and v] + secrets
        for secret in secrets:
            forms |= {secret, quote(secret, safe=""), quote_plus(secret), *_base64(secret)}
            for partner in partners:
                if partner != secret:
                    forms |= {*_base64(f"{partner}:{secret}"), *_base64(f"{secret}:{partner}")}
    # Longest first, so a secret that contains another is replaced whole.
    ordered = sorted({f for f in forms if len(f) >= 4}, key=len, reverse=True)

    def scrub(text: str | None, limit: int | None = MAX_MESSAGE) -> str | None:
        if text is None:
            return None
        # Control characters would reach terminals and CI logs (a line starting "::" is a
        # workflow command to GitHub Actions): one line of plain text is all a message needs.
        text = _CONTROL.sub(" ", public_text(text))  # an API's error may quote a URL with its credentials
        for secret in ordered:
            text = text.replace(secret, "***")
        return text[:limit]

    return scrub


def _base64(text: str) -> set[str]:
    standard, url_safe = base64.b64encode(text.encode()).decode(), base64.urlsafe_b64encode(text.encode()).decode()
    return {standard, standard.rstrip("="), url_safe, url_safe.rstrip("=")}


def _scrubbed(report: SourceReport, scrub: Callable[[str | None], str | None]) -> SourceReport:
    """The report as it may be kept, shown and sent: every stage after collection reads this one."""
    runs = [replace(r, message=scrub(r.message), url=scrub(r.url and public_url(r.url), limit=None)) for r in report.runs]
    return replace(report, runs=runs, error=scrub(report.error), message=scrub(report.message))
