"""Run every benchmark, print each figure beside its floor, and write them to bench/README.md."""

import os
import platform
from datetime import datetime, timezone
from pathlib import Path

from bench import collection, demo, history_scale, page_weight


def report() -> list[str]:
    lines = [f"collection: the airflow collector against a local Airflow-shaped API answering after {collection.LATENCY * 1000:.0f} ms",
             f"{'workers':>8} {'connections':>11} {'DAGs each':>9} {'wall s':>7} {'CPU s':>6} {'floor s':>8} {'ratio':>6} {'requests/conn':>14}"]
    for row in collection.run():
        lines.append(f"{row['workers']:>8} {row['connections']:>11} {row['dags']:>9} {row['wall_s']:>7.2f} {row['cpu_s']:>6.2f} {row['floor_s']:>8.2f} "
                     f"{row['wall_s'] / row['floor_s']:>6.1f} {row['requests_per_connection']:>14.0f}")
    print("\n".join(lines), flush=True)
    lines += ["", "page weight: index.html, 90 days per bar (budget: 60 KB gzipped at 200 components)",
              f"{'components':>10} {'raw KB':>9} {'gzip KB':>9} {'floor gzip KB':>14} {'elements':>9} {'tab stops':>9} {'external':>9} {'largest page gzip KB':>21}"]
    for row in page_weight.run():
        lines.append(f"{row['components']:>10} {row['raw_kb']:>9.0f} {row['gzip_kb']:>9.1f} {row['floor_gzip_kb']:>14.1f} "
                     f"{row['elements']:>9} {row['tab_stops']:>9} {row['external_requests']:>9} {row['largest_page_gzip_kb']:>21.1f}")
    print("\n".join(lines[-4:]), flush=True)
    row = history_scale.run(1000, 90)
    first, files_before, files_after, steady = row["compaction"]
    retention, kept_before, kept_after = row["retention"]
    section = ["", "history at scale: an observation every 5 minutes, a run every hour (floor: DuckDB's raw GROUP BY source, day)",
               f"{row['sources']} sources × {row['days']} days: {row['observations']:,} observations, "
               f"{row['bytes_per_observation']:.2f} bytes each on disk after compaction (target ≤ 16)",
               f"full render {row['render']}, floor {row['floor']}, "
               f"ratio {row['render'].wall / row['floor'].wall:.0f}×, CPU {row['render'].cpu / row['floor'].cpu:.0f}× (target ≤ 2×)",
               f"incremental render after one more collection {row['incremental']}, "
               f"ratio {row['incremental'].wall / row['floor'].wall:.0f}× the same floor (target ≤ 3 s); "
               f"of a render, the daily rollups of 1,200 bars take {row['rollups']}",
               f"a collection's statuses from the timeline (what its lines and --fail-on say): {row['collect_statuses']}",
               f"peak RSS {row['peak_rss_mb']:.0f} MB (target ≤ 1,024)",
               "where a render's CPU time goes (cProfile, CPU seconds in the function and below):",
               *[f"  {seconds:6.2f} s  {name}" for name, seconds in row["profile"]],
               "",
               "compaction and retention on that history",
               f"compaction merging yesterday's parts, writing 90 days of digests, the latest file and the repeated runs' file: {first}, "
               f"{files_before:,} files → {files_after:,}; the next one, with nothing to do: {steady}",
               f"retention down to 30 days: {retention}, {kept_before:,} files → {kept_after:,}"]
    print("\n".join(section), flush=True)
    lines += section
    row = demo.run()
    section = ["", f"demo: statusgen demo over {row['days']} days, best of 3 (target: under 10 s wall on 2 cores; floor: "
                   "statusgen render of the history it leaves, a full render)",
               f"{'':>5} {'wall s':>7} {'CPU s':>6}",
               f"{'demo':>5} {row['wall_s']:>7.1f} {row['cpu_s']:>6.1f}",
               f"{'floor':>5} {row['floor_wall_s']:>7.1f} {row['floor_cpu_s']:>6.1f}",
               f"{'ratio':>5} {row['wall_s'] / row['floor_wall_s']:>7.1f} {row['cpu_s'] / row['floor_cpu_s']:>6.1f}"]
    print("\n".join(section), flush=True)
    lines += section
    return lines


TABLE_START, TABLE_END = "<!-- figures: written by python -m bench -->", "<!-- end of figures -->"


def main() -> None:
    lines = report()
    machine = f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    table = "\n".join([TABLE_START, f"Last run: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {machine}.", "",
                       "```", *lines, "```", TABLE_END])
    # Only the figures are replaced: the notes around them are written by people.
    readme = Path(__file__).parent / "README.md"
    text = readme.read_text() if readme.exists() else f"# Benchmarks\n\n{TABLE_START}\n{TABLE_END}\n"
    before, _, rest = text.partition(TABLE_START)
    _, _, after = rest.partition(TABLE_END)
    readme.write_text(before + table + after)


if __name__ == "__main__":
    main()
