"""Models as lists of GEMM layers.

A convolution is its im2col GEMM: ``M`` = output pixels, ``N`` = output channels,
``K`` = input channels x kernel height x kernel width (per group). A depthwise or grouped
convolution is ``groups`` independent GEMMs of one shape; multi-head attention's ``QK^T`` and
``PV`` are one GEMM per head (``groups`` = heads). ``C[M, N] = A[M, K] . B[K, N]``: ``A`` holds
activations (dynamic sparsity), ``B`` weights (static pattern).
"""

from __future__ import annotations

from dataclasses import dataclass, field

LAYER_KINDS = ("conv", "dwconv", "fc", "matmul", "attn_qk", "attn_pv", "table")
"""``table``: a layer known only by its measured latency (Dysta artifact CSVs)."""


@dataclass(frozen=True, slots=True)
class Layer:
    """One layer as ``groups`` GEMMs of ``M x K`` by ``K x N``.

    Attributes
    ----------
    name : str
        Unique within its model.
    kind : str
        One of `LAYER_KINDS`.
    m, n, k : int
        GEMM dimensions of one group (0 for ``table`` layers).
    groups : int
        Independent GEMMs of this shape (depthwise channels, attention heads).
    weight_pattern : str
        Static weight pattern name (``dense``, ``unstructured``, ``nm2:4``, ``block4``...).
    weight_density : float
        Fraction of weights kept by the static pattern, in [0, 1].
    act_sparse : bool
        Whether the input activations carry dynamic sparsity (after ReLU, attention pruning).
    """

    name: str
    kind: str
    m: int
    n: int
    k: int
    groups: int = 1
    weight_pattern: str = "dense"
    weight_density: float = 1.0
    act_sparse: bool = True

    def __post_init__(self) -> None:
        if self.kind not in LAYER_KINDS:
            raise ValueError(f"layer {self.name!r}: kind must be one of {LAYER_KINDS}, "
                             f"not {self.kind!r}")
        for dim in ("m", "n", "k"):
            v = getattr(self, dim)
            if not isinstance(v, int) or v < 0 or (v == 0 and self.kind != "table"):
                raise ValueError(f"layer {self.name!r}: {dim} must be a positive integer, "
                                 f"not {v!r}")
        if not isinstance(self.groups, int) or self.groups < 1:
            raise ValueError(f"layer {self.name!r}: groups must be a positive integer, "
                             f"not {self.groups!r}")
        if not 0.0 <= self.weight_density <= 1.0:
            raise ValueError(f"layer {self.name!r}: weight_density must be in [0, 1], "
                             f"not {self.weight_density!r}")

    @property
    def macs(self) -> int:
        """Dense multiply-accumulates of the layer (all groups)."""
        return self.m * self.n * self.k * self.groups


@dataclass(frozen=True, slots=True)
class Model:
    """A DNN as an ordered tuple of layers, run one layer at a time.

    ``key`` identifies the (architecture, static pattern) pair the scheduler's static tables
    are indexed by, e.g. ``resnet50_unstructured20``; ``arch`` is the architecture alone
    (``resnet50``), the grouping of Dysta's architecture-level averages.

    Supernets (DREAM): ``variants`` are the keys of this model's sub-networks in the
    workload's model table, largest first; a policy may run a request of this model as one of
    them (`mmsched.sched.policy.Policy.variant`). ``accuracy`` (percent, the model's task
    metric) and ``accuracy_source`` (where the figure is published) describe the model or
    sub-network; a sub-network must state both.
    """

    key: str
    arch: str
    pattern: str
    layers: tuple[Layer, ...]
    variants: tuple[str, ...] = field(default=())
    accuracy: float | None = None
    accuracy_source: str = ""

    def __post_init__(self) -> None:
        if not self.layers:
            raise ValueError(f"model {self.key!r}: needs at least one layer")

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)
