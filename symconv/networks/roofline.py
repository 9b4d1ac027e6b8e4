"""Arithmetic intensity and the roofline: which layers a device runs at its peak arithmetic rate
(compute-bound) and which wait on memory (memory-bound), from ``Cost.reads``/``writes``.

For one layer with ``work`` operations (``"mults"``, or ``"flops"`` = 2·mults, the PyTorch and
TensorFlow convention of a multiply-accumulate as two) moving ``bytes`` = (reads + writes) × dtype
size under the compulsory-traffic model:

* **intensity** = work / bytes (``work`` per byte: mults/byte or FLOPs/byte), a SymPy expression;
* a device's datasheet peak ``P`` is in **FLOP/s**, counting a fused multiply-add as two FLOPs
  (the T4's 8.1 TFLOPS FP32 is 4.05·10¹² multiply-adds per second). Its rate in the unit of the
  intensity, :meth:`Device.rate`, is ``P`` FLOP/s or ``P/2`` mults/s, and its **ridge** in that
  unit, :meth:`Device.ridge_in`, is ``rate / B`` with ``B`` the bandwidth (bytes/s): a layer of
  intensity at least the ridge is compute-bound, below it memory-bound; its **lower-bound time**
  is ``max(work / rate, bytes / B)``. The unit changes the numbers, never the verdict or the
  time: ``mults / (P/2) = 2·mults / P = flops / P``;
* :func:`crossover` solves, with SymPy, where a layer's intensity meets the ridge (the batch,
  resolution or channel count at which it becomes compute-bound).

With a batch ``b``, the activations move ``b`` times and the weights once:
``bytes = dtype·(b·(reads − params) + params + b·writes)`` and ``work`` is ``b`` times.

Devices (:data:`DEVICES`) carry their datasheet figures (FP32 unless named otherwise), cited.

Examples
--------
>>> from symconv import Conv2d
>>> from symconv.symbols import H, W, M, N
>>> intensity(Conv2d(M, N, 1), (H, W, M), dtype_bytes=1)
H*M*N*W/(H*M*W + H*N*W + M*N)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy

from symconv.derive import Cost, cost
from symconv.derive.traffic import traffic_bytes
from symconv.errors import SymconvError
from symconv.layers import Layer
from symconv.layers.base import one_of
from symconv.sizes import as_expr

__all__ = ["Device", "DEVICES", "device", "intensity", "RooflineRow", "roofline", "crossover",
           "leaves", "WORKS", "UNITS"]

WORKS = ("mults", "flops")

#: How each ``work`` is written in a unit: ``mults/byte``, ``FLOPs/byte``.
UNITS = {"mults": "mults", "flops": "FLOPs"}

#: FLOPs per ``work``: a multiplication here is a multiply-add, two FLOPs on a datasheet.
_FLOPS_PER = {"mults": 2, "flops": 1}


@dataclass(frozen=True)
class Device:
    """A device's datasheet peak arithmetic rate ``peak`` in FLOP/s (a fused multiply-add
    counted as two FLOPs, as datasheets count it), its memory bandwidth in bytes/s, and the
    source of both.

    Compare an intensity in ``work`` per byte with :meth:`ridge_in` ``(work)``, never with
    :attr:`ridge`, which is the datasheet's ridge in FLOPs per byte.

    Examples
    --------
    >>> t4 = DEVICES["t4"]
    >>> t4.peak, t4.rate("mults"), t4.ridge, t4.ridge_in("mults"), t4.ridge_in("flops")
    (8100000000000, 4050000000000, 405/16, 405/32, 405/16)
    >>> t4.ridge_text("mults")
    '405/32 mults/byte = 405/16 FLOPs/byte'
    """

    name: str
    peak: int
    bandwidth: int
    source: str = ""

    def rate(self, work: str) -> sympy.Rational:
        """The peak rate in ``work`` per second: ``peak`` FLOP/s, or ``peak / 2`` mults/s (one
        multiply-add is two FLOPs on the datasheet), exactly."""
        one_of(work, WORKS, "work")
        return sympy.Rational(self.peak, _FLOPS_PER[work])

    def ridge_in(self, work: str) -> sympy.Rational:
        """The intensity, in ``work`` per byte, at which the roofline turns: ``rate(work) /
        bandwidth``."""
        return self.rate(work) / self.bandwidth

    @property
    def ridge(self) -> sympy.Rational:
        """The datasheet's ridge in FLOPs per byte, ``peak / bandwidth``; an intensity in mults
        per byte is compared with :meth:`ridge_in` ``("mults")``, half of it."""
        return sympy.Rational(self.peak, self.bandwidth)

    def ridge_text(self, work: str, shown: Callable[[sympy.Expr], str] = str) -> str:
        """The ridge in ``work``'s unit, and in FLOPs per byte when that differs."""
        text = f"{shown(self.ridge_in(work))} {UNITS[work]}/byte"
        return text if work == "flops" else f"{text} = {shown(self.ridge)} FLOPs/byte"


