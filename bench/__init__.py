"""statusgen's benchmarks: `python -m bench` runs them and prints each figure beside its floor."""
