"""Winograd's minimal filtering F(m, r) as exact matrices, built by the Cook–Toom construction
from chosen interpolation points (Lavin & Gray 2016; Blahut, *Fast Algorithms for Signal
Processing*, ch. 5). Pure SymPy; read by both the derivation and the executors.

F(m, r) computes ``m`` outputs of an ``r``-tap correlation, ``y_i = Σ_k g_k·d_{i+k}``, from
``n = m + r − 1`` inputs with ``n`` multiplications::

    y = Aᵀ [(G g) ⊙ (Bᵀ d)]

How the matrices are built, not typed: a polynomial product ``s = h·u`` (``h`` of degree m − 1,
``u`` of degree r − 1) is known from its values at ``n`` points; here ``n − 1`` finite points
``a_j`` and the point at infinity (whose "value" is the leading coefficient). With ``E_q`` the
``n × q`` evaluation matrix (rows ``[1, a_j, …, a_j^(q−1)]``, last row ``[0, …, 0, 1]``),
``E_n s = (E_m h) ⊙ (E_r u)``; the correlation is the transpose of that product's map, so
``Aᵀ = E_mᵀ``, ``G = D⁻¹ E_r`` and ``Bᵀ = D E_n⁻ᵀ``, where ``D = diag(f_0, …, f_{n−2}, 1)``,
``f_j = Π_{l≠j} (a_j − a_l)``, moves the interpolation's denominators into ``G`` (so that ``Bᵀ``
has whole entries for whole points, as in Lavin's matrices).

Examples
--------
>>> AT, G, BT = cook_toom(2, 3)
>>> AT
Matrix([
[1, 1,  1, 0],
[0, 1, -1, 1]])
>>> G
Matrix([
[ -1,    0,   0],
[1/2,  1/2, 1/2],
[1/2, -1/2, 1/2],
[  0,    0,   1]])
>>> BT
Matrix([
[-1,  0, 1, 0],
[ 0,  1, 1, 0],
[ 0, -1, 1, 0],
[ 0, -1, 0, 1]])
>>> default_points(5)
(0, 1, -1, 2, -2)
"""

from __future__ import annotations

import functools
from fractions import Fraction

import sympy

from symconv.errors import SymconvError

__all__ = ["cook_toom", "default_points", "check_points", "MAX_POINTS"]

#: The most finite points (``m + r − 2``) a construction may use: beyond it the transforms'
#: entries grow so large that float64 results lose their meaning, and building them is slow.
MAX_POINTS = 14


def default_points(count: int) -> tuple[sympy.Rational, ...]:
    """The first ``count`` points of 0, 1, −1, 2, −2, 1/2, −1/2, 3, −3, 1/3, −1/3, …: the usual
    choice (small magnitudes keep the transforms' entries, and float errors, small).

    Examples
    --------
    >>> default_points(7)
    (0, 1, -1, 2, -2, 1/2, -1/2)
    """
    points: list[sympy.Rational] = [sympy.Integer(0)]
    whole = 1
    while len(points) < count:
        for value in (sympy.Integer(whole), sympy.Rational(1, whole)):
            for signed in (value, -value):
                if signed not in points:
                    points.append(signed)
        whole += 1
    return tuple(points[:count])


def check_points(points: object, count: int, argument: str = "points") -> tuple[sympy.Rational, ...]:
    """``points`` as exact rationals when there are ``count`` distinct ones, else an error.

    Examples
    --------
    >>> check_points((0, 1, Fraction(-1, 2)), 3)
    (0, 1, -1/2)
    >>> check_points((0, 1, 1), 3)
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: points=(0, 1, 1) must be 3 distinct numbers (ints or Fractions), like (0, 1, -1); 1 is repeated
    """
    example = tuple(int(value) for value in default_points(count))
    shown = repr(points) if not isinstance(points, (list, tuple)) else repr(tuple(points))
    fix = f"must be {count} distinct numbers (ints or Fractions), like {example}"
    if not isinstance(points, (list, tuple)) or len(points) != count:
        raise SymconvError(f"{argument}={shown} {fix}")
    exact: list[sympy.Rational] = []
    for value in points:
        if isinstance(value, bool) or not isinstance(value, (int, Fraction, sympy.Rational)):
            raise SymconvError(f"{argument}={shown} {fix}; {value!r} is not exact")
        number = (sympy.Rational(value.numerator, value.denominator)
                  if isinstance(value, Fraction) else sympy.Rational(value))
        if number in exact:
            raise SymconvError(f"{argument}={shown} {fix}; {value} is repeated")
        exact.append(number)
    return tuple(exact)


def _evaluation(points: tuple[sympy.Rational, ...], columns: int) -> sympy.Matrix:
    """``E_q``: rows ``[1, a, …, a^(q−1)]`` at each finite point, then ``[0, …, 0, 1]``."""
    rows = [[point**power for power in range(columns)] for point in points]
    rows.append([0] * (columns - 1) + [1])
    return sympy.Matrix(rows)


@functools.lru_cache(maxsize=64)
def _build(m: int, r: int, points: tuple[sympy.Rational, ...]
           ) -> tuple[sympy.Matrix, sympy.Matrix, sympy.Matrix]:
    n = m + r - 1
    scale = [sympy.prod([a - b for b in points if b != a]) for a in points] + [sympy.Integer(1)]
    D = sympy.diag(*scale)
    transposed = _evaluation(points, m).T
    weights = D.inv() * _evaluation(points, r)
    inputs = D * _evaluation(points, n).inv().T
    return (sympy.ImmutableMatrix(transposed), sympy.ImmutableMatrix(weights),
            sympy.ImmutableMatrix(inputs))


def cook_toom(m: int, r: int, points: object = None
              ) -> tuple[sympy.Matrix, sympy.Matrix, sympy.Matrix]:
    """``(Aᵀ, G, Bᵀ)`` of F(m, r), exact: ``m × n``, ``n × r`` and ``n × n`` with n = m + r − 1.

    Parameters
    ----------
    m
        Outputs per tile (the tile size), a positive int.
    r
        Taps of the filter (the kernel size), a positive int.
    points
        ``n − 1`` distinct finite interpolation points (ints, Fractions or SymPy rationals);
        by default :func:`default_points`. The point at infinity is always the last.

    Raises
    ------
    SymconvError
        For sizes that are not positive ints, more than :data:`MAX_POINTS` points, or points
        that are not ``n − 1`` distinct exact numbers.

    Examples
    --------
    F(4, 3) from 0, ±1, ±2 (Lavin's choice): 36 products for 16 outputs of a 3×3 kernel in 2-D.

    >>> AT, G, BT = cook_toom(4, 3)
    >>> AT.shape, G.shape, BT.shape
    ((4, 6), (6, 3), (6, 6))
    >>> BT.row(0)
    Matrix([[4, 0, -5, 0, 1, 0]])
    """
    for value, name in ((m, "tile"), (r, "kernel_size")):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SymconvError(f"{name}={value!r} must be a positive int for Winograd's F(m, r)")
    count = m + r - 2
    if count > MAX_POINTS:
        raise SymconvError(
            f"F({m}, {r}) needs {count} interpolation points, more than {MAX_POINTS}: its "
            "transforms would lose float64's precision; use a smaller tile"
        )
    chosen = default_points(count) if points is None else check_points(points, count)
    return _build(m, r, chosen)
