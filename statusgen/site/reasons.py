"""Why each thing has its colour, in one sentence: the same words on the index, the component
page, status.json, the alerts and the feed.

The timeline decides a status; it also says which part of the rule decided it (`Why`: the
latest run, the freshness ages, a deadline, or not reaching the source). This module only
puts that into words, so a reason can never disagree with the colour beside it.

Every reason has two wordings: the internal one names the source, the run's message and the
system; the public one (site.audience: public) names only the component and times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Mapping, Protocol, Sequence
from zoneinfo import ZoneInfo

from statusgen.records import Observation, Run
from statusgen.site.words import duration
from statusgen.status import FINISHED_STATES, Freshness, RunState, Status, counted_state, run_order
from statusgen.timeline import Why
from statusgen.urls import public_text


@dataclass(frozen=True)
class Reason:
    internal: str
    public: str

    def said_to(self, internal: bool) -> str:
        return self.internal if internal else self.public


NOT_COLLECTED = Reason("Not collected yet", "Not checked yet")  # a source, or every source of a component

_RUN_WORDS = {
    RunState.FAILED: ("The latest run failed", "The latest update failed"),
    RunState.WARNING: ("The latest run finished with warnings", "The latest update finished with warnings"),
    RunState.CANCELLED: ("The latest run was cancelled", "The latest update did not finish"),
    RunState.SKIPPED: ("The latest run was skipped", "The latest update did not run"),
}


def source_reason(
    status: Status,
    why: Why | None,
    seen: Observation | None,
    runs: Sequence[Run],
    promise: Freshness,
    at: datetime,
    zone: ZoneInfo,
) -> Reason | None:
    """Why a source has `status` at `at` (its last collection); None when it is operational.
    `why` is the timeline's account of the rule's parts there, `seen` the last observation,
    `runs` its recent runs (for the latest one's message)."""
    if status is Status.OPERATIONAL:
        return None
    if seen is None:
        return NOT_COLLECTED
    # Rows written before collection stripped URL credentials hold them still, as for the note.
    error, message = public_text(seen.error or ""), public_text(seen.message or "")
    # The timeline's word on reaching it, not `seen`'s: of two collections at its last instant,
    # one that reached it decides the colour, whichever of them `seen` is.
    reached = why.reached if why is not None else not (error or seen.paused)
    if not reached and error:
        return Reason(f"Could not be checked at the last collection: {error}", "Could not be checked at the last collection")
    if not reached and seen.paused:
        return Reason(message or "Paused in its system", "Updates are paused")
    if why is None or (status is Status.UNKNOWN and why.latest_state is None):
        return Reason("No finished run seen yet" + (f": {message}" if message else ""), "No update seen yet")
    when = lambda moment: moment_words(moment, at, zone)  # noqa: E731
    if why.by_run is status and why.latest_state in _RUN_WORDS:
        latest = _latest_finished(runs, promise.min_rows, at)
        ended = f" {when(latest.ended_at)}" if latest and latest.ended_at else ""
        if latest and counted_state(latest.state, latest.rows_loaded, promise.min_rows) is not latest.state:  # counted short
            text = f"The latest load{ended} had {latest.rows_loaded:,} rows; at least {promise.min_rows:,} expected"
            return Reason(text, f"The latest update{ended} was incomplete")
        internal, public = _RUN_WORDS[why.latest_state]
        said = f": {public_text(latest.message)}" if latest and latest.message else ""
        return Reason(f"{internal}{ended}{said}", f"{public}{ended}")
    if why.by_deadline is status and why.due_tick is not None:
        landed = f"last landed {when(why.last_success)}" if why.last_success else "nothing has landed yet"
        text = f"Expected by {when(why.due_tick)}; {landed}"
        return Reason(text, text.replace("last landed", "not updated since"))
    if why.by_age is status and why.last_success is not None:
        limit = promise.warn_after if status is Status.DEGRADED and promise.warn_after else promise.error_after
        text = f"Not updated since {when(why.last_success)}" + (f"; expected within {duration(limit)}" if limit else "")
        return Reason(text, text)
    return Reason(message or "Status unknown", "Status unknown")


class Member(Protocol):
    """What a component's reason needs of each of its sources (a SourceView)."""

    id: str
    title: str
    status: Status
    since: datetime | None
    why: Reason | None


def component_reason(status: Status, members: Sequence[Member], upstream: Mapping[str, Iterable[str]], maintenance: str | None) -> Reason | None:
    """Why a component has `status`: its root cause, the most upstream of its sources in that
    status (through `upstream`, each source's ancestors among sources, where lineage is known;
    else the one in it longest). `maintenance` is the title of the maintenance it is under, if any."""
    if status is Status.OPERATIONAL:
        return None
    if status is Status.MAINTENANCE and maintenance:
        text = f"Under maintenance: {maintenance}"
        return Reason(text, text)
    troubled = [m for m in members if m.status is not Status.OPERATIONAL]
    causes = [m for m in troubled if m.status is status and m.why is not None]
    if not causes:
        return None if troubled else NOT_COLLECTED
    ids = {m.id for m in causes}
    roots = [m for m in causes if not ids & set(upstream.get(m.id, ()))]
    root = min(roots, key=lambda m: (m.since is None, m.since or datetime.min, m.id))
    more = len(troubled) - 1
    also = f" ({more} more source{'s' if more > 1 else ''} not operational)" if more else ""
    return Reason(f"{root.title}: {_lower_first(root.why.internal)}{also}", root.why.public)


def moment_words(moment: datetime, now: datetime, zone: ZoneInfo) -> str:
    """A moment as people say it, in the site's time zone: "Friday 05:40" within the week
    before `now`, "Nov 20 21:16" before that. Never "today" or "3 h ago": a static page is
    read after it was made, and its reasons must stay true until the next one."""
    local = moment.astimezone(zone)
    if 0 <= (now.astimezone(zone).date() - local.date()).days < 7:
        return local.strftime("%A %H:%M")
    return local.strftime("%b %-d %H:%M")


def _latest_finished(runs: Sequence[Run], min_rows: int | None, at: datetime) -> Run | None:
    """The latest run finished by `at`, in the order the status rule reads them
    (statusgen.status): a page made for a moment before the last collection lists runs that
    ended after it, which its status does not count."""
    finished = [r for r in runs if r.state in FINISHED_STATES and r.ended_at and r.ended_at <= at]
    return max(finished, key=lambda r: run_order(r.ended_at, counted_state(r.state, r.rows_loaded, min_rows)), default=None)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text

