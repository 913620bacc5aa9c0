"""statusgen's benchmarks: `python -m bench` runs them and prints their figures."""
