"""Run every benchmarks/bench_*.py module's main(), one after the other."""

import importlib
import pkgutil
import sys
from pathlib import Path

names = sorted(
    m.name
    for m in pkgutil.iter_modules([str(Path(__file__).parent)])
    if m.name.startswith("bench_")
)
only = sys.argv[1:]
for name in names:
    if only and name.removeprefix("bench_") not in only and name not in only:
        continue
    print(f"\n=== {name} ===")
    importlib.import_module(f"benchmarks.{name}").main()
