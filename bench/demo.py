"""The demo: `statusgen demo` over its default 90 days, as a user runs it: a process of its own.

Figures: the wall time, and the CPU time of that process (user + sys), which other work on
a shared machine disturbs less than the wall clock; best of `repeat` runs. The floor is
what any demo pays however cheap its simulation: one full render of the 90 days of history
it leaves, by the command a scheduled job runs (`statusgen render`), also a process of its
own (so both include starting Python and importing statusgen).
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# On the hour: the demo renders at the hour of its --now, and the floor renders at the same.
NOW = "2026-11-22T10:00:00Z"


def _timed(args: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + sys) seconds of `statusgen ARGS` in a process of its own."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "statusgen", *args], check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def run(days: int = 90, repeat: int = 3) -> dict[str, float]:
    demo, floor = [], []
    with tempfile.TemporaryDirectory() as scratch:
        for attempt in range(repeat):
            work, site = Path(scratch, f"work{attempt}"), Path(scratch, f"site{attempt}")
            demo.append(_timed(["demo", "--days", str(days), "--now", NOW, "--workdir", str(work), "--out", str(site)]))
            # The demo's own render left the timeline cache: without it the floor is a full render, as the demo's is.
            shutil.rmtree(work / "history" / "cache", ignore_errors=True)
            floor.append(_timed(["render", "--config", str(work / "sources.yaml"), "--out", str(Path(scratch, f"render{attempt}")),
                                 "--now", NOW]))
    return {
        "days": days,
        "wall_s": min(wall for wall, _ in demo),
        "cpu_s": min(cpu for _, cpu in demo),
        "floor_wall_s": min(wall for wall, _ in floor),
        "floor_cpu_s": min(cpu for _, cpu in floor),
    }


if __name__ == "__main__":
    print(run())
