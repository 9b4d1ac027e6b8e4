"""How fast the executors are: run by hand, ``python benchmarks/executor.py``; never part of the tests.

Prints, in one run, times side by side and their ratios, from the best of several rounds in which
the runs compared take turns (a machine busy with other work slows them alike). Counting is
compared with not counting apart from PyTorch, and every turn of the race with PyTorch starts
after a 50 ms pause: PyTorch's threads linger after each call and slow whatever runs next.

1. the fast executor against PyTorch (``torch.nn.functional.conv2d``, float64,
   ``torch.set_num_threads(2)``, the same input and weights) on each shape of :data:`SHAPES` —
   standard, depthwise and dilated (target: at most 1.5× torch's time); skipped without torch;
2. the fast executor with counting against without (``count=False``) on each shape
   (target: at most 10% overhead);
3. the fast executor against the plain-loop reference on 16×16×8 → 16, 3×3, padding 1
   (target: at least 100× faster).

The fast executor takes one of three paths: small ungrouped layers copy every window into one
matrix for one matmul (im2col), larger ones run one matmul per kernel offset, depthwise ones a
per-channel multiply-add over kernel offsets in row blocks that stay in cache. Each NumPy
operation is counted from its operand shapes. The padded input, the im2col matrix and product
buffers are scratch arrays kept between calls (up to 16 MiB each), because touching fresh
memory is slow. A convolution's geometry and path are worked out once per input size (a plan:
sizes only, never a count), and ``execute`` remembers, by the layer's identity, the checks a
layer and input shape passed (the memory and operation limits are checked on every call).

Recorded 2026-12-02 on the shared 2-core machine against torch, before the per-call work
above was cut (``--rounds 20``, load average 1.3) and after (``--rounds 40``, load average 2.8;
the shared machine moves each ratio by ±20% from run to run):

==========================================  ==============  ==============
shape                                        before           after
==========================================  ==============  ==============
16×16×8 → 16, 3×3, padding 1                 2.05×            1.24×
56×56×64 → 64, 3×3, padding 1                1.25×            1.26×
56×56×64 → 64, 3×3, dilation 2               1.19×            1.18×
112×112×64 depthwise 3×3                     1.22×            1.30×
112×112×64 depthwise 3×3, stride 2           0.77×            0.69×
112×112×64 depthwise 3×3, dilation 2         0.54×            0.81×
==========================================  ==============  ==============

On the smallest shape a call took 46 µs against torch's 22 µs before, 29 µs against 24 µs
after: about 16 µs of it is the one matmul and 5 µs the im2col copy; per-call Python work went
from about 20 µs to 7 µs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from symconv import Conv2d, DepthwiseConv2d, execute
from symconv.layers import ConvNd

#: (name, layer, input shape).
SHAPES: list[tuple[str, ConvNd, tuple[int, int, int]]] = [
    ("16×16×8 → 16, 3×3, padding 1", Conv2d(8, 16, 3, padding=1), (16, 16, 8)),
    ("56×56×64 → 64, 3×3, padding 1", Conv2d(64, 64, 3, padding=1), (56, 56, 64)),
    ("56×56×64 → 64, 3×3, dilation 2", Conv2d(64, 64, 3, padding=2, dilation=2), (56, 56, 64)),
    ("112×112×64 depthwise 3×3", DepthwiseConv2d(64, 3, padding=1), (112, 112, 64)),
    ("112×112×64 depthwise 3×3, stride 2", DepthwiseConv2d(64, 3, stride=2, padding=1), (112, 112, 64)),
    ("112×112×64 depthwise 3×3, dilation 2", DepthwiseConv2d(64, 3, padding=2, dilation=2), (112, 112, 64)),
]


def race(*runs: Callable[[], object], rounds: int, number: int, settle: float = 0.0) -> list[float]:
    """The best time of one call of each run, in seconds.

    The runs take turns, round after round, so that a machine busy with other work slows them
    alike and their ratio stays fair; ``settle`` seconds pass untimed before each run, so that
    threads a run leaves spinning (PyTorch's) are idle when the next one starts.
    """
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(rounds):
        for run, kept in zip(runs, times):
            time.sleep(settle)
            kept.append(timeit.timeit(run, number=number) / number)
    return [min(kept) for kept in times]


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def running(layer: ConvNd, x: np.ndarray, params: dict[str, Any], *, count: bool) -> Callable[[], object]:
    """One call of the fast executor on given parameters."""
    return lambda: execute(layer, x, params, count=count)


def torch_conv(torch: Any, layer: ConvNd, x: np.ndarray, weight: np.ndarray) -> Callable[[], object]:
    """PyTorch's float64 convolution of the same input and weights, NCHW."""
    tensor = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)[None]))
    kernel = torch.from_numpy(np.ascontiguousarray(weight.transpose(3, 2, 0, 1)))
    stride, padding, dilation = (tuple(int(v) for v in values)
                                 for values in (layer.stride, layer.padding, layer.dilation))
    groups = int(layer.groups)

    def run() -> object:
        with torch.no_grad():
            return torch.nn.functional.conv2d(tensor, kernel, None, stride, padding, dilation, groups)
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="rounds per measurement (the best is kept)")
    rounds = parser.parse_args(argv).rounds
    try:
        import torch
    except ImportError:
        torch = None
    else:
        torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    rows = []
    for name, layer, shape in SHAPES:
        x = rng.standard_normal(shape)
        params = execute(layer, x).params
        number = max(1, int(2e6 // (np.prod(shape) * 9)))
        # Counting against not counting, then (apart, so that PyTorch's threads, which linger
        # after each call, slow neither side of the first comparison) against PyTorch, with a
        # pause before each turn for the same reason.
        fast, quiet = race(running(layer, x, params, count=True), running(layer, x, params, count=False),
                           rounds=rounds, number=number)
        overhead = fast / quiet - 1
        if torch is not None:
            torch_run = torch_conv(torch, layer, x, params["weight"])
            np.testing.assert_allclose(execute(layer, x, params).output,
                                       torch_run()[0].numpy().transpose(1, 2, 0), rtol=1e-9, atol=1e-9)
            ours, theirs = race(running(layer, x, params, count=True), torch_run, rounds=rounds,
                                number=number, settle=0.05)
            ratio = ours / theirs
            rows.append((f"vs torch, {name}", f"fast {ours * 1e3:8.3f} ms   torch {theirs * 1e3:8.3f} ms",
                         f"{ratio:6.2f}× the time", "≤ 1.5×", ratio <= 1.5))
        rows.append((f"counting overhead, {name}", f"counting {fast * 1e3:8.3f} ms   not {quiet * 1e3:8.3f} ms",
                     f"{overhead:+8.1%}", "≤ 10%", overhead <= 0.10))

    small, small_shape = SHAPES[0][1], SHAPES[0][2]
    x_small = rng.standard_normal(small_shape)
    params_small = execute(small, x_small).params
    reference, fast_small = race(lambda: execute(small, x_small, params_small, method="reference"),
                                 lambda: execute(small, x_small, params_small), rounds=3, number=1)
    speedup = reference / fast_small
    rows.append((f"fast vs reference, {SHAPES[0][0]}",
                 f"reference {reference * 1e3:8.1f} ms   fast {fast_small * 1e3:7.3f} ms",
                 f"{speedup:8.0f}× faster", "≥ 100×", speedup >= 100))

    width = max(len(row[0]) for row in rows)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    print(f"numpy {np.__version__}; torch {torch.__version__ if torch else 'not installed'} "
          f"(float64, 2 threads); best of {rounds} interleaved rounds; load average {load}")
    for name, times_text, ratio_text, target, ok in rows:
        print(f"{name:<{width}}  {times_text}  {ratio_text:>16}  (target {target}: {verdict(ok)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
