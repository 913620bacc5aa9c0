"""A bar drawn by exception, for pages that show many of them (the index, group pages, a
component's sources).

A per-day bar is one element and one text label for every day: 180 elements and 90 tab
stops per bar, 41,000 elements on an index of 200 components. A strip is one element whose
background draws every day in its usual status (the one most of its days had), plus one
mark for each run of days alike that differs, and one text that names those days. Labels come from the
caller, so a strip says the same words as the per-day bar of the component's own page.

A group's strip is not its worst member each day: with hundreds of members some member is
red every day, and the bar would be red beside a green "Operational". Each day's mark shows
how many of the members were not in the usual status (its height, in quarters) and the
worst of them (its colour), and the label counts them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Callable, NamedTuple, Sequence

from statusgen.status import SEVERITY, Status
from statusgen.timeline import Day

NO_DATA = "nodata"
# A mark's height in quarters of the strip: a single member out of 2,000 still shows.
QUARTERS = 4
WORDS = {
    "operational": "operational",
    "degraded": "degraded",
    "failing": "failing",
    "unknown": "unknown",
    "maintenance": "in maintenance",
    NO_DATA: "no data",
}


# A NamedTuple, as statusgen.timeline.Day: a render makes one for every day of every bar that
# differs from its usual status (tens of thousands at 1,000 sources), and a frozen dataclass is
# made in three times as long.
class Mark(NamedTuple):
    column: int  # the day's place on the strip, from 1
    status: str  # a status value, or NO_DATA
    height: int  # in quarters of the strip, 1 to QUARTERS
    span: int = 1  # the days it covers from `column` on, each drawn apart as every day is


@dataclass(frozen=True)
class Strip:
    days: int
    usual: str  # what every unmarked day was: a status value, or NO_DATA
    marks: tuple[Mark, ...]
    notes: tuple[str, ...]  # the text of every day worth a word, in order
    # The whole strip in one sentence, its accessible name where a page holds many strips:
    # "90 days: 86 operational, 3 degraded, 1 failing".
    summary: str = ""

    @property
    def usual_words(self) -> str:
        return WORDS[self.usual]


_KEYS = {status: status.value for status in Status}


def key(day: Day) -> str:
    return _KEYS.get(day.worst, NO_DATA)  # a dict, not Enum.value: this runs for every day of every bar


def _rank(status: str) -> int:
    return -1 if status == NO_DATA else SEVERITY[Status(status)]


def _usual(counts: Counter[str]) -> str:
    """The most common; on a tie the better status, so a tie never paints a strip red."""
    return min(counts, key=lambda k: (-counts[k], _rank(k))) if counts else NO_DATA


def component_strip(days: Sequence[Day], label: Callable[[Day], str]) -> Strip:
    """One mark per day not in the usual status; a note for those and for any usual day whose
    label says more than its status (failed runs, an incident, partly no data)."""
    keys = [key(d) for d in days]
    counts = Counter(keys)
    usual = _usual(counts)
    marks, notes = [], []
    for column, (day, k) in enumerate(zip(days, keys), start=1):
        if k != usual:
            marks.append(Mark(column, k, QUARTERS))
        # Labels are most of a page's drawing time: only the days worth a word get one.
        if k != usual or _more_than_its_status(day, usual):
            notes.append(label(day))
    told = ", ".join(f"{counts[k]} {WORDS[k]}" for k in sorted(counts, key=_rank))
    return Strip(len(days), usual, _runs(marks), tuple(notes), f"{len(days)} days: {told}")


def _more_than_its_status(day: Day, usual: str) -> bool:
    """A day in the usual status that its label still tells apart: failed runs, an
    incident, part of it with no data, or time in a second status."""
    if day.failed_runs or day.incidents or (day.no_data and usual != NO_DATA):
        return True
    return len(day.seconds) > 1 and sum(1 for seconds in day.seconds.values() if seconds > 0) > 1


def group_strip(bars: Sequence[Sequence[Day]], when: Callable[[date], str]) -> Strip:
    """Per day, the share of members not in the usual status, coloured by the worst of them."""
    columns = [[key(d) for d in marks] for marks in zip(*bars)]
    usual = _usual(Counter(k for column in columns for k in column))
    marks, notes, most = [], [], 0
    for index, column in enumerate(columns):
        others = Counter(k for k in column if k != usual)
        if not others:
            continue
        count = sum(others.values())
        most = max(most, count)
        worst_key = max(others, key=_rank)
        marks.append(Mark(index + 1, worst_key, -(-count * QUARTERS // len(column))))
        counted = ", ".join(f"{n} {WORDS[k]}" for k, n in sorted(others.items(), key=lambda item: -_rank(item[0])))
        notes.append(f"{when(bars[0][index].day)}: {count} of {len(column)} not {WORDS[usual]} ({counted})")
    members = len(bars)
    summary = f"{len(columns)} days: {len(columns) - len(marks)} with all {members} {WORDS[usual]}"
    if marks:
        summary += f", {len(marks)} with up to {most} of {members} not"
    return Strip(len(columns), usual, _runs(marks), tuple(notes), summary)


def _runs(marks: list[Mark]) -> tuple[Mark, ...]:
    """Marks of consecutive days alike as one: a group of 2,000 has some member failing every
    day, and a source down for a week is seven days alike; an element each was most of the
    index at 2,000 components."""
    joined: list[Mark] = []
    for mark in marks:
        last = joined[-1] if joined else None
        if last and last.column + last.span == mark.column and (last.status, last.height) == (mark.status, mark.height):
            joined[-1] = Mark(last.column, last.status, last.height, last.span + 1)
        else:
            joined.append(mark)
    return tuple(joined)
