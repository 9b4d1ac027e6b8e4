"""The smallest batch, resolution or channel count from which a layer is compute-bound on a
device: where its arithmetic intensity reaches the device's ridge (the roofline of
:mod:`symconv.networks.roofline`).

The inequality solved is ``intensity(x) ≥ ridge`` in the one free symbol ``x``, both in the same
unit: ``work`` per byte, the ridge being ``Device.ridge_in(work)``. A datasheet's peak counts a
multiply-add as two FLOPs, so in mults per byte the ridge is ``peak / (2·bandwidth)``, and the
answer is the same under ``work="mults"`` and ``work="flops"``.
:func:`symconv.networks.roofline.crossover` finds, with SymPy, the positive values of ``x`` where
the two are equal; between two of them every whole ``x`` is on the same side, so one evaluation
per gap decides it. The answer is the smallest whole ``x`` from which every larger one is
compute-bound, checked by evaluating the intensity exactly at it and one below it. Where SymPy
cannot solve (a strided layer's output size is a ``floor`` of the resolution), every whole ``x``
from 1 to ``limit`` is evaluated exactly instead.

With a batch ``b``, the activations move ``b`` times and the weights once, so the intensity
grows with ``b`` towards ``work / (bytes of activations per example)``; a layer whose limit is
below the ridge is never compute-bound, and is refused by name.

Examples
--------
MobileNet V2's ``block16.project``, a 1×1 convolution 960 → 160 on 7×7, float32 on an NVIDIA T4
(8.1 TFLOPS over 320 GB/s: a ridge of 405/16 FLOPs per byte, 405/32 ≈ 12.7 mults per byte):
``b`` examples do 7526400·b mults and move 4·(54880·b + 153600) bytes (the weights once), so
11760·b/(343·b + 960) ≥ 405/32, that is 237405·b ≥ 388800: b ≥ 1.64, from b = 2 on.

>>> from symconv import Conv2d
>>> answer = compute_bound(Conv2d(960, 160, 1), (7, 7, 960), device="t4")
>>> print(answer.text().split("intensity = mults")[0])
smallest b from which pointwise is compute-bound on NVIDIA T4, in mults/byte
  solved   11760*b/(343*b + 960) ≥ 405/32
  answer   b ≥ 2
  b = 2    intensity = 11760/823 ≥ 405/32 mults/byte: compute-bound
  b = 1    intensity = 11760/1303 < 405/32 mults/byte: memory-bound
<BLANKLINE>
"""

from __future__ import annotations

from typing import Any

import sympy

from symconv.derive import Cost, cost
from symconv.design.answer import Answer
from symconv.errors import SymconvError
from symconv.layers.base import Layer
from symconv.networks import roofline
from symconv.sizes import as_expr

__all__ = ["compute_bound", "BATCH"]

#: The batch size, as a symbol.
BATCH = sympy.Symbol("b", positive=True, integer=True)


def _device(value: object) -> roofline.Device:
    if isinstance(value, roofline.Device):
        return value
    if not isinstance(value, str):
        raise SymconvError(f"device={value!r} must be a preset name like 't4' or a Device "
                           "(symconv.networks.roofline.device(peak=..., bandwidth=...))")
    return roofline.device(value)


def _smallest_from_roots(holds: Any, roots: list[sympy.Expr]) -> int | None:
    """The smallest whole ``x ≥ 1`` from which ``holds`` is true for every larger whole ``x``,
    where ``holds`` changes only at ``roots`` (ascending, positive); ``None`` when it is false
    above the largest root."""
    top = int(sympy.floor(roots[-1])) + 1 if roots else 1
    if not holds(top):
        return None
    answer = top
    for index in range(len(roots) - 1, -1, -1):
        root = roots[index]
        if root.is_Integer:                 # equal there: it holds
            answer = int(root)
        lower = roots[index - 1] if index else sympy.Integer(0)
        low, high = int(sympy.floor(lower)) + 1, int(sympy.ceiling(root)) - 1
        low = max(low, 1)
        if low > high:                      # no whole value strictly between the two roots
            continue
        if not holds(high):
            break
        answer = low
    return max(answer, 1)


def _smallest_by_scan(holds: Any, limit: int) -> tuple[int | None, list[list[int]]]:
    runs: list[list[int]] = []
    for value in range(1, limit + 1):
        if holds(value):
            if runs and runs[-1][1] == value - 1:
                runs[-1][1] = value
            else:
                runs.append([value, value])
    if not runs or runs[-1][1] != limit:
        return None, runs
    return runs[-1][0], runs


