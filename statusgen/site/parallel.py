"""A large site's files drawn on every core: the jobs that draw them are shared among
processes forked from the render, which find the page model already in their memory.

Drawing is pure Python, so one process draws on one core: at 1,000 sources (200 components),
1.6 s of a full render's 6.7, while the other core had nothing to do. Forked, not spawned: a
spawned process would be sent the model, ≈ 300,000 objects to pickle and rebuild, which costs
about what it saves. While the pages are drawn the collector leaves the model alone
(garbage.frozen), so a forked process does not copy the memory the model is in by walking it.

A child runs only Python and Jinja. Other threads of the parent do not follow it: DuckDB's,
idle, and a collection's abandoned ones (statusgen/collect.py), which may hold a lock at the
fork that the child then finds held. Hence a child that does not send its files by a deadline
is stopped, and one that has sent them gets a second to end. A share that does not come back
whole, whatever the reason (an error in a template, a child killed or stuck, no fork to be
had), is drawn here: the site never depends on how the work was shared, and an error is raised
here, where a render in one process raises it.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from multiprocessing.connection import Connection
from typing import Callable, Iterable, NamedTuple, Sequence

Files = dict[str, "str | bytes"]
Job = Callable[[], Files]  # draws some of the site's files

# Jobs a process is worth forking for: a fork of a render at 1,000 sources and sending its
# files back take ≈ 0.05 s, what drawing ten component pages takes. A smaller site is drawn here.
SHARE_AT_LEAST = 50
# A child not done when this process has waited this many times as long as its own share took
# (or this many seconds, if longer) is stopped, and its share drawn here.
PATIENCE = 5
PATIENCE_S = 30.0
ENDING_S = 1.0  # how long a child that has sent its files (or failed) gets to end
# Only where a forked child is known to be safe: on macOS the system's libraries may crash in
# one (multiprocessing's documentation); Windows has no fork.
FORKS = sys.platform.startswith("linux")


class Child(NamedTuple):
    process: multiprocessing.process.BaseProcess
    receiving: Connection  # the end of the pipe it sends its files on


def draw_all(jobs: Sequence[Job], processes: int | None = None) -> Files:
    """The files of all `jobs`, in their order, drawn by up to `processes` processes (by
    default, as many as the cores this process may use)."""
    shares = min(processes or _cores(), len(jobs) // SHARE_AT_LEAST) if FORKS else 1
    # A daemonic process (a multiprocessing pool's worker) may not start processes.
    if shares < 2 or multiprocessing.current_process().daemon:
        return _merged([job() for job in jobs])
    # Every n-th job, not slices: neighbouring jobs (a group's components) tend to weigh alike.
    parts = [jobs[n::shares] for n in range(shares)]
    children: list[Child] = []
    try:
        for part in parts[1:]:
            if (child := _started(part)) is None:
                break  # the rest are drawn here
            children.append(child)
        began = time.monotonic()
        drawn = [[job() for job in parts[0]]]
        now = time.monotonic()
        deadline = now + max(PATIENCE * (now - began), PATIENCE_S)
        for n, part in enumerate(parts[1:]):
            sent = _received(children[n], deadline) if n < len(children) else None
            drawn.append(sent if sent is not None else [job() for job in part])
    finally:
        for child in children:  # at once: none is left behind, whatever was raised here
            _stop(child, 0)
    return _merged(drawn[n % shares][n // shares] for n in range(len(jobs)))


def _started(part: Sequence[Job]) -> Child | None:
    """A child drawing `part`; None if none could start (no process or pipe to be had)."""
    context = multiprocessing.get_context("fork")
    try:
        receiving, sending = context.Pipe(duplex=False)
    except OSError:
        return None
    process = context.Process(target=_draw, args=(part, sending), daemon=True)
    try:
        process.start()
    except OSError:
        receiving.close()
        return None
    finally:
        sending.close()  # the child's copy is the only one left: its end is seen when it exits
    return Child(process, receiving)


def _draw(part: Sequence[Job], sending: Connection) -> None:
    """In the child. Ctrl-C reaches the whole process group: the parent stops its children,
    which say nothing of it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with sending:
        try:
            drawn = [job() for job in part]
        except Exception:  # noqa: BLE001 — drawn again by the parent, which raises it
            return
        sending.send(drawn)


def _received(child: Child, deadline: float) -> list[Files] | None:
    """What `child` sent, or None if it sent nothing whole by `deadline`. It is stopped after:
    at once if it is late, else once it has had ENDING_S to end."""
    ending = 0.0
    try:
        if child.receiving.poll(max(deadline - time.monotonic(), 0)):
            ending = ENDING_S  # it has sent, or ended
            return child.receiving.recv()
        return None
    except (EOFError, OSError):  # it ended without sending
        return None
    finally:
        _stop(child, ending)


def _stop(child: Child, ending: float) -> None:
    child.receiving.close()
    child.process.join(ending)
    if child.process.is_alive():
        child.process.kill()
        child.process.join()


def _merged(parts: Iterable[Files]) -> Files:
    files: Files = {}
    for part in parts:
        files.update(part)
    return files


def _cores() -> int:
    """The cores this process may run on: a container's CPU set, not the machine's (a CPU
    quota such as docker's --cpus does not show here: its processes take turns)."""
    return len(os.sched_getaffinity(0))  # Linux's, where FORKS
