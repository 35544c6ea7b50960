"""Private helpers: convolution, fully connected and attention layers as `Layer` GEMMs.

A convolution over an ``h x w x c_in`` input with ``c_out`` filters of ``r x s`` is the im2col GEMM
``M = h_out * w_out`` (output pixels), ``N = c_out / groups`` (filters per group),
``K = c_in / groups * r * s``; a depthwise convolution is ``groups = c_in`` GEMMs with ``N = 1``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Layer


def conv_out(size: int, kernel: int, stride: int, pad: int) -> int:
    """Output size of a convolution along one axis (floor mode, as PyTorch)."""
    return (size + 2 * pad - kernel) // stride + 1


@dataclass
class Tracker:
    """Builds a layer list while tracking the feature-map shape ``(h, w, c)``."""

    h: int
    w: int
    c: int
    layers: list[Layer]

    @classmethod
    def image(cls, h: int, w: int, c: int = 3) -> Tracker:
        return cls(h, w, c, [])

    def conv(self, name: str, c_out: int, kernel: int, stride: int = 1, pad: int | None = None,
             groups: int = 1, act_sparse: bool = True, update: bool = True) -> tuple[int, int]:
        """Append a (grouped) convolution; returns the output ``(h, w)``.

        ``pad`` defaults to ``kernel // 2`` ("same" for odd kernels at stride 1).
        ``update=False`` appends the layer without moving the tracked shape (side branches such
        as a residual projection or a detection head).
        """
        pad = kernel // 2 if pad is None else pad
        h_out = conv_out(self.h, kernel, stride, pad)
        w_out = conv_out(self.w, kernel, stride, pad)
        if self.c % groups or c_out % groups:
            raise ValueError(f"{name}: channels {self.c}->{c_out} not divisible by {groups}")
        kind = "dwconv" if groups > 1 and groups == self.c else "conv"
        self.layers.append(Layer(name=name, kind=kind, m=h_out * w_out, n=c_out // groups,
                                 k=self.c // groups * kernel * kernel, groups=groups,
                                 act_sparse=act_sparse))
        if update:
            self.h, self.w, self.c = h_out, w_out, c_out
        return h_out, w_out

    def pool(self, kernel: int, stride: int, pad: int = 0, ceil: bool = False) -> None:
        """A pooling layer (no MACs): only the shape moves."""
        if ceil:
            def f(x: int) -> int:
                return -(-(x + 2 * pad - kernel) // stride) + 1
        else:
            def f(x: int) -> int:
                return conv_out(x, kernel, stride, pad)
        self.h, self.w = f(self.h), f(self.w)

    def global_pool(self) -> None:
        self.h = self.w = 1

    def fc(self, name: str, n_out: int, act_sparse: bool = True) -> None:
        """A fully connected layer on the flattened feature map (``M = 1``)."""
        self.layers.append(Layer(name=name, kind="fc", m=1, n=n_out, k=self.h * self.w * self.c,
                                 act_sparse=act_sparse))
        self.h, self.w, self.c = 1, 1, n_out


def linear(name: str, tokens: int, d_in: int, d_out: int, *, act_sparse: bool) -> Layer:
    """A token-wise linear layer: ``M = tokens``, ``K = d_in``, ``N = d_out``."""
    return Layer(name=name, kind="fc", m=tokens, n=d_out, k=d_in, act_sparse=act_sparse)


def attention(prefix: str, q_tokens: int, kv_tokens: int, d_model: int, heads: int, *,
              project_kv: bool = True) -> list[Layer]:
    """One multi-head attention block as GEMMs.

    Q/K/V projections, per-head ``Q K^T`` (``M = q_tokens``, ``K = d_head``,
    ``N = kv_tokens``, ``groups = heads``), per-head ``P V`` (``M = q_tokens``,
    ``K = kv_tokens``, ``N = d_head``) and the output projection. ``P`` carries the dynamic
    sparsity (attention probabilities pruned below a threshold, as Sanger does), so only the
    ``attn_pv`` layer has ``act_sparse=True``; projections see dense activations (LayerNorm
    outputs). ``project_kv=False`` omits the K/V projections (not used by the zoo: cross
    attention recomputes them from the encoder output, as BART does).
    """
    if d_model % heads:
        raise ValueError(f"{prefix}: d_model {d_model} not divisible by {heads} heads")
    d_head = d_model // heads
    out = [linear(f"{prefix}.q", q_tokens, d_model, d_model, act_sparse=False)]
    if project_kv:
        out += [linear(f"{prefix}.k", kv_tokens, d_model, d_model, act_sparse=False),
                linear(f"{prefix}.v", kv_tokens, d_model, d_model, act_sparse=False)]
    out += [
        Layer(name=f"{prefix}.qk", kind="attn_qk", m=q_tokens, n=kv_tokens, k=d_head,
              groups=heads, act_sparse=False),
        Layer(name=f"{prefix}.pv", kind="attn_pv", m=q_tokens, n=d_head, k=kv_tokens,
              groups=heads, act_sparse=True),
        linear(f"{prefix}.o", q_tokens, d_model, d_model, act_sparse=False),
    ]
    return out


def ffn(prefix: str, tokens: int, d_model: int, d_ff: int) -> list[Layer]:
    """The feed-forward block: ``fc1`` (dense LayerNorm input) then ``fc2``, whose input is
    the GELU output (near-zeros counted as sparsity)."""
    return [linear(f"{prefix}.fc1", tokens, d_model, d_ff, act_sparse=False),
            linear(f"{prefix}.fc2", tokens, d_ff, d_model, act_sparse=True)]
