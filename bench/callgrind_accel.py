"""Instructions per simulated cycle of the Verilated 16x16 accelerator (callgrind).

Run: ``python bench/callgrind_accel.py`` (needs valgrind; not part of ``bench/run.py``: it
takes a minute or two). A noisy, shared machine changes cycles per second from run to run;
the instruction count of the Verilated model per simulated cycle does not, so this is how
an RTL change's effect on Verilator's speed is compared (docs/results.md, "accel"). It
runs one GEMM (256x128x128 of `bench_accel`'s 16x16 array, 16,755 cycles) under callgrind
in a child process and prints the instructions of the model's library (libaccel.so: the
Verilated eval functions and the C harness) per simulated cycle, the eval functions that
take more than 5 % of them, and the total.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("ba", sys.argv[1])
ba = importlib.util.module_from_spec(spec); spec.loader.exec_module(ba)
from mmsched.sim.rtl.backend import run_gemm
from mmsched.sim.rtl.verilator import VerilatorDriver
drv = VerilatorDriver(ba.ARRAY_16)
act, wm, a, b = ba._gemm(ba.ARRAY_16, 256, 128, 128)
run_gemm(ba.ARRAY_16, drv, a, b)
print("cycles", drv.run_cycles)
"""


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    for tool in ("valgrind", "callgrind_annotate"):
        if shutil.which(tool) is None:
            print(f"error: {tool} not found (Debian package valgrind)", file=sys.stderr)
            return 2
    py = os.path.realpath(sys.executable)  # a pyenv shim would hide the interpreter
    # build (or find) the library outside callgrind first
    subprocess.run([py, "-c", "from mmsched.sim.rtl.build import verilator_library; "
                    f"import importlib.util as u; s = u.spec_from_file_location('ba', "
                    f"{str(HERE / 'bench_accel.py')!r}); m = u.module_from_spec(s); "
                    "s.loader.exec_module(m); verilator_library('accelerator', m.ARRAY_16)"],
                   check=True, cwd=tempfile.gettempdir())
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "callgrind.out"
        run = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                              py, "-c", CHILD, str(HERE / "bench_accel.py")],
                             capture_output=True, text=True, check=True, cwd=d)
        cycles = int(re.search(r"^cycles (\d+)", run.stdout, re.M).group(1))
        ann = subprocess.run(["callgrind_annotate", str(out)], capture_output=True,
                             text=True, check=True).stdout
    funcs = []
    for line in ann.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\([ \d.]+%\)\s+\S*?:(\S+?)(?:\(.*)?\s+\[(.*)\]\s*$", line)
        if m and m.group(3).endswith("libaccel.so"):
            funcs.append((int(m.group(1).replace(",", "")), m.group(2)))
    total = sum(n for n, _ in funcs)
    if not total:
        print("error: no instructions found in libaccel.so", file=sys.stderr)
        return 1
    print(f"Verilated 16x16 accelerator, GEMM 256x128x128 ({cycles:,d} cycles): "
          f"{total / cycles:,.0f} instructions per simulated cycle")
    for n, name in sorted(funcs, reverse=True):
        if n > 0.05 * total:
            print(f"  {n / cycles:10,.0f}  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
