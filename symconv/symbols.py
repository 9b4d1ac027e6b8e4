"""The canonical SymPy symbols of symconv, declared once with the assumptions of a size.

Every size is a positive integer; padding and output padding are non-negative integers; the
MobileNet width and resolution multipliers are positive reals.

Examples
--------
>>> from symconv.symbols import H, p, alpha
>>> H.is_integer, H.is_positive
(True, True)
>>> p.is_nonnegative, p.is_positive
(True, None)
>>> alpha.is_positive, alpha.is_integer
(True, None)
"""

from __future__ import annotations

import sympy

__all__ = [
    "L", "D", "H", "W", "M", "N", "C",
    "D_o", "H_o", "W_o", "L_o",
    "k", "k_d", "k_h", "k_w",
    "s", "s_d", "s_h", "s_w",
    "p", "p_d", "p_h", "p_w",
    "d", "d_d", "d_h", "d_w",
    "a", "g", "t", "alpha", "rho",
    "LATEX_NAMES", "UNICODE_NAMES", "SYMBOL_ORDER",
]


def _size(name: str) -> sympy.Symbol:
    return sympy.Symbol(name, positive=True, integer=True)


def _offset(name: str) -> sympy.Symbol:
    return sympy.Symbol(name, nonnegative=True, integer=True)


# Input sizes and channels.
L, D, H, W = _size("L"), _size("D"), _size("H"), _size("W")
M, N, C = _size("M"), _size("N"), _size("C")
# Output sizes.
L_o, D_o, H_o, W_o = _size("L_o"), _size("D_o"), _size("H_o"), _size("W_o")
# Kernel sizes, strides, dilations (one symbol for all axes, and one per axis).
k, k_d, k_h, k_w = _size("k"), _size("k_d"), _size("k_h"), _size("k_w")
s, s_d, s_h, s_w = _size("s"), _size("s_d"), _size("s_h"), _size("s_w")
d, d_d, d_h, d_w = _size("d"), _size("d_d"), _size("d_h"), _size("d_w")
# Padding and the output padding of a transposed convolution.
p, p_d, p_h, p_w = _offset("p"), _offset("p_d"), _offset("p_h"), _offset("p_w")
a = _offset("a")
# Groups and the MobileNet V2 expansion factor.
g, t = _size("g"), _size("t")
# MobileNet width and resolution multipliers.
alpha = sympy.Symbol("alpha", positive=True)
rho = sympy.Symbol("rho", positive=True)

#: LaTeX spelling of each symbol, for ``sympy.latex(expr, symbol_names=LATEX_NAMES)``.
LATEX_NAMES: dict[sympy.Basic, str] = {
    L_o: "L_{o}", D_o: "D_{o}", H_o: "H_{o}", W_o: "W_{o}",
    k_d: "k_{d}", k_h: "k_{h}", k_w: "k_{w}",
    s_d: "s_{d}", s_h: "s_{h}", s_w: "s_{w}",
    p_d: "p_{d}", p_h: "p_{h}", p_w: "p_{w}",
    d_d: "d_{d}", d_h: "d_{h}", d_w: "d_{w}",
    alpha: r"\alpha", rho: r"\rho",
}

#: Plain-text spelling where it differs from the symbol's name.
UNICODE_NAMES: dict[sympy.Basic, str] = {alpha: "α", rho: "ρ"}

#: The order in which a student writes the factors of a cost: output positions, kernel,
#: input channels, output channels.
SYMBOL_ORDER: tuple[sympy.Symbol, ...] = (
    D_o, H_o, W_o, L_o, D, H, W, L, alpha, rho,
    k, k_d, k_h, k_w, s, s_d, s_h, s_w, p, p_d, p_h, p_w, d, d_d, d_h, d_w, a,
    M, t, N, C, g,
)
