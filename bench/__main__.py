"""Run every benchmark and print its figures beside its floor: `python -m bench`."""

from bench import history_scale, page_weight


def main() -> None:
    print("page weight: index.html, 90 days per bar (budget: 60 KB gzipped at 200 components)")
    print(f"{'components':>10} {'raw KB':>9} {'gzip KB':>9} {'floor gzip KB':>14} {'elements':>9} {'external':>9} {'largest page gzip KB':>21}")
    for row in page_weight.run():
        print(f"{row['components']:>10} {row['raw_kb']:>9.0f} {row['gzip_kb']:>9.1f} {row['floor_gzip_kb']:>14.1f} "
              f"{row['elements']:>9} {row['external_requests']:>9} {row['largest_page_gzip_kb']:>21.1f}")


    print()
    print("history at scale: an observation every 5 minutes, a run every hour (floor: DuckDB's raw GROUP BY source, day)")
    row = history_scale.run(1000, 90)
    print(f"{row['sources']} sources × {row['days']} days: {row['observations']:,} observations, "
          f"{row['bytes_per_observation']:.2f} bytes each on disk (target ≤ 16)")
    print(f"full render {row['render_s']:.1f} s, floor {row['floor_s']:.2f} s, ratio {row['ratio']:.0f}× (target ≤ 2×); "
          f"peak RSS {row['peak_rss_mb']:.0f} MB (target ≤ 1,024)")


if __name__ == "__main__":
    main()
