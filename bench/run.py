"""Run every benchmark module ``bench/bench_*.py`` (each has ``main() -> None``), or the ones
named on the command line (``python bench/run.py engine accel``).

Run as a script, never as ``python -m`` from the repo root: the root must stay off ``sys.path``
(``sched/`` would shadow the standard library's ``sched``). Benchmarks print medians and the
ratios a comparison needs, measured in one run.
"""

import importlib
import pkgutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    names = sorted(m.name for m in pkgutil.iter_modules([str(HERE)])
                   if m.name.startswith("bench_"))
    if argv:
        wanted = {f"bench_{a.removeprefix('bench_')}" for a in argv}
        unknown = wanted - set(names)
        if unknown:
            print(f"unknown benchmark(s) {sorted(unknown)}; known: {names}", file=sys.stderr)
            return 2
        names = [n for n in names if n in wanted]
    for name in names:
        print(f"== {name}", flush=True)
        t0 = time.perf_counter()
        importlib.import_module(name).main()
        print(f"== {name}: {time.perf_counter() - t0:.1f} s wall\n", flush=True)
    return 0


if __name__ == "__main__":  # worker processes started by spawn (Dask) import this file again
    raise SystemExit(main(sys.argv[1:]))
