"""An Icarus simulation under cocotb whose test serves a host over a UNIX socket.

The co-simulation sessions (`mmsched.sim.cosim.IcarusSession`,
`mmsched.sim.cosim_system.IcarusSystemSession`) build Verilog with the cocotb runner, start the
server test (``test_module``) in a thread and talk to it one line each way. This module is that
plumbing, written once: build, socket, thread, connect, and an orderly close that reports a
failure of the simulation.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import threading
import time
from pathlib import Path


class CocotbLink:
    """Build ``source`` for Icarus, run cocotb test ``test_module`` on ``toplevel`` in a thread
    and connect to it over a UNIX socket (path passed in ``$MMSCHED_COSIM_SOCKET``).

    Parameters
    ----------
    source : Path
        The Verilog file (already written).
    toplevel, test_module : str
    build : Path
        The Icarus build folder; ``sim.log`` and ``results.xml`` go there.
    waves : bool
        Ask cocotb for a waveform of the whole session (``dump.fst`` in ``build``).
    timeout_s : float
        How long to wait for the simulator to connect (RuntimeError then).

    Attributes
    ----------
    file : binary file
        The connection (``readline``/``write``/``flush``).
    """

    def __init__(self, source: Path, *, toplevel: str, test_module: str, build: Path,
                 waves: bool = False, timeout_s: float = 120.0) -> None:
        from cocotb_tools.runner import get_runner

        runner = get_runner("icarus")
        runner.build(sources=[source], hdl_toplevel=toplevel, build_dir=build,
                     timescale=("1ns", "1ps"), always=True, waves=waves)
        self.build = build
        self.errors: list[BaseException] = []
        # a short socket path (UNIX socket paths are limited to ~100 bytes)
        self._sock_dir = tempfile.mkdtemp(prefix="mmsched-cocotb-")
        path = os.path.join(self._sock_dir, "s")
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(path)
        srv.listen(1)
        srv.settimeout(1.0)

        def run() -> None:
            try:
                runner.test(hdl_toplevel=toplevel, test_module=test_module, build_dir=build,
                            test_dir=build, waves=waves, results_xml=str(build / "results.xml"),
                            log_file=build / "sim.log", extra_env={"MMSCHED_COSIM_SOCKET": path})
            except BaseException as e:  # reported by close() or a closed connection
                self.errors.append(e)

        self._thread = threading.Thread(target=run, name=f"icarus-{toplevel}", daemon=True)
        self._thread.start()
        start = time.monotonic()
        while True:
            try:
                conn, _ = srv.accept()
                break
            except TimeoutError:
                if not self._thread.is_alive() or time.monotonic() - start > timeout_s:
                    srv.close()
                    raise RuntimeError(f"the Icarus simulation did not connect "
                                       f"({self.errors or 'timeout'}); see {build}") from None
        srv.close()
        conn.settimeout(None)
        self._conn = conn
        self.file = conn.makefile("rwb")

    def closed_error(self) -> RuntimeError:
        """The error for a connection the simulation closed."""
        return RuntimeError(f"the Icarus simulation closed the connection "
                            f"({self.errors or 'see ' + str(self.build / 'sim.log')})")

    def close(self, quit_line: bytes) -> None:
        """Send ``quit_line``, close, wait for the simulation; RuntimeError if it failed."""
        try:
            self.file.write(quit_line)
            self.file.flush()
        except OSError:
            pass
        self.file.close()
        self._conn.close()
        self._thread.join(timeout=120)
        with contextlib.suppress(OSError):
            os.rmdir(self._sock_dir)
        if self.errors:
            raise RuntimeError(f"the Icarus simulation failed: {self.errors[0]}")
