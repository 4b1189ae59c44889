"""`make bench`: run every hack/bench_*.py benchmark and print its figures.

Benchmarks print measurements; they never assert on timings. A ``hack/bench_*.py`` module
without a ``main()`` is a helper of another benchmark and is not run on its own.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

ORDER = ["workqueue", "informer", "decode", "sync"]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    here = Path(__file__).resolve().parent
    found = sorted(p.stem.removeprefix("bench_") for p in here.glob("bench_*.py"))
    names = [n for n in ORDER if n in found] + [n for n in found if n not in ORDER]
    if args:
        names = [n for n in names if n in args]
    for name in names:
        module = importlib.import_module(f"hack.bench_{name}")
        if not callable(getattr(module, "main", None)):
            continue  # a helper module of another benchmark (e.g. bench_scale of bench_e2e)
        print(f"\n=== bench_{name} ===", flush=True)
        start = time.perf_counter()
        # Each benchmark parses its own command line; give it none of ours.
        sys.argv = [f"hack/bench_{name}.py"]
        module.main()
        print(f"(bench_{name} took {time.perf_counter() - start:.1f}s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
