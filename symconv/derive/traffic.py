"""Traffic under the compulsory-traffic model, derived from a loop nest's
:class:`~symconv.layers.traffic.InputAccess`. Pure SymPy.

**reads** are every distinct input element the loop nest touches, every weight and bias (each
once), and a second operand where there is one; **writes** every output element written once.
Caches, tiling and re-reads are not modelled: this is the least any evaluation must move.
``bytes = elements × dtype size`` (:func:`traffic_bytes`).

Along one axis, window ``o < O`` reads the padded positions ``o·s + j·d`` (``j < k``), and the
real input is the positions ``p ≤ o·s + j·d < p + size``. When ``d = 1`` the windows are runs of
``k``: below ``n`` there are ``F(n) = ⌊n/s⌋·min(k, s) + min(n mod s, k)`` such positions (up to
the end of the last window, ``(O − 1)·s + k``); when ``s = 1`` the same holds with the roles of
``(s, O)`` and ``(d, k)`` exchanged (the set ``{o·s + j·d}`` is symmetric in them). The count is
then ``G(p + size) − G(p)``. With both above 1 it is :class:`Touched`, worked out position by
position once the sizes are numbers.

Examples
--------
>>> from symconv.layers.traffic import AxisWindow
>>> from symconv.symbols import H
>>> touched(AxisWindow(size=8, placements=4, kernel=1, stride=2))      # a 1x1 stride-2 conv
4
>>> touched(AxisWindow(size=H, placements=H, kernel=3, stride=1, padding=1))
H
"""

from __future__ import annotations

import sympy

from symconv.derive.cost import _product
from symconv.errors import SymconvError
from symconv.layers.base import LoopNest
from symconv.layers.traffic import AxisWindow
from symconv.sizes import as_expr

__all__ = ["touched", "Touched", "nest_traffic", "traffic_bytes"]




def _runs_below(n: sympy.Expr, step: sympy.Expr, run: sympy.Expr, count: sympy.Expr
                ) -> sympy.Expr:
    """How many positions below ``n`` lie in ``count`` runs of ``run`` positions, ``step``
    apart, the first starting at 0."""
    n = sympy.Min(n, (count - 1) * step + run)
    if step == 1 or sympy.Ge(run, step) is sympy.true:   # the runs meet: every position
        return n
    return sympy.floor(n / step) * sympy.Min(run, step) + sympy.Min(sympy.Mod(n, step), run)


class Touched(sympy.Function):
    """``Touched(size, placements, kernel, stride, dilation, padding)``: the distinct real
    positions the windows of one axis read, when both stride and dilation are above 1 and no
    closed form is known; it evaluates to an integer (position by position) once every argument
    is a number.

    Examples
    --------
    >>> Touched(9, 2, 2, 3, 2, 0)    # positions 0, 2, 3, 5
    4
    """

    is_integer = True
    is_nonnegative = True

    @classmethod
    def eval(cls, *args: sympy.Expr) -> sympy.Integer | None:
        if not all(getattr(value, "is_Integer", False) for value in args):
            return None
        size, placed, kernel, stride, dilation, padding = (int(value) for value in args)
        seen = {o * stride + j * dilation - padding
                for o in range(placed) for j in range(kernel)}
        return sympy.Integer(sum(1 for position in seen if 0 <= position < size))


def touched(axis: AxisWindow) -> sympy.Expr:
    """How many distinct real positions of one axis the windows read (padding left out).

    Examples
    --------
    >>> from symconv.layers.traffic import AxisWindow
    >>> from symconv.symbols import H
    >>> touched(AxisWindow(size=H, placements=sympy.floor((H - 1) / 2) + 1, stride=2))
    floor(H/2 - 1/2) + 1
    >>> touched(AxisWindow(size=9, placements=2, kernel=2, stride=3, dilation=2))  # 0, 2, 3, 5
    4
    """
    values = (axis.size, axis.placements, axis.kernel, axis.stride, axis.dilation, axis.padding)
    if all(isinstance(value, (int, sympy.Integer)) and not isinstance(value, bool)
           for value in values):
        return sympy.Integer(_touched_ints(*(int(value) for value in values)))
    size, placed, kernel = as_expr(axis.size), as_expr(axis.placements), as_expr(axis.kernel)
    stride, dilation, padding = as_expr(axis.stride), as_expr(axis.dilation), as_expr(axis.padding)
    if kernel == 1:
        # windows o with p <= o·s < p + size; the last such o is below O, as
        # O − 1 = ⌊(size + 2p − 1)/s⌋ for a 1-wide window
        first = -sympy.floor(-padding / stride)  # ceiling
        return sympy.floor((padding + size - 1) / stride) - first + 1
    if dilation == 1:
        def below(n: sympy.Expr) -> sympy.Expr:
            return _runs_below(n, stride, kernel, placed)
    elif stride == 1:
        def below(n: sympy.Expr) -> sympy.Expr:
            return _runs_below(n, dilation, placed, kernel)
    else:
        return Touched(size, placed, kernel, stride, dilation, padding)
    return below(padding + size) - (0 if padding == 0 else below(padding))


