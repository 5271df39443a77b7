"""Benchmarks: `python -m benchmarks` runs them all; each bench_*.py also runs alone."""
