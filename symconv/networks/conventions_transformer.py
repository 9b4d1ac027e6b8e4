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

from collections.abc import Callable

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


#: peer -> kind -> (count, reason).
RULES: dict[str, dict[str, tuple[_Count, str]]] = {
    "ptflops": {
        "F.layernorm": (_zero, "F.layer_norm is not in FUNCTIONAL_MAPPING, and the module that "
                        "calls it (torchvision's LayerNorm2d, a subclass) is not nn.LayerNorm "
                        "itself: MODULES_MAPPING is looked up by exact type: 0"),
    },
    "thop": {
        "F.layernorm": (_zero, "a function, and register_hooks is looked up by exact type "
                        "(LayerNorm2d is not nn.LayerNorm): 0"),
    },
    "fvcore": {
        "F.layernorm": (_norm(5, 4), "aten::layer_norm: norm_flop_counter(2), 5 per input "
                        "element with affine, 4 without"),
    },
    "torch": {
        "F.layernorm": (_zero, "no formula for aten.native_layer_norm: 0"),
    },
    "torchinfo": {
        "F.layernorm": (_params, "calculate_macs of the leaf module that owns the weight and "
                        "bias F.layer_norm is called with (torchvision's LayerNorm2d): its "
                        "parameters once per example"),
    },
}
