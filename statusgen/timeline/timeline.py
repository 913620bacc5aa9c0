"""Runs + observations → status over time → days on the bars.

A source's status at time t follows from the finished runs before t (the latest one's
state, and the last success against the freshness promise) and from whether statusgen
could reach the source at all. Runs are events, so a collection that was skipped loses
nothing: the next one reads the runs it missed. Time after the last collection, and
before anything was known, is "no data" — never green.

The heavy lifting is DuckDB SQL over the history views, in the named files of sql/; the
rule in it is generated from statusgen.status (statusgen.timeline.queries), so there is
one rule. A Timeline owns the temp tables it makes in its snapshot's session: nothing else
reads them, every answer leaves it as typed data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Mapping, Sequence

import duckdb

from statusgen.deadlines import Deadline
from statusgen.history import Snapshot, aware_utc, naive_utc, reachability_changes
from statusgen.status import SEVERITY, Freshness, RunState, Status
from statusgen.timeline.cache import Cache, NoCache
from statusgen.timeline.days import Day, Window, uptime
from statusgen.timeline.queries import query, state_severity_sql

_BY_SEVERITY = {rank: status for status, rank in SEVERITY.items()}
# How far back a deadline's ticks are read, before the window (or the cache's cutoff, or a
# collection's instant): the status there depends on the first tick still unmet, and one
# missed longer ago than the longest grace allowed is failing whichever it was.
TICKS_BEFORE = timedelta(days=8)


@dataclass(frozen=True)
class Now:
    """Where a source or component stands at the last collection, and since when."""

    status: Status
    since: datetime


@dataclass(frozen=True)
class Why:
    """What each part of the status rule asks of a source at the last collection: the worst
    of them (when the source was reached) is its status, so the page can say which it was."""

    reached: bool
    latest_state: RunState | None
    by_run: Status  # the latest finished run's state
    by_age: Status  # the last success against warn_after / error_after
    by_deadline: Status  # the last success against the first deadline tick it does not meet
    last_success: datetime | None
    due_tick: datetime | None  # that tick (None: no deadline, or none yet)


@dataclass(frozen=True)
class Segment:
    """A stretch of one status; one that lasts no time is the status at the last collection."""

    start: datetime
    stop: datetime
    status: Status


@dataclass(frozen=True)
class OnTime:
    """Of the deadlines that fell in the window, how many were met on time."""

    due: int
    met: int

    @property
    def pct(self) -> float | None:
        """Rounded down to two decimals, as uptime is: 99.996 % on time is not 100 %."""
        return math.floor(10_000 * self.met / self.due) / 100 if self.due else None


@dataclass(frozen=True)
class Change:
    """A component's status changing: where one stretch of its timeline ends and the next begins."""

    at: datetime
    component_id: str
    before: Status
    after: Status