def _runs_below_ints(n: int, step: int, run: int, count: int) -> int:
    """:func:`_runs_below` on Python ints (the same formula, without SymPy)."""
    n = min(n, (count - 1) * step + run)
    if step == 1 or run >= step:
        return n
    return (n // step) * min(run, step) + min(n % step, run)


def _touched_ints(size: int, placed: int, kernel: int, stride: int, dilation: int,
                  padding: int) -> int:
    """:func:`touched` for concrete sizes: the same formulas on Python ints (a network at one
    input size derives hundreds of these; SymPy's ``Min`` and ``floor`` on numbers are slow).

    Examples
    --------
    >>> _touched_ints(9, 2, 2, 3, 2, 0), _touched_ints(8, 4, 1, 2, 1, 0), _touched_ints(7, 4, 3, 2, 1, 1)
    (4, 4, 7)
    """
    if kernel == 1:
        return (padding + size - 1) // stride - (-(-padding // stride)) + 1
    if dilation == 1:
        step, run, count = stride, kernel, placed
    elif stride == 1:
        step, run, count = dilation, placed, kernel
    else:
        return int(Touched(size, placed, kernel, stride, dilation, padding))
    below = _runs_below_ints(padding + size, step, run, count)
    return below - (0 if padding == 0 else _runs_below_ints(padding, step, run, count))


def nest_traffic(nest: LoopNest, input_shape: tuple[sympy.Expr, ...]
                 ) -> tuple[sympy.Expr, sympy.Expr]:
    """``(reads, writes)`` of one loop nest on an input of ``input_shape`` (channels last).

    Examples
    --------
    >>> from symconv import Conv2d
    >>> from symconv.symbols import H, W, M, N
    >>> nest_traffic(Conv2d(M, N, 1).loop_nest((H, W), (H, W)), (H, W, M))   # ShuffleNet V2
    (H*M*W + M*N, H*N*W)
    """
    access = nest.access
    if access.copies == 0:
        read = sympy.Integer(0)
    elif access.windows:
        read = _product((*(touched(axis) for axis in access.windows), input_shape[-1]))
    else:
        read = _product(input_shape)
    params = [_product(shape) for _, shape in nest.parameters] if access.parameters else []
    extra = access.extra
    if type(access.copies) is int and isinstance(read, sympy.Integer) and isinstance(
            extra, (int, sympy.Integer)) and all(
            isinstance(size, sympy.Integer) for size in params):   # Python ints: faster
        reads = sympy.Integer(access.copies * int(read) + int(extra)
                              + sum(int(size) for size in params))
    else:
        reads = access.copies * read + as_expr(extra) + sympy.Add(*params)
    writes = _product(nest.outputs) if access.writes else sympy.Integer(0)
    return reads, writes


def traffic_bytes(elements: sympy.Expr, dtype_bytes: object = 4) -> sympy.Expr:
    """``elements × dtype_bytes``: the dtype size is a positive int or a SymPy symbol.

    Examples
    --------
    >>> traffic_bytes(sympy.Integer(10), 2)
    20
    >>> b = sympy.Symbol("b", positive=True, integer=True)
    >>> traffic_bytes(sympy.Integer(10), b)
    10*b
    >>> traffic_bytes(sympy.Integer(10), 2.5)
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: dtype_bytes=2.5 must be a positive int (4 for float32) or a SymPy symbol
    """
    if isinstance(dtype_bytes, bool) or not (
            (isinstance(dtype_bytes, int) and dtype_bytes > 0)
            or (isinstance(dtype_bytes, sympy.Expr) and dtype_bytes.is_positive is not False
                and not dtype_bytes.has(sympy.Float))):
        raise SymconvError(
            f"dtype_bytes={dtype_bytes!r} must be a positive int (4 for float32) or a SymPy symbol"
        )
    return elements * (sympy.Integer(dtype_bytes) if isinstance(dtype_bytes, int) else dtype_bytes)


