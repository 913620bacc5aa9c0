"""Wall and CPU seconds of a step, side by side: on a shared machine other work stretches the
wall clock far more than the CPU time, so a figure compared across runs is compared on both.
CPU is user + sys of this process, every thread of it (DuckDB's), and of the processes it
waited for (those a large site's pages are drawn in, statusgen/site/parallel.py)."""

from __future__ import annotations

import os
import time


def _cpu_seconds() -> float:
    spent = os.times()
    return spent.user + spent.system + spent.children_user + spent.children_system


class Clock:
    """`with Clock() as took:` … then `took.wall` and `took.cpu`, in seconds."""

    wall = cpu = 0.0

    def __enter__(self) -> Clock:
        self._wall, self._cpu = time.perf_counter(), _cpu_seconds()
        return self

    def __exit__(self, *exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self._wall, _cpu_seconds() - self._cpu

    def __str__(self) -> str:
        return f"{self.wall:.2f} s (CPU {self.cpu:.2f} s)"