class Timeline:
    """The status over `window` of every source in `promises`, up to `covered_until` (the last
    collection), and of every component in `members` (its sources), with the declared
    `maintenance` windows. `cache` says how the timeline up to a cutoff is kept between runs.

    One Timeline at a time per snapshot: its tables live in the snapshot's session."""

    def __init__(
        self,
        snapshot: Snapshot,
        promises: Mapping[str, Freshness],
        window: Window,
        covered_until: datetime,
        cache: Cache | None = None,
        members: Mapping[str, Sequence[str]] | None = None,
        maintenance: Mapping[str, Sequence[tuple[datetime, datetime]]] | None = None,
    ):
        self._db = snapshot.db
        self.window = window
        self._sources = list(promises)
        self._members = members or {}
        self._maintenance = maintenance or {}
        self._components_made = self._days_made = False
        self._cover = naive_utc(covered_until)
        self._build_sources(promises, self._cover, cache or NoCache())

    def _build_sources(self, promises: Mapping[str, Freshness], cover: datetime, cache: Cache) -> None:
        db, window_start = self._db, naive_utc(self.window.start)
        # Ticks from a little before the window: the status where it starts (or at a cutoff
        # the cache carries from, a day before the last collection) depends on the tick before.
        _read_events(db, promises, cover, ticks_from=min(self.window.start, aware_utc(cover)) - TICKS_BEFORE)
        db.execute(query("carried"))
        db.execute(query("carried_segments"))
        cutoff = cache.restore(db, window_start, cover)
        merged = query("merged", table="stretches", key="source_id")
        db.execute(query("source_segments", merged=merged, status_at_start=_status_at("start"),
                         deadline_severity=query("deadline_severity", at="start", success="last_success", met="k"),
                         state_severity_before=state_severity_sql("state_before"),
                         deadline_severity_before=query("deadline_severity", at="t_before", success="success_before", met="k_before")),
                   {"cover": cover, "window_start": window_start, "cutoff": cutoff})
        cache.save(db, cutoff, window_start, cover)

    def _component_segments(self) -> str:
        """The table of the components' segments, made when first asked for: a collection asks
        only for its sources' status."""
        if not self._components_made:
            self._build_components()
            self._components_made = True
        return "component_segments"

    def _build_components(self) -> None:
        db, members = self._db, self._members
        spans = [(c, start, stop) for c, windows in self._maintenance.items() for start, stop in windows]
        db.execute(query("maintenance"), {"components": [c for c, _, _ in spans], "starts": [naive_utc(a) for _, a, _ in spans],
                                          "stops": [naive_utc(b) for _, _, b in spans]})
        pairs = [(c, s) for c, sources in members.items() for s in sources]
        db.execute(query("members"), {"components": [c for c, _ in pairs], "sources": [s for _, s in pairs]})
        db.execute(query("component_segments", merged=query("merged", table="maintained", key="component_id")))

    def sources_now(self) -> dict[str, Now]:
        """Each source's status at the last collection; sources nothing is known of are left out."""
        return self._now("segments", "source_id")

    def components_now(self) -> dict[str, Now]:
        """Each component's status at the last collection; components nothing is known of are left out."""
        return self._now(self._component_segments(), "component_id")

    def sources_why(self) -> dict[str, Why]:
        """Each source's parts of the rule at the last collection (sources nothing is known of
        left out): they give sources_now()'s status, which a test holds them to."""
        rows = self._db.execute(query("why_at", judged_at=_judged_at(),
                                      age_severity_at_cover=query("age_severity", at="$cover")), {"cover": self._cover}).fetchall()
        return {
            source_id: Why(reached, state and RunState(state), _BY_SEVERITY[by_run], _BY_SEVERITY[by_age], _BY_SEVERITY[by_deadline],
                           aware_utc(last_success), aware_utc(due_tick))
            for source_id, reached, state, by_run, by_age, by_deadline, last_success, due_tick in rows
        }

    def source_segments(self) -> dict[str, list[Segment]]:
        """Each source's stretches of one status within the window, in time order."""
        return self._segments("segments", "source_id")

    def component_segments(self) -> dict[str, list[Segment]]:
        """Each component's stretches of one status within the window, in time order."""
        return self._segments(self._component_segments(), "component_id")

    def from_cache(self) -> set[str]:
        """The sources whose timeline started from the cache's state at its cutoff."""
        return {source_id for (source_id,) in self._db.execute(query("carried_sources")).fetchall()}

    def source_days(self) -> dict[str, list[Day]]:
        """Every source's bar: seconds per status per local day, and its failed runs."""
        self._make_days()
        failed: dict[str, dict[date, int]] = {}
        for source_id, day, count in self._db.execute(query("failed_runs")).fetchall():
            failed.setdefault(source_id, {})[day] = count
        return self._daily("segments", "source_id", self._sources, failed)

    def component_days(self) -> dict[str, list[Day]]:
        """Every component's bar: seconds per status per local day."""
        return self._daily(self._component_segments(), "component_id", list(self._members))

    def source_uptime(self, weights: Mapping[Status, float]) -> dict[str, float | None]:
        """Every source's uptime over the window (statusgen.timeline.days.uptime), None without known time."""
        return self._uptime("segments", "source_id", self._sources, weights)

    def component_uptime(self, weights: Mapping[Status, float]) -> dict[str, float | None]:
        """Every component's uptime over the window, None without known time."""
        return self._uptime(self._component_segments(), "component_id", list(self._members), weights)

    def source_on_time(self) -> dict[str, OnTime]:
        """Every source with a deadline that fell in the window since it was first collected."""
        rows = self._db.execute(query("on_time"), {"window_start": naive_utc(self.window.start), "cover": self._cover}).fetchall()
        return {source_id: OnTime(due, met) for source_id, due, met in rows}

    def component_on_time(self, by_source: Mapping[str, OnTime]) -> dict[str, OnTime]:
        """Every component's deadlines: all of its sources' together, from source_on_time's
        answer (asked once: it reads every deadline's ticks against the segments)."""
        found = {}
        for component, sources in self._members.items():
            mine = [by_source[s] for s in sources if s in by_source]
            if mine:
                found[component] = OnTime(sum(o.due for o in mine), sum(o.met for o in mine))
        return found

    def changes(self, since: datetime, limit: int) -> list[Change]:
        """The `limit` latest changes of a component's status from `since` on, newest first."""
        self._component_segments()
        rows = self._db.execute(query("changes"), {"since": naive_utc(since), "limit": limit}).fetchall()
        return [Change(aware_utc(at), cid, _BY_SEVERITY[before], _BY_SEVERITY[sev]) for cid, at, sev, before, _ in rows]

    def _now(self, table: str, key: str) -> dict[str, Now]:
        rows = self._db.execute(query("status_now", table=table, key=key)).fetchall()
        return {owner: Now(_BY_SEVERITY[sev], aware_utc(start)) for owner, sev, start in rows}

    def _segments(self, table: str, key: str) -> dict[str, list[Segment]]:
        found: dict[str, list[Segment]] = {}
        for owner, start, stop, sev in self._db.execute(query("segments", table=table, key=key)).fetchall():
            found.setdefault(owner, []).append(Segment(aware_utc(start), aware_utc(stop), _BY_SEVERITY[sev]))
        return found

    def _uptime(self, table: str, key: str, owners: Sequence[str], weights: Mapping[Status, float]) -> dict[str, float | None]:
        spent: dict[str, dict[Status, int]] = {}
        bounds = {"window_start": naive_utc(self.window.start), "window_end": naive_utc(self.window.end)}
        for owner, sev, micros in self._db.execute(query("uptime", table=table, key=key), bounds).fetchall():
            spent.setdefault(owner, {})[_BY_SEVERITY[sev]] = micros
        return {owner: uptime(spent.get(owner, {}), weights) for owner in owners}

    def _daily(self, table: str, key: str, owners: Sequence[str], failed: Mapping[str, Mapping[date, int]] | None = None) -> dict[str, list[Day]]:
        self._make_days()
        spent: dict[str, dict[date, dict[Status, int]]] = {}
        failed = failed or {}
        for owner, day, sev, seconds in self._db.execute(query("daily", table=table, key=key)).fetchall():
            spent.setdefault(owner, {}).setdefault(day, {})[_BY_SEVERITY[sev]] = seconds
        return {owner: self.window.bar(spent.get(owner, {}), failed.get(owner)) for owner in owners}

    def _make_days(self) -> None:
        if not self._days_made:
            days = self.window.days
            self._db.execute(query("days"), {"days": [d for d, _, _ in days], "starts": [naive_utc(s) for _, s, _ in days],
                                             "ends": [naive_utc(e) for _, _, e in days]})
            self._days_made = True