_T, _G = 10**12, 10**9

#: A few well-known devices, with the figures of their datasheets.
DEVICES = {
    # NVIDIA Tesla T4 datasheet (2019): single precision 8.1 TFLOPS; GDDR6 320 GB/s.
    "t4": Device("NVIDIA T4", 81 * _T // 10, 320 * _G,
                 "NVIDIA T4 datasheet: FP32 8.1 TFLOPS, 320 GB/s"),
    # NVIDIA Tesla V100 datasheet (SXM2): single precision 15.7 TFLOPS; HBM2 900 GB/s.
    "v100": Device("NVIDIA V100 SXM2", 157 * _T // 10, 900 * _G,
                   "NVIDIA V100 datasheet: FP32 15.7 TFLOPS, 900 GB/s"),
    # NVIDIA A100 Tensor Core GPU datasheet (40GB SXM): FP32 19.5 TFLOPS; HBM2 1,555 GB/s.
    "a100": Device("NVIDIA A100 40GB SXM", 195 * _T // 10, 1555 * _G,
                   "NVIDIA A100 datasheet: FP32 19.5 TFLOPS, 1,555 GB/s (40GB)"),
    # NVIDIA H100 Tensor Core GPU datasheet (SXM): FP32 67 TFLOPS; HBM3 3.35 TB/s.
    "h100": Device("NVIDIA H100 SXM", 67 * _T, 3350 * _G,
                   "NVIDIA H100 datasheet: FP32 67 TFLOPS, 3.35 TB/s (SXM)"),
    # NVIDIA Jetson Nano module datasheet: 472 GFLOPS (FP16); LPDDR4 25.6 GB/s.
    "jetson-nano": Device("NVIDIA Jetson Nano (FP16)", 472 * _G, 256 * _G // 10,
                          "NVIDIA Jetson Nano datasheet: 472 GFLOPS FP16, 25.6 GB/s"),
}


