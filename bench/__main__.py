"""Run every benchmark and print its figures beside its floor: `python -m bench`."""

from bench import page_weight


def main() -> None:
    print("page weight: index.html, 90 days per bar (budget: 60 KB gzipped at 200 components)")
    print(f"{'components':>10} {'raw KB':>9} {'gzip KB':>9} {'floor gzip KB':>14} {'elements':>9} {'external':>9} {'largest page gzip KB':>21}")
    for row in page_weight.run():
        print(f"{row['components']:>10} {row['raw_kb']:>9.0f} {row['gzip_kb']:>9.1f} {row['floor_gzip_kb']:>14.1f} "
              f"{row['elements']:>9} {row['external_requests']:>9} {row['largest_page_gzip_kb']:>21.1f}")


if __name__ == "__main__":
    main()
