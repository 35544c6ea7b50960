"""The one spec module: configurations, fixed-point formats, command and record layouts.

No Amaranth import: the RTL, its Python models, the cocotb scoreboards and the policies all
import this module, so no constant or bit offset is written twice.

Sections: (1) the sparse systolic accelerator; (2) the Dysta hardware scheduler.
"""

from __future__ import annotations

# --- (1) Sparse systolic accelerator -----------------------------------------------------------

# --- (2) Dysta hardware scheduler ---------------------------------------------------------------
