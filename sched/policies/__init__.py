"""Built-in policies, one module each; importing this package registers them all.

Every public module of this package is imported (``_``-prefixed ones are private helpers), so
a new policy is one file with one ``@register`` line.
"""

import importlib
import pkgutil

for _mod in pkgutil.iter_modules(__path__):
    if not _mod.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_mod.name}")
