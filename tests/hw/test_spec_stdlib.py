"""`mmsched.hw.spec` is the dependency-free contract: its modules import only the standard
library and each other (the RTL, the twins, the cocotb scoreboards and the policies all import
it)."""

import ast
import sys
from pathlib import Path

import mmsched.hw.spec as spec


def test_spec_imports_only_the_standard_library():
    folder = Path(spec.__file__).parent
    bad = []
    for f in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            bad += [f"{f.name}: {n}" for n in names
                    if n.split(".")[0] not in sys.stdlib_module_names]
    assert not bad
