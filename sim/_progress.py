"""Progress bars of the ``mmsched`` commands: tqdm on stderr, only on a terminal by default.

Every step that can take more than a couple of seconds shows one bar saying what it is doing
(profiling a model on an accelerator, running the sweep), how far it is, how fast it goes and
the time left. The library reports progress through callbacks; only the commands create bars,
so scripted use stays silent and stdout stays the command's output.
"""

from __future__ import annotations

import sys
from collections.abc import Callable


def wanted(flag: bool | None) -> bool:
    """``--progress`` / ``--no-progress`` when given, else whether stderr is a terminal."""
    return flag if flag is not None else sys.stderr.isatty()


def bar(total: int, desc: str, unit: str, *, enabled: bool = True, position: int | None = None):
    """A tqdm bar on stderr (a disabled one, which prints nothing, when not ``enabled``);
    ``position``: its line among bars shown at once."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, disable=not enabled,
                dynamic_ncols=True, mininterval=0.25, smoothing=0.1, leave=True,
                position=position)


def counter(total: int, desc: str, unit: str, *,
            enabled: bool = True) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    """``(update, close)`` for a library callback ``update(done, total)`` (absolute counts)
    driving one bar; ``close()`` ends the bar's line. Nothing is imported when not
    ``enabled``."""
    if not enabled:
        return (lambda done, total_now: None), (lambda: None)
    b = bar(total, desc, unit, enabled=enabled)

    def update(done: int, total_now: int) -> None:
        if total_now != b.total:
            b.total = total_now
        b.update(done - b.n)

    return update, b.close