def compute_bound(layer: Layer | Cost, input_shape: object = None, *, vary: object = "batch",
                  device: object = "t4", dtype_bytes: object = 4, work: str = "mults",
                  batch: object = 1, limit: int = 1024, name: str | None = None) -> Answer:
    """The smallest whole value of ``vary`` from which ``layer`` is compute-bound on ``device``.

    Parameters
    ----------
    layer, input_shape
        A layer and its input shape, or the derived :class:`~symconv.derive.Cost` of one layer
        of a network (``input_shape`` then ``None``).
    vary
        ``"batch"`` (the default: the symbol ``b``), or the one SymPy symbol left in the layer
        and its input shape (a resolution ``R`` in ``(R, R, 32)``, channels ``C`` in
        ``Conv2d(C, C, 1)``).
    device
        A preset name (``"t4"``, ``"a100"``, ...) or a :class:`~symconv.networks.roofline.Device`.
    dtype_bytes, work
        Bytes per element (default 4) and what is counted per byte: ``"mults"`` or ``"flops"``;
        the ridge is in the same unit (a device's datasheet FLOP/s halved for mults), so the
        answer does not depend on it.
    batch
        The batch, when ``vary`` is not ``"batch"`` (default 1).
    limit
        The largest value evaluated when SymPy cannot solve the equation (default 1024).
    name
        How the answer names the layer (default its kind).

    Raises
    ------
    SymconvError
        When the layer is not compute-bound for every large value (its intensity stays below
        the ridge), or the free symbols are not exactly ``vary``.

    Examples
    --------
    >>> from symconv import DepthwiseConv2d
    >>> from symconv.symbols import M
    >>> compute_bound(DepthwiseConv2d(32, 3, padding=1), (56, 56, 32), device="t4")
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: depthwise is never compute-bound ... approaches 9/8 mults per byte, below the ridge 405/32 mults/byte = ...
    """
    chosen = _device(device)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10**5:
        raise SymconvError(f"limit={limit!r} must be an int from 1 to 100000")
    result = layer if isinstance(layer, Cost) else cost(layer, input_shape)
    label = name or result.kind or type(layer).__name__
    if vary == "batch":
        x, batch = BATCH, BATCH
    elif isinstance(vary, sympy.Symbol):
        x = vary
    else:
        raise SymconvError(f"vary={vary!r} must be 'batch' or the SymPy symbol that varies")
    ratio = roofline.intensity(result, dtype_bytes=dtype_bytes, work=work, batch=batch)
    free = ratio.free_symbols | as_expr(batch).free_symbols
    if free != {x}:
        names = ", ".join(sorted(map(str, free))) or "none"
        raise SymconvError(f"compute_bound needs exactly one free symbol, {x} (the size that "
                           f"varies), found {names}; give numbers for the rest")
    ridge = chosen.ridge_in(work)

    def holds(value: int) -> bool:
        return bool(ratio.xreplace({x: sympy.Integer(value)}) >= ridge)

    unit = f"{roofline.UNITS[work]}/byte"
    notes = [f"intensity = {work} per byte moved (compulsory traffic, {dtype_bytes}-byte "
             f"elements); ridge {chosen.ridge_text(work)}: the peak FLOP/s of {chosen.name} "
             f"over its bandwidth ({chosen.source or 'given'}), a multiply-add being 2 FLOPs"]
    extra: dict[str, Any] = {"device": {"name": chosen.name, "peak_flops": chosen.peak,
                                        "bandwidth": chosen.bandwidth,
                                        "ridge": f"{ridge.p}/{ridge.q}", "ridge_unit": unit,
                                        "ridge_flops": f"{chosen.ridge.p}/{chosen.ridge.q}"}}
    try:
        roots = roofline.crossover(result, None, x, chosen, dtype_bytes=dtype_bytes, work=work,
                                   batch=batch)
        solvable = all(root.is_real for root in roots) and not ratio.has(sympy.floor,
                                                                        sympy.ceiling)
    except (NotImplementedError, TypeError, ValueError):
        roots, solvable = [], False
    if solvable:
        found = _smallest_from_roots(holds, sorted(roots, key=lambda r: float(r)))
        notes.append(f"intensity = ridge at {x} = " + (", ".join(map(str, roots)) or "no "
                     "positive value") + " (solved by SymPy)")
        if found is None:
            far = sympy.limit(ratio, x, sympy.oo)
            raise SymconvError(
                f"{label} is never compute-bound on {chosen.name} as {x} grows: its intensity "
                f"approaches {far} {work} per byte, below the ridge {chosen.ridge_text(work)}; only "
                "a device of a lower ridge (peak / bandwidth) makes it compute-bound")
    else:
        found, runs = _smallest_by_scan(holds, limit)
        if found is None:
            raise SymconvError(f"{label} is not compute-bound on {chosen.name} for every {x} "
                               f"up to {limit}; it is at {runs or 'no value'}")
        extra["intervals"] = runs
        notes.append(f"every {x} from 1 to {limit} evaluated exactly")
    value = sympy.Integer(found)

    def shown(at: int) -> str:
        here = ratio.xreplace({x: sympy.Integer(at)})
        side = "≥" if here >= ridge else "<"
        bound = "compute-bound" if here >= ridge else "memory-bound"
        return f"intensity = {here} {side} {ridge} {unit}: {bound}"

    checks = [(f"{x} = {found}", shown(found))]
    if found > 1:
        checks.append((f"{x} = {found - 1}", shown(found - 1)))
    return Answer(
        question=f"smallest {x} from which {label} is compute-bound on {chosen.name}, in {unit}",
        inequality=sympy.GreaterThan(ratio, ridge, evaluate=False), variable=x, relation=">=",
        value=value, checks=tuple(checks), notes=tuple(notes), extra=extra,
    )