def device(name: str | None = None, *, peak: int | None = None,
           bandwidth: int | None = None) -> Device:
    """A device by preset name, or by its datasheet ``peak`` in FLOP/s (a multiply-add counted
    as two FLOPs) and its ``bandwidth`` in bytes/s (positive ints).

    Examples
    --------
    >>> device("t4").ridge_text("mults")
    '405/32 mults/byte = 405/16 FLOPs/byte'
    >>> device(peak=10**12, bandwidth=10**11).ridge_in("mults")     # 10 FLOPs/byte
    5
    >>> device("tpu")
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: device='tpu' is unknown; use one of t4, v100, a100, h100, jetson-nano, or give peak and bandwidth
    """
    if name is not None:
        if peak is not None or bandwidth is not None:
            raise SymconvError(f"device={name!r} has its own figures; give a name or peak and "
                               "bandwidth, not both")
        if name not in DEVICES:
            raise SymconvError(f"device={name!r} is unknown; use one of {', '.join(DEVICES)}, "
                               "or give peak and bandwidth")
        return DEVICES[name]
    for label, value in (("peak", peak), ("bandwidth", bandwidth)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise SymconvError(f"{label}={value!r} must be a positive int "
                               f"({'FLOP' if label == 'peak' else 'bytes'} per second)")
    assert peak is not None and bandwidth is not None
    return Device("custom", peak, bandwidth, "given")


def _work(result: Cost, work: str) -> sympy.Expr:
    one_of(work, WORKS, "work")
    return result.mults if work == "mults" else 2 * result.mults


def _bytes(result: Cost, dtype_bytes: object, batch: object) -> sympy.Expr:
    b = as_expr(batch)
    assert isinstance(b, sympy.Expr)
    moved = b * (result.reads - result.params) + result.params + b * result.writes
    return traffic_bytes(moved, dtype_bytes)


def intensity(layer: Layer | Cost, input_shape: object = None, *, dtype_bytes: object = 4,
              work: str = "mults", batch: object = 1) -> sympy.Expr:
    """``work`` (mults or FLOPs) per byte moved, symbolic.

    Examples
    --------
    >>> from symconv import Conv2d
    >>> intensity(Conv2d(32, 32, 3, padding=1), (56, 56, 32))   # mults per float32 byte
    7056/205
    """
    result = layer if isinstance(layer, Cost) else cost(layer, input_shape)
    b = as_expr(batch)
    return sympy.cancel(b * _work(result, work) / _bytes(result, dtype_bytes, batch))


@dataclass(frozen=True)
class RooflineRow:
    """One layer on a device's roofline (see the module docstring)."""

    name: str
    kind: str
    work: sympy.Expr
    reads: sympy.Expr
    writes: sympy.Expr
    bytes: sympy.Expr
    intensity: sympy.Expr
    bound: str
    seconds: sympy.Expr


def roofline(model: Layer, input_shape: object = None, *, device_: Device,
             dtype_bytes: object = 4, work: str = "mults", batch: object = 1
             ) -> tuple[RooflineRow, ...]:
    """One :class:`RooflineRow` per layer that does any ``work`` or moves any byte.

    ``bound`` is ``"compute"`` or ``"memory"`` where the intensity is a number, else
    ``"depends"``, against the device's ridge in ``work`` per byte; ``seconds`` is the lower
    bound ``max(work / rate, bytes / bandwidth)``, the same under either ``work``.

    Examples
    --------
    >>> from symconv import Conv2d, DepthwiseConv2d, Sequential
    >>> net = Sequential(("dw", DepthwiseConv2d(32, 3, padding=1)), ("pw", Conv2d(32, 64, 1)))
    >>> [(r.name, r.bound) for r in roofline(net, (56, 56, 32), device_=device("t4"))]
    [('dw', 'memory'), ('pw', 'memory')]
    """
    derived = cost(model, input_shape)
    b = as_expr(batch)
    rate, ridge = device_.rate(work), device_.ridge_in(work)
    found = []
    for name, result in leaves(derived):
        amount = b * _work(result, work)
        moved = _bytes(result, dtype_bytes, batch)
        if moved == 0 and amount == 0:
            continue
        ratio = sympy.cancel(amount / moved) if moved != 0 else sympy.oo
        compared = sympy.Ge(ratio, ridge) if ratio is not sympy.oo else sympy.true
        bound = "compute" if compared is sympy.true else "memory" \
            if compared is sympy.false else "depends"
        seconds = sympy.Max(amount / rate, moved / device_.bandwidth)
        found.append(RooflineRow(name or result.kind, result.kind, amount, result.reads,
                                 result.writes, moved, ratio, bound, seconds))
    return tuple(found)


def leaves(result: Cost, prefix: str = "") -> list[tuple[str, Cost]]:
    """``(dotted name, cost)`` of every single layer inside ``result``, in order.

    Examples
    --------
    >>> from symconv import DepthwiseSeparableConv2d
    >>> [name for name, _ in leaves(cost(DepthwiseSeparableConv2d(3, 8, 3), (7, 7, 3)))]
    ['depthwise', 'pointwise']
    """
    if not result.stages:
        return [(prefix, result)]
    found: list[tuple[str, Cost]] = []
    for name, stage in result.stages:
        found += leaves(stage, f"{prefix}.{name}" if prefix else name)
    return found


def crossover(layer: Layer | Cost, input_shape: object, symbol: sympy.Symbol, device_: Device,
              *, dtype_bytes: object = 4, work: str = "mults", batch: object = 1
              ) -> list[sympy.Expr]:
    """The positive values of ``symbol`` at which the layer's intensity equals the device's
    ridge in the same ``work`` per byte: below them memory-bound, above compute-bound (where intensity grows with it).
    ``layer`` may be a derived :class:`~symconv.derive.Cost` (a network's layer), ``symbol``
    the ``batch``. :func:`symconv.solve` ``("bound", ...)`` turns the roots into the smallest
    whole value from which the layer is compute-bound.

    Examples
    --------
    >>> from symconv import Conv2d
    >>> from symconv.symbols import N

    A 1×1 ``N → N`` convolution on 56×56 at float32 has intensity 784·N/(N + 6272) mults per
    byte; 10 FLOPs/byte is a ridge of 5 mults/byte, reached where 779·N = 31360:

    >>> crossover(Conv2d(N, N, 1), (56, 56, N), N, device(peak=10**12, bandwidth=10**11))
    [31360/779]
    """
    ratio = intensity(layer, input_shape, dtype_bytes=dtype_bytes, work=work, batch=batch)
    # solved over the positive reals: a size symbol is an integer, the crossover seldom is
    real = sympy.Dummy(str(symbol), positive=True)
    numerator, _ = sympy.fraction(sympy.together((ratio - device_.ridge_in(work)).subs(symbol, real)))
    return sorted(value for value in sympy.solve(numerator, real) if value.is_positive)
