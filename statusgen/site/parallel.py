"""A large site's files drawn on every core: the jobs that draw them are shared among
processes forked from the render, which find the page model already in their memory.

Drawing is pure Python, so one process draws on one core: at 1,000 sources (200 components),
1.6 s of a full render's 6.7, while the other core had nothing to do. Forked, not spawned: a
spawned process would be sent the model, ≈ 300,000 objects to pickle and rebuild, which costs
about what it saves. While the pages are drawn the collector leaves the model alone
(garbage.frozen), so a forked process does not copy the memory the model is in by walking it.
A child runs no DuckDB, whose threads stay behind in the parent: only Python and Jinja.

A child sends back its files. A share that does not come back whole, whatever the reason (an
error in a template, a child killed or not done in time, no fork to be had), is drawn here:
the site never depends on how the work was shared, and an error is raised here.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from typing import Callable, Iterable, Sequence

Files = dict[str, "str | bytes"]
Job = Callable[[], Files]  # draws some of the site's files

# Jobs a process is worth forking for: a fork of a render at 1,000 sources and sending its
# files back take ≈ 0.05 s, what drawing ten component pages takes. A smaller site is drawn here.
SHARE_AT_LEAST = 50
# A child not done when this process has waited this many times as long as its own share took
# (or this many seconds, if longer) is stopped, and its share drawn here.
PATIENCE = 5
PATIENCE_S = 30.0
# Only where a forked child is known to be safe: on macOS the system's libraries may crash in
# one (multiprocessing's documentation); Windows has no fork.
FORKS = sys.platform.startswith("linux")


def draw_all(jobs: Sequence[Job], processes: int | None = None) -> Files:
    """The files of all `jobs`, in their order, drawn by up to `processes` processes (by
    default, as many as the cores this process may use)."""
    shares = min(processes or _cores(), len(jobs) // SHARE_AT_LEAST)
    if shares < 2 or not FORKS:
        return _merged([job() for job in jobs])
    # Every n-th job, not slices: neighbouring jobs (a group's components) tend to weigh alike.
    parts = [jobs[n::shares] for n in range(shares)]
    children = []
    try:
        for part in parts[1:]:
            if (child := _started(part)) is None:
                break  # the rest are drawn here
            children.append(child)
        began = time.monotonic()
        drawn = [[job() for job in parts[0]]]
        deadline = time.monotonic() + max(PATIENCE * (time.monotonic() - began), PATIENCE_S)
        for n, part in enumerate(parts[1:]):
            sent = _received(*children[n], deadline) if n < len(children) else None
            drawn.append(sent if sent is not None else [job() for job in part])
    finally:
        for child in children:  # none is left behind, whatever was raised here
            _stop(*child)
    return _merged(drawn[n % shares][n // shares] for n in range(len(jobs)))


def _started(part: Sequence[Job]):
    """A child drawing `part`, and the end of the pipe it sends them on; None if none could start."""
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=_draw, args=(part, sending), daemon=True)
    try:
        child.start()
    except OSError:  # no more processes to be had
        receiving.close()
        return None
    finally:
        sending.close()  # the child's copy is the only one left: its end is seen when it exits
    return child, receiving


def _draw(part: Sequence[Job], sending) -> None:
    """In the child."""
    with sending:
        try:
            drawn = [job() for job in part]
        except Exception:  # noqa: BLE001 — drawn again by the parent, which raises it
            return
        sending.send(drawn)


def _received(child, receiving, deadline: float) -> list[Files] | None:
    """What `child` sent, or None if it sent nothing whole by `deadline`."""
    try:
        return receiving.recv() if receiving.poll(max(deadline - time.monotonic(), 0)) else None
    except (EOFError, OSError):  # it ended without sending
        return None
    finally:
        child.join(max(deadline - time.monotonic(), 0))  # it has sent all or ended: it ends now, or by then
        _stop(child, receiving)


def _stop(child, receiving) -> None:
    receiving.close()
    if child.is_alive():
        child.kill()
    child.join()


def _merged(parts: Iterable[Files]) -> Files:
    files: Files = {}
    for part in parts:
        files.update(part)
    return files


def _cores() -> int:
    """The cores this process may run on (a container's CPU set, not the machine's)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