def statuses_at(snapshot: Snapshot, promises: Mapping[str, Freshness], at: datetime) -> dict[str, Status]:
    """Each source's status at `at`, the last collection, as its Timeline ending there would
    give it, for a collection's report: the rule at one instant needs neither the segments
    before it nor the cache. Sources nothing is known of are left out."""
    cover = naive_utc(at)
    _read_events(snapshot.db, promises, cover, ticks_from=at - TICKS_BEFORE)
    rows = snapshot.db.execute(query("statuses_at", status_at_cover=_status_at("$cover"), judged_at=_judged_at()), {"cover": cover}).fetchall()
    return {source_id: _BY_SEVERITY[sev] for source_id, sev in rows}


def _status_at(at: str) -> str:
    """The status rule (status_at.sql) at the instant `at`, an SQL expression."""
    return query("status_at", at=at, age_severity=query("age_severity", at=at))


def _judged_at() -> str:
    """The rule's inputs at $cover, per source (judged_at.sql)."""
    return query("judged_at", deadline_severity=query("deadline_severity", at="$cover", success="last_success", met="k"))


def _read_events(db: duckdb.DuckDBPyConnection, promises: Mapping[str, Freshness], cover: datetime, ticks_from: datetime) -> None:
    """Temp tables `promise` and `ticks` (each deadline's, from the last one at or before
    `ticks_from`), and the finished runs and reachability changes up to `cover`."""
    ids = list(promises)
    deadlines = {i: promises[i].deadline for i in ids}
    db.execute(query("promise"), {"ids": ids, "numbers": list(range(len(ids))), "warn": [_seconds(promises[i].warn_after) for i in ids],
                                  "error": [_seconds(promises[i].error_after) for i in ids],
                                  "deadline": [d.key if d else None for d in deadlines.values()],
                                  "min_rows": [promises[i].min_rows for i in ids]})
    schedules: dict[Deadline, list[tuple[datetime, datetime | None, datetime]]] = {}
    for deadline in set(filter(None, deadlines.values())):  # sources share a few: each calendar is walked once
        schedules[deadline] = deadline.due(ticks_from, aware_utc(cover))
    rows = [(i, *due) for i, d in deadlines.items() if d is not None for due in schedules[d]]
    db.execute(query("ticks"), {"ids": [r[0] for r in rows], "ticks": [naive_utc(r[1]) for r in rows],
                                "bounds": [naive_utc(r[2]) for r in rows], "late_until": [naive_utc(r[3]) for r in rows]})
    db.execute(query("first_ticks"))
    db.execute(query("finished_runs"), {"cover": cover})
    db.execute(query("reachability", reachability_changes=reachability_changes(query("reachability_seen"))), {"cover": cover})


def _seconds(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())
