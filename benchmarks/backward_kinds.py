"""How fast the backward executors of the activations, normalisations and other kinds are,
against their forward: run by hand, ``python benchmarks/backward_kinds.py``; never part of the
tests.

Prints the fast backward executor (``backward_fast`` on the forward's saved input, all
gradients, counted) against the fast forward executor (``execute``, counted) on the same layer
and input, with their ratio: the best single call of each over interleaved rounds (``race`` of
``benchmarks/backward.py``; ``--rounds``, 30 by default) — target: backward at most 2.5× the
forward's time (as ``benchmarks/backward.py`` for convolutions, BatchNorm, ReLU6 and Linear).

Recorded 2026-12-02 on the shared 2-core machine (load average about 6), with
``OPENBLAS_NUM_THREADS=1``, backward/forward over four runs (best of 5, not interleaved): Sigmoid
0.9–1.7, SiLU 2.0–2.6, Tanh 1.5–2.4, GELU 0.65–1.4 (both sides evaluate erf element by element),
GELU-tanh 1.9–2.8, ELU 0.7–1.0, Softplus 1.6–1.9, Mish 2.2–2.8, Softmax 0.9–1.2, LayerNorm
2.7–4.3, GroupNorm 5.5–12, LayerScale 1.8–1.9, Mean 0.3–0.5, AdaptiveAvgPool 0.6–0.8.

Then (load average 3–5, ``OPENBLAS_NUM_THREADS=1``, interleaved rounds, three runs after),
before → after the norms moved to whole arrays and the activations to larger chunks: LayerNorm
2.9 → 1.6–1.7 (2.8 → 0.71–0.73 ms), GroupNorm 6.0–6.4 → 1.5–1.7 (2.5 → 0.65–0.83 ms), SiLU
2.0–2.6 (the record above; 1.1 in a run whose forward page-faulted) → 1.9–2.0, GELU-tanh
2.1–2.3 → 1.7–1.9, Mish 2.3–2.5 → 2.0–2.2; the other rows as before (LayerScale 2.2).
GroupNorm works on BatchNorm's wide rows (every per-element value is a channel's), its group
sums folded from column sums; LayerNorm on
``(P, C)`` whole, its row sums as one-operand and two-operand einsums, the weight and bias
gradients down wide rows; both take the statistics the forward saves from their counted
``x − μ``. The transcendental activations do 2–4× the forward's operations (SiLU 8 against 3,
GELU-tanh 18 against 9, Mish 12 against 4, exp and tanh the dearest): chunks of 32768 elements
(from 8192) take a quarter of the calls, and the formula's own work is what is left, within 10% of
the same NumPy operations written by hand in place. Measured with the allocator kept from
returning memory (``MALLOC_MMAP_THRESHOLD_=67108864 MALLOC_TRIM_THRESHOLD_=1073741824``, so that
neither side touches fresh memory: the forward at its fastest), the ratios are SiLU 2.0,
GELU-tanh 1.9, Mish 2.0, LayerNorm 1.6, GroupNorm 1.6; the forward's timings without it swing
by up to 4× with the page faults of its fresh arrays (Sigmoid's and the first layer's most).

The newest kinds (2026-12-02, load average 4.3–6.8, ``OPENBLAS_NUM_THREADS=1``, best of 30
interleaved rounds, two to four runs), before → after: Upsample nearest ×2 on 28×28×128
4.91 → 1.13–1.57 (its scatter-add was ``np.add.at``; now in-place adds on slices grouped so
that no input element is added to twice in one, one addition per element as counted:
:func:`symconv.execute.backward_resize.scatter_groups`), Upsample bilinear ×2 1.62 (against a
forward that page-faulted 22 MB a call, 14–15 ms) → 0.50–0.59 with the grouped adds, then
1.36–1.46 once forward and backward took their taps in kept scratch arrays (forward 14–15 →
2.9–3.4 ms, backward 22 → 3.1–4.6 ms; ``np.take(..., out=)`` with ``mode="clip"``, as the
default ``"raise"`` buffers its output, 2.9 against 2.1 ms),
``F.normalize`` on 64×3×49×32 2.44–2.55 → 1.10–2.23 (its operations into two arrays of the
input's size instead of seven fresh ones); as they were: PReLU(64) on 56×56×64 1.94–2.09,
ViT-S/16 attention (197×384, 6 heads; the graph's backward walk, forward not timed) 1.49–1.93,
``torch.roll`` 0.80–0.91, MulParameter (Swin V2's logit scale on 64×3×49×49) 1.64–1.81, Swin
V2's ``cpb_mlp`` on its constant table 1.27–1.52. ``x[0::2, 1::2]`` (Strided) stays at
2.66–3.58 and cannot go lower: its forward is a view (0.01–0.02 ms of Python), its backward
must write the whole input gradient (zeros, then the strided copy: 0.04–0.05 ms, of which
``np.zeros`` of the input's size alone is 0.02 ms), as PyTorch's ``slice_backward`` does.

Recorded 2026-12-02 at 12:23 (load average 0.4–0.7, nothing else running,
``OPENBLAS_NUM_THREADS=1 python benchmarks/backward_kinds.py --rounds 30 --torch``): every row
under 2.5 but the strided view, 3.88–3.91 (0.04 ms against a view's 0.01 ms of Python), and
Linear 1024→1000 2.09–2.36 (benchmarks/backward.py says why it sits near 2.5); the largest
others mish 2.07–2.10, layerscale 2.03–2.17, PReLU 1.97. PyTorch's own, the same run (float64,
one thread, ``--torch``): ``x[:, :, 0::2, 1::2]`` 15.6–15.8 (a view of 0.004 ms, then
``slice_backward``'s zeros and strided copy, 0.05–0.06 ms: the same backward as symconv's),
``F.linear`` 1.66–1.87 (its backward 0.26–0.37 ms, as symconv's 0.28–0.31). The ratio against
a view measures the view's Python overhead; no backward that writes the input's gradient can
meet it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from backward import race  # this directory, first on the path when run

from symconv import execute
from symconv.execute.backward import _Walk  # the backward walk alone (the forward not timed)
from symconv.execute.backward_layers import backward_fast
from symconv.execute.counter import Counter
from symconv.frontends.mapping_windows import FunctionalLinear
from symconv.layers import (
    Activation,
    AdaptiveAvgPool2d,
    Composite,
    Graph,
    GroupNorm,
    Layer,
    LayerNorm,
    LayerScale,
    Linear,
    Mean,
    PReLU,
    ReLU,
    Softmax,
    Upsample,
)
from symconv.layers.attention import multihead_attention
from symconv.layers.tokens import MulParameter
from symconv.layers.windows import Constant, Normalize, Roll, Strided

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
    # the newest kinds, at the shapes they meet in torchvision's models
    ("upsample nearest x2 28x28x128", Upsample(scale_factor=2, mode="nearest"), (28, 28, 128)),
    ("upsample bilinear x2 28x28x128", Upsample(scale_factor=2, mode="bilinear"),
     (28, 28, 128)),
    ("prelu(64) 56x56x64", PReLU(64), SHAPE),
    # ViT-S/16's self-attention: 197 tokens of 384 channels, 6 heads (a graph: the walk)
    ("attention vit-s 197x384 h6", multihead_attention(384, 6, tokens=197),
     (197, 384)),
    # Swin-T's first stage: the cyclic shift, patch merging's x[0::2, 1::2], and Swin V2's
    # cosine attention (F.normalize of q per head and window, its logit scale on the scores)
    ("roll (-3,-3) 56x56x96", Roll((-3, -3), (0, 1)), (56, 56, 96)),
    ("strided [0::2,1::2] 56x56x96", Strided((0, 1), (2, 2)), (56, 56, 96)),
    ("linear 1024->1000", Linear(1024, 1000), (1024,)),   # as benchmarks/backward.py, beside torch
    ("normalize 64x3x49x32", Normalize(axis=-1), (64, 3, 49, 32)),
    ("mulparameter 64x3x49x49", MulParameter((3, 1, 1)), (64, 3, 49, 49)),
    # Swin V2's cpb_mlp on its constant table of relative coordinates (a Constant-fed branch)
    ("cpb_mlp on constant 13x13x2", Graph(
        ("table", Constant((13, 13, 2))), ("fc1", FunctionalLinear(2, 512)), ("relu", ReLU()),
        ("fc2", FunctionalLinear(512, 3))), (56, 56, 96)),
]


def main(rounds: int, only: str = "") -> None:
    print(f"fast executors, backward (all gradients) against forward, best of {rounds} "
          "interleaved rounds")
    print(f"{'layer':32} {'forward ms':>11} {'backward ms':>12} {'ratio':>6}")
    for name, layer, shape in LAYERS:
        if only not in name:
            continue
        x = np.random.default_rng(0).standard_normal(shape)
        run = execute(layer, x, training=True)   # the training forward's saved values too
        grad = np.random.default_rng(1).standard_normal(run.output.shape)
        params = {**run.params, **run.buffers, **run.saved}

        def forward(layer: Layer = layer, x: np.ndarray = x, run: object = run) -> object:
            return execute(layer, x, run.params, buffers=run.buffers)  # type: ignore[attr-defined]

        def backward(layer: Layer = layer, x: np.ndarray = x, params: dict = params,
                     grad: np.ndarray = grad, run: object = run) -> object:
            if isinstance(layer, Composite):   # every stage's backward, in reverse order
                return _Walk("fast", (), True).walk(layer, run, x, grad, "",  # type: ignore[arg-type]
                                                    True)
            return backward_fast(layer, x, params, grad, Counter(), input_grad=True,
                                 trainable=True)

        forward_time, backward_time = race(forward, backward, rounds=rounds)
        print(f"{name:32} {forward_time * 1e3:11.2f} {backward_time * 1e3:12.2f} "
              f"{backward_time / forward_time:6.2f}")


def torch_rows(rounds: int) -> None:
    """The two rows whose ratio is a floor, not a choice, in PyTorch itself (float64, one
    thread, the kernels autograd runs, without its engine): ``x[:, :, 0::2, 1::2]`` is a view
    forward and ``slice_backward`` (zeros, then the strided copy) backward; ``F.linear`` on one
    position of 1024 features is ``W·x`` forward, ``Wᵀ·g`` and the outer product ``g·xᵀ`` (the
    weight gradient, 8 MB written) backward. Skipped without torch."""
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(1, 96, 56, 56, dtype=torch.float64, generator=generator)
    g = torch.randn(1, 96, 28, 28, dtype=torch.float64, generator=generator)

    def strided_forward() -> object:
        return x[:, :, 0::2, 1::2]

    def strided_backward() -> object:
        dx = torch.zeros_like(x)
        dx[:, :, 0::2, 1::2] = g
        return dx

    weight = torch.randn(1000, 1024, dtype=torch.float64, generator=generator)
    bias = torch.randn(1000, dtype=torch.float64, generator=generator)
    features = torch.randn(1, 1024, dtype=torch.float64, generator=generator)
    grad = torch.randn(1, 1000, dtype=torch.float64, generator=generator)

    def linear_forward() -> object:
        return torch.nn.functional.linear(features, weight, bias)

    def linear_backward() -> object:
        return grad @ weight, grad.t() @ features, grad.sum(0)

    print(f"\nPyTorch {torch.__version__}, the same two layers (float64, 1 thread), best of "
          f"{rounds} interleaved rounds")
    print(f"{'layer':32} {'forward ms':>11} {'backward ms':>12} {'ratio':>6}")
    for name, forward, backward in [
            ("torch strided [0::2,1::2] 56x56x96", strided_forward, strided_backward),
            ("torch linear 1024->1000", linear_forward, linear_backward)]:
        forward_time, backward_time = race(forward, backward, rounds=rounds)
        print(f"{name:32} {forward_time * 1e3:11.2f} {backward_time * 1e3:12.2f} "
              f"{backward_time / forward_time:6.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="rounds per measurement (the best is kept)")
    parser.add_argument("--only", default="", help="the rows whose name contains this")
    parser.add_argument("--torch", action="store_true", help="also PyTorch's own ratio for "
                        "the strided view and Linear 1024->1000")
    arguments = parser.parse_args()
    main(arguments.rounds, arguments.only)
    if arguments.torch:
        torch_rows(arguments.rounds)
