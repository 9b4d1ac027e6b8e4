"""What each peer tool counts for the layer kinds of transformer-style models (ConvNeXt, ViT,
Swin, MaxViT), kept apart from :mod:`symconv.networks.conventions` and merged into its peers'
rules: :data:`RULES`, by peer, then kind, ``(count, reason)``.

Each rule was checked against the real tool on small models and on torchvision's
(``tests/test_transformer_peers.py``, ``benchmarks/torchvision_sweep.py``).

Examples
--------
>>> sorted(RULES)
['fvcore', 'ptflops', 'thop', 'torch', 'torchinfo']
>>> RULES["fvcore"]["F.layernorm"][1]
'aten::layer_norm: norm_flop_counter(2), 5 per input element with affine, 4 without'
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import sympy

from symconv.networks.rows import LayerRow

__all__ = ["RULES"]

_Count = Callable[[LayerRow], sympy.Expr]


def _zero(row: LayerRow) -> sympy.Expr:
    return sympy.Integer(0)


def _elements_in(row: LayerRow) -> sympy.Expr:
    return sympy.Mul(*row.input_shape)


def _norm(with_affine: int, without: int) -> _Count:
    def count(row: LayerRow) -> sympy.Expr:
        return _elements_in(row) * (with_affine if row.params != 0 else without)
    return count


def _params(row: LayerRow) -> sympy.Expr:
    return row.params


def _mults(row: LayerRow) -> sympy.Expr:
    return row.mults


def _twice_mults(row: LayerRow) -> sympy.Expr:
    return 2 * row.mults


def _elements_out(row: LayerRow) -> sympy.Expr:
    return sympy.Mul(*row.output_shape)


def _mults_and_bias(row: LayerRow) -> sympy.Expr:
    """A projection's mults plus its bias additions (read back: a dot product of E terms has
    E mults and E − 1 adds)."""
    return sympy.expand(row.adds - row.mults + _elements_out(row) + row.mults)


def _einsum_path(row: LayerRow) -> sympy.Expr:
    """fvcore's count of a two-operand einsum: numpy's ``einsum_path`` prints its 'Optimized
    FLOP count' (``2·mults``, a multiply and an add per term) as ``%.3e``, which fvcore parses
    and halves, floored: ``mults`` to four significant digits. Exact only at a concrete shape."""
    if not isinstance(row.mults, sympy.Integer):
        from symconv.errors import SymconvError

        raise SymconvError(f"convention 'fvcore': layer {row.name} (einsum): fvcore rounds an "
                           "einsum's count to four significant digits (numpy's einsum_path "
                           "prints it as %.3e), which no formula follows; count at a concrete "
                           "input shape")
    printed = Fraction(f"{2 * int(row.mults):.3e}")
    return sympy.Integer(math.floor(printed / 2))


def _mults_and_outputs(row: LayerRow) -> sympy.Expr:
    return row.mults + _elements_out(row)


#: The stages of an attention (symconv.layers.attention), fused or not.
_PROJECTIONS = ("attention.in_proj", "attention.out_proj")
_FUSED = tuple(f"{kind}:fused" for kind in _PROJECTIONS)
_PRODUCTS = ("attention.scale", "attention.scores", "attention.softmax", "attention.context")
_ATTENTION = (*_PROJECTIONS, *_FUSED, *_PRODUCTS)


#: Reshapes, selections, a class token, added tensors not computed from the input, a cyclic
#: shift and a strided view.
_TOKENS = ("reshape", "rearrange", "select", "classtoken", "addparameter", "addconstant",
           "roll", "strided")


#: Swin V2's cosine attention: F.normalize, a broadcast product with a tensor not computed
#: from the input (the logit scale), and the start of a branch on a constant table.
_COSINE = ("normalize", "mulconstant", "mulparameter", "constant")


#: A parameter chain's stages (symconv.layers.learned): a parameter handed on, and steps a
#: compiler folds at inference (before this, no stage at all: a constant of the model).
_CHAIN = ("parameter", "folded")


def _each(kinds: tuple[str, ...], count: _Count, reason: str) -> dict[str, tuple[_Count, str]]:
    return {kind: (count, reason) for kind in kinds}


#: peer -> kind -> (count, reason).
RULES: dict[str, dict[str, tuple[_Count, str]]] = {
    "ptflops": {
        **_each(_CHAIN, _zero, "torch.sigmoid, indexing, views, clamp and exp are not "
                "patched; a parameter is no call: 0"),
        "matmul": (_zero, "a @ b calls Tensor.__matmul__, which is not patched: 0"),
        "torch.matmul": (_mults, "patched torch.matmul / Tensor.matmul / torch.bmm "
                         "(_matmul_tensor_flops_hook): prod(a's shape)·b's last size"),
        "F.softmax": (_elements_in, "patched F.softmax (_numel_functional_flops_hook): 1 per "
                      "input element"),
        "torch.softmax": (_zero, "x.softmax / torch.softmax are not patched: 0"),
        "einsum": (_zero, "torch.einsum is not patched: 0"),
        "mulscalar": (_zero, "x * 0.5 calls Tensor.__mul__, which is not patched: 0"),
        **_each(_COSINE, _zero, "F.normalize and Tensor.__mul__ are not patched; a constant is "
                "no call: 0"),
        "F.linear": (_zero, "FUNCTIONAL_MAPPING has a hook for F.linear, but patch_functional "
                     "leaves F.linear unpatched (its line is commented out): 0"),
        **_each(_TOKENS, _zero, "reshape, view, permute, indexing, torch.cat and a + b (Tensor.__add__) are not patched: 0"),
        "F.layernorm": (_zero, "F.layer_norm is not in FUNCTIONAL_MAPPING, and the module that "
                        "calls it (torchvision's LayerNorm2d, a subclass) is not nn.LayerNorm "
                        "itself: MODULES_MAPPING is looked up by exact type: 0"),
        **_each(("attention.in_proj", "attention.in_proj:fused"), _mults_and_bias,
                "multihead_attention_counter_hook: QW, KW, VW (3·L·E²) plus (3·L)·E for "
                "in_proj_bias"),
        **_each(("attention.out_proj", "attention.out_proj:fused"), _mults_and_outputs,
                "multihead_attention_counter_hook: L·E·(E + 1), 'bias is always enabled' "
                "(counted with or without one)"),
        "attention.scale": (_mults, "multihead_attention_counter_hook: Q scaling, L·E"),
        "attention.scores": (_mults, "multihead_attention_counter_hook: QK^T, h·L·L·D"),
        "attention.softmax": (_elements_in, "multihead_attention_counter_hook: softmax, h·L·L"),
        "attention.context": (_mults, "multihead_attention_counter_hook: AV, h·L·L·D"),
    },
    "thop": {
        **_each(_CHAIN, _zero, "not modules: 0"),
        **_each(("matmul", "torch.matmul", "einsum", "F.softmax", "torch.softmax", "mulscalar"),
                _zero, "functions and tensor arithmetic, not modules: 0"),
        **_each(_TOKENS, _zero, "not modules: 0"),
        "F.linear": (_zero, "a function, not a module: 0"),
        **_each(_COSINE, _zero, "not modules: 0"),
        "F.layernorm": (_zero, "a function, and register_hooks is looked up by exact type "
                        "(LayerNorm2d is not nn.LayerNorm): 0"),
        **_each(_ATTENTION, _zero, "no rule for nn.MultiheadAttention in register_hooks, and "
                "its out_proj (NonDynamicallyQuantizableLinear) is not nn.Linear by exact type "
                "(nor called: the attention reads its weight): 0"),
    },
    "fvcore": {
        **_each(_CHAIN, _zero, "aten::index, view, permute, sigmoid, mul, clamp and exp "
                "have no handle: 0"),
        **_each(("matmul", "torch.matmul"), _mults, "aten::matmul / aten::bmm: "
                "matmul_flop_jit / bmm_flop_jit, prod(a's shape)·b's last size"),
        **_each(("F.softmax", "torch.softmax", "mulscalar"), _zero, "aten::softmax and "
                "aten::mul have no handle: 0"),
        "einsum": (_einsum_path, "aten::einsum: einsum_flop_jit parses numpy's einsum_path "
                   "'Optimized FLOP count' (2 per multiply-add, printed as %.3e) and halves it, "
                   "floored: mults to four significant digits"),
        **_each(_TOKENS, _zero, "aten::view / reshape / permute / select / slice / roll / cat "
                "/ add have no handle: 0"),
        **_each(_COSINE, _zero, "aten::linalg_vector_norm, clamp_min, div and mul have no "
                "handle: 0"),
        "F.linear": (_mults, "aten::linear: linear_flop_jit, in·out per position, bias "
                     "ignored"),
        "F.layernorm": (_norm(5, 4), "aten::layer_norm: norm_flop_counter(2), 5 per input "
                        "element with affine, 4 without"),
        **_each((*_PROJECTIONS, *_FUSED), _mults, "traced with gradients enabled, "
                "nn.MultiheadAttention takes F.multi_head_attention_forward (never the fused "
                "kernel): aten::linear, linear_flop_jit, bias ignored"),
        **_each(_PRODUCTS, _zero, "F.multi_head_attention_forward (need_weights=False) calls "
                "aten::scaled_dot_product_attention, which has no handle: 0"),
    },
    "torch": {
        **_each(_CHAIN, _zero, "no formula for aten.index, sigmoid, mul, clamp, exp "
                "(forward or backward): 0"),
        **_each(("matmul", "torch.matmul", "einsum"), _twice_mults, "bmm_flop / mm_flop (einsum "
                "runs as aten.bmm): 2 per multiply-add"),
        **_each(("F.softmax", "torch.softmax", "mulscalar"), _zero, "no formula: 0"),
        **_each(_TOKENS, _zero, "no formula for these aten ops: 0"),
        **_each(_COSINE, _zero, "no formula for these aten ops: 0"),
        "F.linear": (_twice_mults, "aten.addmm / aten.mm: 2 per multiply-add, bias ignored"),
        "F.layernorm": (_zero, "no formula for aten.native_layer_norm: 0"),
        **_each((*_PROJECTIONS, *_FUSED), _twice_mults, "FlopCounterMode as its documentation "
                "runs it, gradients enabled: nn.MultiheadAttention takes "
                "F.multi_head_attention_forward, never the fused kernel (which has no formula), "
                "and its linear: addmm_flop / mm_flop, 2·mults, bias ignored"),
        **_each(_PRODUCTS, _zero, "aten._scaled_dot_product_flash_attention_for_cpu has no "
                "formula: 0"),
    },
    "torchinfo": {
        **_each(_CHAIN, _zero, "not modules; a parameter of a module that is no leaf (the "
                "attention) is not counted per call: 0"),
        **_each(("matmul", "torch.matmul", "einsum", "F.softmax", "torch.softmax", "mulscalar"),
                _zero, "not modules: 0"),
        **_each(_TOKENS, _zero, "not modules; a class token or position embedding is a "
                "parameter of a module that is no leaf (VisionTransformer, its Encoder): 0"),
        **_each(_COSINE, _zero, "not modules: 0"),
        "F.linear": (_zero, "a function: the modules whose weights it reads (Swin's qkv and "
                     "proj) never run: 0"),
        "F.layernorm": (_params, "calculate_macs of the leaf module that owns the weight and "
                        "bias F.layer_norm is called with (torchvision's LayerNorm2d): its "
                        "parameters once per example"),
        **_each(_ATTENTION, _zero, "nn.MultiheadAttention is no leaf (it holds out_proj), "
                "and its out_proj never runs as a module (the attention reads its weight): 0"),
    },
}
