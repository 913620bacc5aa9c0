"""Discovery, the first step of `collect`: ask each connection what its sources stand for.

A source such as `include: [sales_*]` stands for the DAGs that match it today, and a dbt
project with `exposures_as_components` adds components of its own. Each connection is asked
at once, bounded by its `timeout` and by `max_discovered` (how many sources it may add).
What a connection found replaces its catalog entry; a connection that fails keeps its last
entry and names the reason, so its components keep their sources and their bars.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from statusgen.catalog import Catalog, Entry
from statusgen.collect import scrubber
from statusgen.collectors import Collector, Discovery, registry
from statusgen.collectors.api import GaveUp
from statusgen.collectors.context import Context, discover_context
from statusgen.config import Config
from statusgen.errors import CollectorError


@dataclass(frozen=True)
class Discovered:
    catalog: Catalog
    failures: dict[str, str] = field(default_factory=dict)  # connection → why its discovery failed
    requests: dict[str, int] = field(default_factory=dict)  # API requests per connection


def discover(config: Config, previous: Catalog, now: datetime, cache_dir: Path | None = None) -> Discovered:
    """Ask every connection at once; each has its own timeout as a deadline."""
    collectors = {name: registry()[c.type](name, c) for name, c in config.connections.items()}
    answers: dict[str, Discovery | str] = {}
    threads = {}
    contexts = {}
    started = time.monotonic()
    for name, collector in collectors.items():
        if type(collector).discover is Collector.discover:
            answers[name] = Discovery()  # finds nothing, by definition: no thread to ask it
            continue
        connection = config.connections[name]
        contexts[name] = discover_context(name, connection, now, cache_dir=cache_dir, give_up_at=started + connection.timeout.total_seconds())
        declared = [s for s in config.sources if s.connection == name]
        # Daemon threads: a system that never answers is abandoned, not waited for.
        threads[name] = threading.Thread(target=_ask, args=(collector, declared, contexts[name], answers), name=f"discover-{name}", daemon=True)
        threads[name].start()
    scrub = scrubber(config)  # a failure's text is shown and stored like any collector message
    entries, failures = dict(previous.entries), {}
    for name in collectors:
        connection = config.connections[name]
        if name in threads:
            threads[name].join(max(0.0, connection.timeout.total_seconds() - (time.monotonic() - started)))
        answer = answers.get(name, f"discovery timed out after {connection.timeout.total_seconds():g}s")
        if isinstance(answer, Discovery):
            answer = _bounded(answer, connection.max_discovered)
        if isinstance(answer, str):
            failures[name] = scrub(answer)
        elif _is_empty(answer):
            entries.pop(name, None)
        else:
            entries[name] = Entry(now, answer.sources, answer.components, answer.expanded, answer.lineage)
    requests = {name: c.api.requests_made for name, c in contexts.items() if c.api.requests_made}
    return Discovered(Catalog(entries), failures, requests)


def unreachable(config: Config, catalog: Catalog, failures: dict[str, str]) -> dict[str, str]:
    """The sources a failed discovery leaves unsure, with the reason: those the catalog added
    for that connection, and the declared ones that stand for others. Each is shown as
    unknown rather than collected as if nothing had changed."""
    collectors = registry()
    found = {}
    for source in config.sources:
        reason = failures.get(source.connection)
        if reason is None:
            continue
        entry = catalog.entries.get(source.connection)
        collector = collectors[config.connections[source.connection].type]
        if (entry is not None and source.id in entry.source_ids()) or collector.stands_for_others(source):
            found[source.id] = f"could not discover what {source.connection!r} holds: {reason}"
    return found


def _ask(collector: Collector, declared: list, context: Context, answers: dict[str, Discovery | str]) -> None:
    try:
        answers[collector.name] = collector.discover(declared, context)
    except GaveUp:
        pass  # discover() already reports the timeout, in the same words every time
    except CollectorError as exc:
        answers[collector.name] = str(exc) or "discovery failed"
    except Exception as exc:  # a bug in one collector must not take the run down
        answers[collector.name] = f"{collector.type} collector crashed while discovering: {type(exc).__name__}: {exc}"


def _bounded(found: Discovery, limit: int) -> Discovery | str:
    count = len(found.sources) + sum(len(members) for members in found.expanded.values())
    if count > limit:
        return f"found {count} sources, more than max_discovered ({limit}): narrow include, exclude or tags, or raise max_discovered"
    return found


def _is_empty(found: Discovery) -> bool:
    return not (found.sources or found.components or found.expanded)
