"""The Dysta attention benchmark (AttNN) models as GEMM layer lists.

Per transformer layer: the Q, K, V projections, per-head ``Q K^T`` and ``P V`` (``groups`` =
heads, real dimensions: ``d_head = d_model / heads``), the output projection and the FFN
(``fc1``, GELU, ``fc2``). Embeddings, LayerNorm, softmax and the LM head are not listed (no
GEMM on the accelerator in Dysta's AttNN benchmark, which simulates the encoder/decoder layers).
Dynamic sparsity (``act_sparse=True``) sits on the attention probabilities (``attn_pv`` input,
Sanger-style pruning) and on the GELU output (``fc2`` input); the other inputs are dense.
"""

from __future__ import annotations

from ..model import Layer
from . import register
from ._layers import attention, ffn

BERT_BASE = {"layers": 12, "d_model": 768, "heads": 12, "d_ff": 3072}
"""Devlin et al. NAACL 2019: BERT-base L=12, H=768, A=12 (FFN 4H)."""
GPT2_SMALL = {"layers": 12, "d_model": 768, "heads": 12, "d_ff": 3072}
"""Radford et al. 2019 (GPT-2 "small", 124M parameters): 12 layers, 768, 12 heads."""
BART_BASE = {"enc_layers": 6, "dec_layers": 6, "d_model": 768, "heads": 12, "d_ff": 3072}
"""Lewis et al. ACL 2020 / Hugging Face facebook/bart-base config: 6+6 layers, 768, 12 heads."""


def _encoder_stack(prefix: str, seq: int, layers: int, d_model: int, heads: int,
                   d_ff: int) -> list[Layer]:
    out: list[Layer] = []
    for i in range(layers):
        out += attention(f"{prefix}{i}.attn", seq, seq, d_model, heads)
        out += ffn(f"{prefix}{i}.ffn", seq, d_model, d_ff)
    return out


@register("bert", family="attention", engine="sanger_like", input="sequence 384",
          published_macs=None,
          macs_source="at sequence 128 (bert_base(seq=128)): MobileBERT (Sun et al. ACL 2020) "
                      "Table 4, BERT-base 22.5 GFLOPs = 11.25 GMACs; parameters: 110M "
                      "(Devlin et al.)")
def bert(seq: int = 384) -> tuple[Layer, ...]:
    """BERT-base encoder (12 layers) at sequence ``seq`` (Dysta: 384, SQuAD)."""
    c = BERT_BASE
    return tuple(_encoder_stack("layer", seq, c["layers"], c["d_model"], c["heads"], c["d_ff"]))


@register("gpt2", family="attention", engine="sanger_like", input="sequence 128",
          published_macs=11.02e9,
          macs_source="Kaplan et al. 2020 (arXiv 2001.08361) Table 1: forward FLOPs per token "
                      "2N + 2 n_layer n_ctx d_model with N = 12 n_layer d_model^2 = 84.9M "
                      "(GPT-2 small), n_ctx = 128: 22.04 GFLOPs per 128 tokens; Kaplan counts the "
                      "attention-logit GEMM once, we list both QK^T and PV (+0.15 GMACs)")
def gpt2(seq: int = 128) -> tuple[Layer, ...]:
    """GPT-2 small (12 decoder layers, causal self-attention) at sequence ``seq``."""
    c = GPT2_SMALL
    return tuple(_encoder_stack("h", seq, c["layers"], c["d_model"], c["heads"], c["d_ff"]))


@register("bart", family="attention", engine="sanger_like", input="sequence 128",
          published_macs=None,
          macs_source="parameters: 140M (facebook/bart-base; Lewis et al. ACL 2020), checked "
                      "as GEMM weights + token/position embeddings")
def bart(seq: int = 128) -> tuple[Layer, ...]:
    """BART-base: 6 encoder layers then 6 decoder layers (self-attention, cross-attention over
    the encoder output, FFN), source and target both ``seq`` tokens."""
    c = BART_BASE
    d, h, f = c["d_model"], c["heads"], c["d_ff"]
    out = _encoder_stack("encoder", seq, c["enc_layers"], d, h, f)
    for i in range(c["dec_layers"]):
        out += attention(f"decoder{i}.self", seq, seq, d, h)
        out += attention(f"decoder{i}.cross", seq, seq, d, h)
        out += ffn(f"decoder{i}.ffn", seq, d, f)
    return tuple(out)
