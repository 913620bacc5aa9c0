"""Run every benchmark, print each figure beside its floor, and write them to bench/README.md."""

import os
import platform
from datetime import datetime, timezone
from pathlib import Path

from bench import collection, history_scale, page_weight


def report() -> list[str]:
    lines = [f"collection: the airflow collector against a local Airflow-shaped API answering after {collection.LATENCY * 1000:.0f} ms",
             f"{'workers':>8} {'connections':>11} {'DAGs each':>9} {'wall s':>7} {'floor s':>8} {'ratio':>6} {'requests/conn':>14}"]
    for row in collection.run():
        lines.append(f"{row['workers']:>8} {row['connections']:>11} {row['dags']:>9} {row['wall_s']:>7.2f} {row['floor_s']:>8.2f} "
                     f"{row['wall_s'] / row['floor_s']:>6.1f} {row['requests_per_connection']:>14.0f}")
    print("\n".join(lines), flush=True)
    lines += ["", "page weight: index.html, 90 days per bar (budget: 60 KB gzipped at 200 components)",
              f"{'components':>10} {'raw KB':>9} {'gzip KB':>9} {'floor gzip KB':>14} {'elements':>9} {'external':>9} {'largest page gzip KB':>21}"]
    for row in page_weight.run():
        lines.append(f"{row['components']:>10} {row['raw_kb']:>9.0f} {row['gzip_kb']:>9.1f} {row['floor_gzip_kb']:>14.1f} "
                     f"{row['elements']:>9} {row['external_requests']:>9} {row['largest_page_gzip_kb']:>21.1f}")
    print("\n".join(lines[-4:]), flush=True)
    row = history_scale.run(1000, 90)
    lines += ["", "history at scale: an observation every 5 minutes, a run every hour (floor: DuckDB's raw GROUP BY source, day)",
              f"{row['sources']} sources × {row['days']} days: {row['observations']:,} observations, "
              f"{row['bytes_per_observation']:.2f} bytes each on disk (target ≤ 16)",
              f"full render {row['render_s']:.1f} s, floor {row['floor_s']:.2f} s, ratio {row['ratio']:.0f}× (target ≤ 2×); "
              f"peak RSS {row['peak_rss_mb']:.0f} MB (target ≤ 1,024)"]
    print("\n".join(lines[-4:]), flush=True)
    return lines


def main() -> None:
    lines = report()
    machine = f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    text = ["# Benchmarks", "", "Written by `python -m bench` (run it from the repository's root).", "",
            f"Last run: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {machine}.", "", "```", *lines, "```", ""]
    (Path(__file__).parent / "README.md").write_text("\n".join(text))


if __name__ == "__main__":
    main()
