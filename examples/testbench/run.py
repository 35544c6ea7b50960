"""The example testbench through cocotb's Python runner (Icarus Verilog by default):

    mmsched verilog accelerator --rows 4 --cols 4 -o build   # or: mmsched verilog scheduler
    python run.py build/accelerator.v

The argument is the .v file ``mmsched verilog`` wrote (its configuration JSON is read from
beside it); the top module is the file's stem. Prints the count of failed tests and exits 1 when
a test failed. TB_SEED, TB_COUNT and TB_EXPECT_OFFSET in the environment pass through to the
test (see test_mmsched.py).
"""

import argparse
import sys
from pathlib import Path

from cocotb_tools.runner import get_results, get_runner

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("verilog", type=Path, help="the .v file mmsched verilog wrote")
    p.add_argument("--sim", default="icarus", help="cocotb simulator (default icarus)")
    p.add_argument("--build-dir", type=Path,
                   help="simulator build and results (default: sim_build_<sim> beside the .v)")
    args = p.parse_args(argv)
    verilog = args.verilog.resolve()
    config = verilog.with_suffix(".json")
    if not verilog.is_file() or not config.is_file():
        p.error(f"{verilog} and its configuration {config.name} must exist "
                f"(write them with mmsched verilog)")
    build = (args.build_dir or verilog.parent / f"sim_build_{args.sim}").resolve()
    top = verilog.stem
    sys.path.insert(0, str(HERE))  # the runner passes sys.path on: finds test_mmsched
    runner = get_runner(args.sim)
    runner.build(sources=[verilog], hdl_toplevel=top, build_dir=build, always=True,
                 timescale=("1ns", "1ps"))  # Amaranth writes no `timescale
    xml = runner.test(hdl_toplevel=top, test_module="test_mmsched", build_dir=build,
                      test_dir=build, results_xml=str(build / "results.xml"),
                      extra_env={"MMSCHED_TB_CONFIG": str(config)})
    tests, failed = get_results(xml)
    print(f"{tests} tests (a test of the other kind of top skips itself), {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
