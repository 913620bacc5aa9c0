"""Wall and CPU seconds of a step, side by side: on a shared machine other work stretches the
wall clock far more than the CPU time (user + sys of this process, every thread of it,
DuckDB's included), so a figure compared across runs is compared on both."""

from __future__ import annotations

import time


class Clock:
    """`with Clock() as took:` … then `took.wall` and `took.cpu`, in seconds."""

    wall = cpu = 0.0

    def __enter__(self) -> Clock:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self._wall, time.process_time() - self._cpu

    def __str__(self) -> str:
        return f"{self.wall:.2f} s (CPU {self.cpu:.2f} s)"
