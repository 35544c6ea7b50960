"""Gamma predictors: the sparsity ratio that scales a request's static latency estimate.

Dysta (MICRO'23, arXiv 2310.11096, section 4.2) monitors the input-activation density ``d`` of
every executed layer and predicts the remaining latency as ``gamma x`` the static estimate,
with ``gamma`` built from the ratios ``r_j = d_meas_j / d_avg_j`` of the executed layers
(``d_avg``: the static table's mean density of that layer):

- ``"avg"``: the mean of all ratios so far (the artifact's software simulator);
- ``"last-one"``: the ratio of the last executed layer (the artifact's RTL, lowest RMSE
  according to its ``dysta_lat_pred.py``).

``gamma == 1`` before the first layer. The mean is a running left-to-right sum divided by
the count, which equals the artifact's ``sum(list) / len(list)`` bit for bit.
"""

from __future__ import annotations

PREDICTORS = ("avg", "last-one")


def check_predictor(name: str) -> str:
    """Return ``name`` if it is a known predictor, else raise ValueError listing them."""
    if name not in PREDICTORS:
        raise ValueError(f"gamma predictor must be one of {PREDICTORS}, not {name!r}")
    return name


class Gamma:
    """Running gamma of one request (``update`` per executed layer, read ``value``)."""

    __slots__ = ("_last_one", "_sum", "count", "value")

    def __init__(self, predictor: str = "avg") -> None:
        self._last_one = check_predictor(predictor) == "last-one"
        self._sum = 0.0
        self.count = 0
        self.value = 1.0

    def update(self, density_measured: float, density_avg: float) -> float:
        """Add one executed layer; returns the new gamma. A zero average density gives a
        ratio of 1 (no information)."""
        ratio = density_measured / density_avg if density_avg else 1.0
        self.count += 1
        if self._last_one:
            self.value = ratio
        else:
            self._sum += ratio
            self.value = self._sum / self.count
        return self.value


def observe(state, density_measured: float, density_avg: float, last_one: bool) -> None:
    """`Gamma.update` on a policy's per-request state (an object with ``g``, ``gsum`` and
    ``gn``), for the policies that keep gamma beside their other per-request fields."""
    ratio = density_measured / density_avg if density_avg else 1.0
    if last_one:
        state.g = ratio
    else:
        state.gsum += ratio
        state.gn += 1
        state.g = state.gsum / state.gn
