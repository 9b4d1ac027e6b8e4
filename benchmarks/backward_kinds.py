"""How fast the backward executors of the activations, normalisations and other kinds are,
against their forward: run by hand, ``python benchmarks/backward_kinds.py``; never part of the
tests.

Prints the fast backward executor (``backward_fast`` on the forward's saved input, all
gradients, counted) against the fast forward executor (``execute``, counted) on the same layer
and input, best of 5, with their ratio — target: backward at most 2.5× the forward's time (as
``benchmarks/backward.py`` for convolutions, BatchNorm and ReLU6).

Recorded 2026-12-02 on the shared 2-core machine (load average about 6), with
``OPENBLAS_NUM_THREADS=1``, backward/forward over four runs: Sigmoid 0.9–1.7, SiLU 2.0–2.6,
Tanh 1.5–2.4, GELU 0.65–1.4 (both sides evaluate erf element by element), GELU-tanh 1.9–2.8,
ELU 0.7–1.0, Softplus 1.6–1.9, Mish 2.2–2.8, Softmax 0.9–1.2, LayerNorm 2.7–4.3, GroupNorm
5.5–12, LayerScale 1.8–1.9, Mean 0.3–0.5, AdaptiveAvgPool 0.6–0.8. The elementwise backward
formulas do 2–4× the forward's operations (SiLU: 8 against 3), so the 2.5× target is at the
edge for them; LayerNorm and GroupNorm miss it: their forwards are a few fused passes, their
backwards about ten (done a chunk of positions at a time, which halved them).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from symconv import execute
from symconv.execute.backward import execute_backward  # noqa: F401  registers every kind
from symconv.execute.backward_layers import backward_fast
from symconv.execute.counter import Counter
from symconv.layers import (
    Activation,
    AdaptiveAvgPool2d,
    GroupNorm,
    Layer,
    LayerNorm,
    LayerScale,
    Mean,
    Softmax,
)

SHAPE = (56, 56, 64)
LAYERS: list[tuple[str, Layer, tuple[int, ...]]] = [
    *((f"{name} 56x56x64", Activation(name), SHAPE)
      for name in ("sigmoid", "silu", "tanh", "gelu", "gelu_tanh", "elu", "softplus", "mish")),
    ("softmax 56x56x64", Softmax(), SHAPE),
    ("layernorm 56x56x64", LayerNorm(64), SHAPE),
    ("groupnorm 56x56x64 g8", GroupNorm(8, 64), SHAPE),
    ("layerscale 56x56x64", LayerScale(64), SHAPE),
    ("mean 56x56x64", Mean((0, 1)), SHAPE),
    ("adaptiveavgpool 56x56x64->7x7", AdaptiveAvgPool2d(7), SHAPE),
]


def _best(run: Callable[[], object], rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    print("fast executors, backward (all gradients) against forward, best of 5")
    print(f"{'layer':32} {'forward ms':>11} {'backward ms':>12} {'ratio':>6}")
    for name, layer, shape in LAYERS:
        x = np.random.default_rng(0).standard_normal(shape)
        run = execute(layer, x)
        grad = np.random.default_rng(1).standard_normal(run.output.shape)
        params = {**run.params, **run.buffers}

        def forward(layer: Layer = layer, x: np.ndarray = x, run: object = run) -> object:
            return execute(layer, x, run.params, buffers=run.buffers)  # type: ignore[attr-defined]

        def backward(layer: Layer = layer, x: np.ndarray = x, params: dict = params,
                     grad: np.ndarray = grad) -> object:
            return backward_fast(layer, x, params, grad, Counter(), input_grad=True,
                                 trainable=True)

        forward_time, backward_time = _best(forward), _best(backward)
        print(f"{name:32} {forward_time * 1e3:11.2f} {backward_time * 1e3:12.2f} "
              f"{backward_time / forward_time:6.2f}")


if __name__ == "__main__":
    main()
