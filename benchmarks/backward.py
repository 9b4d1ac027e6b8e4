"""How fast the backward pass is, against the forward: run by hand,
``python benchmarks/backward.py``; never part of the tests.

Prints, side by side with their ratios (best of several rounds, the runs taking turns):

1. the fast backward executor (``execute_backward``: input, weight and bias gradients, counted)
   against the fast forward executor on the same layer and input, in the same phase (the
   forward pass in training mode, ``execute(..., training=True)``, counted: BatchNorm's batch
   and running statistics) and at inference (``execute``, counted: BatchNorm folded) —
   target: backward at most 2.5× the forward's time. The forward run inside
   ``execute_backward`` is not timed: the backward's own work is timed through
   :func:`symconv.execute.backward_layers.backward_fast` on the forward's saved input and
   statistics (``save_mean``, ``save_invstd``);
2. deriving a network's training cost (``cost(net, phase="train")``) against its forward
   cost (``cost(net)``), each from a fresh start of SymPy's caches, a freshly built network
   (the ResNet-18 converted once) and a garbage collection, timed in process time (the CPU
   this process used: on a shared machine wall time mostly measures the wait for a core) —
   target: at most 2×. ``ratio`` is the best train time over the best forward time;
   ``paired`` the median, over the rounds, of each train time over the forward time measured
   just before it (a slow spell of the shared machine slows both of a pair alike).

Recorded 2026-12-02 at 12:21 and 12:23, with every branch of the day merged, nothing else
running (load average 0.4–1.0; ``OPENBLAS_NUM_THREADS=1 python benchmarks/backward.py --rounds
30``, twice). Section 2, training step against forward derivation: MobileNet V1 symbolic
1.88 / 1.78, V2 symbolic 1.69 / 1.75, V1 at 224 1.73 / 1.64, V2 at 224 1.74 / 1.76, ResNet-18
1.91 / 1.75; paired 1.62–1.87: every row under 2, the target. Again at 13:07, after the check
of ``frozen=`` paths was merged (in the public entry points; load 0.3, ``--only derivations``):
1.78, 1.71, 1.79, 1.75, 1.77; paired 1.70–1.80. Section 1, backward against the
training forward / the inference forward: standard 2.01–2.05 / 1.90–1.98, strided 2.03–2.05 /
2.02–2.03, depthwise 1.79–1.95 / 1.52–1.82, pointwise 2.24 / 2.14, grouped 1.59–1.60 /
1.54–1.62, BatchNorm 0.98–1.01 / 2.25–2.40, ReLU6 0.69–0.80 / 0.68–0.83, Linear 1024→1000
2.62–2.76 / 2.19–2.46 (0.34–0.44 ms against 0.13–0.20). ``benchmarks/backward_kinds.py
--torch`` in the same minutes: symconv's Linear 2.09 (0.28 against 0.14 ms), PyTorch's own
F.linear 1.82 (backward 0.27 ms, the same as symconv's, against a forward of 0.15 ms that adds
the bias as a separate pass). Linear on one position is the floor of this target: its forward
reads the 8 MB weight once (``x @ W``: 0.09–0.10 ms alone, the weight in the 32 MB L3 cache);
its backward must read it again (``g @ Wᵀ``: 0.10 ms) and write a weight-sized gradient (the
outer product ``x·gᵀ``, 0.13 ms into fresh or kept memory alike): 0.23 ms at the least, 2.3–2.5×
the forward before any overhead, 0.27–0.35 ms run after each other (each pass pushes the
other's 8 MB out of the caches). Computed in blocks of 32–256 rows (each block's rows of W
read and of the gradient written together), the two took 0.27–0.36 ms: no better. The ratio
of this row moves between 2.1 and 2.8 from run to run; the backward's time is PyTorch's own.

Recorded 2026-12-02 at 12:12–12:15 (load average 1.3–2.4: another engineer's runs;
``OPENBLAS_NUM_THREADS=1 python benchmarks/backward.py --only derivations --rounds 60``, best
of 15, main at a614fcf and this change taking turns, twice), training step against forward
derivation, before → after: MobileNet V1 symbolic 1.92 / 1.92 → 1.83 / 1.85, V2 symbolic
1.96 / 1.90 → 1.75 / 1.76, V1 at 224 1.91 / 1.86 → 1.92 / 1.77, V2 at 224 1.92 / 1.92 →
1.75 / 1.74, ResNet-18 from ``from_torch`` 1.87 / 1.88 → 1.80 / 1.77; paired 1.64–2.01 →
1.68–1.86. Earlier runs of the change at load 0.5–0.8: 1.73–1.84, paired 1.70–1.82. The
forward derivation is unchanged (best of 60, the two taking turns: V1 symbolic 2.14–2.18 ms
against 2.15–2.25, V2 at 224 3.37–3.50 against 3.50–3.57). The 1.7 aimed at is not reached
on every row by time. Counted in instructions (valgrind ``--tool=cachegrind --cache-sim=no``
under ``setarch -R`` with ``PYTHONHASHSEED=0``: the same count on every run, where the times
above move by 0.1 with the machine's load; per derivation from fresh caches, less the
building of the network), V2 at 224: forward 34.2 → 34.0 M, train 62.7 → 56.0 M (backward
walk 18.7 → 15.4, training forward 10.5 → 7.9): 1.83 → 1.65; V1 symbolic 1.83 → 1.65 (train
36.6 → 32.8 M). The time ratio stays about 0.1 above the instruction ratio (the training
step's own work runs fewer instructions a microsecond than the forward's; not the garbage
collector: turned off, it moves neither). What changed: a layer keeps its dataclass hash once
worked out (the backward walk and the training forward hashed each layer again at every level
of their memo keys above it: 1.5 M); the training forward's composites adjust their counts in
one loop of ints (1 M); a layer's parts make each Integer once per walk, without SymPy's cache,
each outputs tuple once per layer, and their counts summed as they are made (about 3.3 M); the
backward rule looked up without ``singledispatch``'s wrapper, a layer's parameters compared
without SymPy, BatchNorm's values per channel and the elementwise nests built with less
Python (about 0.6 M). Tried and left out: building a part's ``__dict__`` from a pre-sized copy, LoopNest
set by item (no faster); SymPy's cached ``Integer`` instead of ``symconv.derive.cost._integer`` (fewer
objects, more instructions: the same time). What is left is spread thin: the backward walk's
bookkeeping of each stage (about 0.3 ms of V2's 2.5 ms beyond the forward, a third of it the
memo keys' hashes of SymPy sizes), and per part a LoopNest, a Cost and its Integers.

Recorded 2026-12-02 (load average 1.1–2.0, ``OPENBLAS_NUM_THREADS=1 python
benchmarks/backward.py --rounds 30 --only derivations``, best of 15; five runs after, the
last after merging main, one before), training step against forward derivation, before → after.
"Before" is main at
a6fbf15, whose forward derivation had got faster (equal leaves derived once, ``count`` on
counts only) while the training derivation had not: the ratio had risen from 1.80–1.87 to
2.27–2.37 in a first run of this session. MobileNet V1 symbolic 2.31 → 1.69–1.93, V2 symbolic
2.27 → 1.87–2.01, V1 at 224 2.30 → 1.82–1.89, V2 at 224 2.11 → 1.97–2.10, ResNet-18 from
``from_torch`` 2.22 → 1.79–1.96; the median of paired ratios (column ``paired``, added in this
change) 2.16–2.69 → 1.72–2.01 (1.84–1.89 in the last run). One further run of the after,
during a slow spell, gave 2.60 and 2.44 for V1 and V2 at 224 (best of 15 is not enough then;
``paired`` is steadier). In time,
V2 at 224 (best of 40 of each part, measured apart): backward walk 3.7 → 2.3 ms, training
forward 1.7 → 1.1 ms, the forward derivation 3.6–3.9 → 3.4 ms (LoopNest's own ``__init__``
serves it too). What changed: a nest's counts in one module (:mod:`symconv.derive.nest_counts`),
each gradient and training part built once with its counts only (before: a full cost, then
``dataclasses.replace`` to drop its parameters) and their sums taken in Python ints; the costs
of the backward and training walks built without the frozen dataclass's ``__init__`` (16
``object.__setattr__`` calls each: ``cost._built``, ``cost._changed``); a stage's role in the
backward walk looked up once per type (it was six ``isinstance`` and two ``singledispatch``
look-ups a stage); a composite's counts summed in one pass of ints, zeros skipped by identity;
the training forward's composites keep their stages without a training forward as they are and
adjust only the counts a change touches; the whole network's walks hash no memo key; LoopNest
sets its fields in one go. The target, at most 2×, is met without margin for MobileNet V2 at
224 (best over best 1.97–2.10, paired 1.89–2.01) and the 1.8 aimed at is not reached:
what is left is spread thin (per BatchNorm, 6 backward and 4 training-forward nests, each a
LoopNest, a Cost and its Integers: about 27 µs for its backward leaf from fresh caches, a
quarter of it making its 12 new SymPy Integers).

Section 1 run once the same day (load average 1.4–1.6, ``--rounds 30``), backward against the
training forward and the inference forward: standard 3×3 2.23 and 1.98, strided 2.10 and 1.90,
depthwise 1.79 and 1.58, pointwise 2.23 and 2.10, grouped 1.62 and 1.48, BatchNorm 0.96 and
2.26, ReLU6 0.79 and 0.75, Linear 1024→1000 2.73 and 2.15 (0.49 ms against 0.18 and 0.23 ms).
Linear's executor is unchanged: the earlier records below tried what is cheap.

Then, with every branch of that day merged (load average 0.2, nothing else running), twice:
derivations 1.84 / 1.90 / 1.95 / 1.91 / 1.85 and 1.88 / 1.82 / 1.93 / 1.83 / 1.63 (MobileNet V1
and V2 symbolic, at 224, ResNet-18; paired 1.73–2.01), every row under 2; section 1: standard
2.11 / 1.99, strided 2.18 / 2.15, depthwise 1.85 / 1.84, pointwise 2.21 / 2.08, grouped
1.64 / 1.58, BatchNorm 0.94 / 2.25, ReLU6 0.70 / 0.68, Linear 2.67 / 2.46 (0.32 ms against 0.12
and 0.13 ms: its weight gradient, 8 MB of fresh memory written, is the floor).

Recorded 2026-12-02 (load average about 3, ``OPENBLAS_NUM_THREADS=1 python
benchmarks/backward.py --only derivations --rounds 80``, best of 20, two runs), training step
against forward derivation, before → after: MobileNet V1 symbolic 3.46 → 1.91–1.96, V2
symbolic 3.45 → 1.81–1.84, V1 at 224 3.52 → 1.90–1.94, V2 at 224 3.56 → 1.86, ResNet-18 from
``from_torch`` at 224 3.47 → 1.77–1.82 (train 13.8 → 6.0–6.3 ms for V1, 26.0 → 10.5–10.7 ms
for V2; the forward derivation itself 4.0 → 3.2 ms and 7.3 → 5.8 ms, its nests sharing the
integer paths). "Before" is main at 1fc6128 timed by this same benchmark. What changed:
repeated blocks and equal leaves derived once in the backward walk (a memo on the layer, its
input shape, whether its input gradient is needed and its frozen parts); integer fast paths
(plain Python loops) for a nest's counts, sums, products and reads where every size is an
integer; the gradients carry their counts only (their traffic was never summed: the backward
totals' reads and writes were 0 already), so no traffic is derived for them; the training
forward skips layers without one by type and adds composite differences in ints. The margin
for MobileNet V1 is small (its many distinct BatchNorms each derive 6 backward and 4
training-forward nests against 1 forward nest).

Recorded 2026-12-02 (the same machine, load average about 3.5,
``OPENBLAS_NUM_THREADS=1 python benchmarks/backward.py --rounds 60``), once BatchNorm's
training-mode forward counted the batch statistics and its backward read them instead of
computing them again uncounted: BatchNorm 56×56×64 backward 0.32–0.33 ms against 0.33–0.35 ms
for the training forward (0.96–1.04×) and 0.14 ms for the folded inference forward (2.35–2.37×;
2.84× before, with the two uncounted statistics passes); the other layers' training forward is
their inference forward (standard 3×3 2.04, strided 2.03, pointwise 2.14–2.17, grouped
1.55–1.59, depthwise 1.65–1.84, ReLU6 0.69–0.71, Linear 5.3–5.6). Deriving a training step
(best of 15, fresh caches): main before this change 2.9–3.9× the forward derivation (whose
own time fell to 4–7 ms with the traffic caches, the backward walk's did not), 3.3–3.9× after
(the training forward adds about 0.4× of a forward: repeated blocks derived once) — above
the 2× target either way (wall time, best of 3: noisier than the process time now used).

Then Linear 1024→1000 at one position (same command, load average 4–5), before → after its
weight gradient, an outer product ``x[:, None] · g``, ran with NumPy's ufunc buffer at its
smallest (:func:`symconv.execute.counter.row_loops`), over eight runs: backward 0.63 →
0.26–0.38 ms, 5.3–5.6 → 2.3–2.8 × the inference forward (0.11–0.14 ms) and 2.5–3.3 × the
training forward (0.10–0.12 ms), an 8 MB einsum ``m,n->mn`` having been a step between (3.3–4.0 ×). NumPy's
default 8192-element buffer copies a broadcast operation's 1000-element rows through itself
several at a time; with a 16-element buffer each row is multiplied where it lies: 0.43 → 0.11
ms for the 8 MB product, which is what writing 8 MB takes here (a plain fill: 0.13 ms). It stays
at the edge of 2.5: the forward reads the 8 MB weight once (a matrix-vector product, 0.09 ms);
the backward reads it again for the input gradient (0.10 ms) and writes the 8 MB gradient the
forward never touches. Not taken: einsum's ``m,n->mn`` (zero, then accumulate: 0.30 ms); a
1024×1×1000 matmul (OpenBLAS: 1.1 ms); BLAS's rank-1 update ``dger`` (SciPy only, and it adds
every product into zeros); half the rows on the depthwise paths' second thread (no gain with the
other core busy).

Then Linear and depthwise again (2026-12-02, load average 4.3–7.9, ``OPENBLAS_NUM_THREADS=1
python benchmarks/backward.py --only linear|depthwise --rounds 30 [--threads 1]``). Depthwise
swung 1.62–2.95 because its forward split the output rows over two threads (13 blocks of
:data:`~symconv.execute.conv.DEPTHWISE_BLOCK`, at least 8 needed) while the backward, in blocks
of 1 MB (4 blocks, also at least 8 needed), ran on one: the forward halved its time when the
other core was free and waited for a descheduled thread when it was not (page faults were not
it: 0.15–0.25 minor faults a call once warm, counted with ``getrusage``). The backward now
splits its rows whenever the forward splits its own: 1.41–2.20 × the inference forward on two
threads, 1.58–2.07 on one (``--threads 1``, forward and backward alike: 2.74–3.5 ms against
5.3–6.3 ms; it does twice the forward's operations per element). Linear 1024→1000 stays at the
edge, 2.0–3.25 × the inference forward under this load (0.14–0.22 against 0.38–0.44 ms; 1.54–2.9
in other runs): its backward is a matrix-vector product like the forward's (0.10–0.18 ms,
reading the 8 MB weight) plus the 8 MB weight gradient written (0.12–0.22 ms; an 8 MB fill alone
0.14–0.17 ms), both bound by memory, which the other engineers' processes share (the L3 is 32
MB). Tried without gain (best of 40, raced): the input gradient as ``W @ g`` instead of ``g @
Wᵀ``, the outer product before the matrix-vector product, ``np.multiply.outer``, and both in
blocks of 128 rows (0.40–0.49 ms each against 0.40–0.48 for the current form); the bias
gradient is 0.01 ms. Which run goes first matters: the forward timed right after the backward
finds the weight pushed out of cache by the 8 MB gradient.

Earlier, recorded 2026-12-02 on the shared 2-core machine (load average about 3),
``OPENBLAS_NUM_THREADS=1 python benchmarks/backward.py --rounds 60``, backward/forward, before
→ after the backward executors were vectorised and moved to kept scratch arrays: standard 3×3
2.79 → 1.96, strided 2.04 → 1.99, pointwise 2.06 → 2.07, grouped 1.94 → 1.51, depthwise 6.68 →
1.62 (blocks of rows that stay in cache), ReLU6 4.19 → 0.68 (a select on the values' bits;
``np.where`` alone took 4× the forward), BatchNorm 8.39 → 2.84, Linear 3.18 → 3.63 (its backward
is unchanged, 0.63 ms; its forward, a 1024×1000 matrix-vector product, went from 0.22 to 0.15 ms
as ``execute``'s per-call checks were cut; the weight gradient is an 8 MB outer product written
to fresh memory, which the forward never touches). BatchNorm stayed above 2.5 then: its forward
was the folded inference form, 2 operations per element, while its backward made 7 counted passes
(the nests of
:mod:`symconv.layers.backward`) and 2 uncounted ones (the batch statistics a training forward
would have saved), each a separate NumPy operation, already on wide rows and in place.
With OpenBLAS's default threads on the loaded machine the convolutions' weight-gradient
matmuls (a long inner dimension) were 60–800× slower than the forward's im2col matmul: threads
fighting for busy cores. Deriving a training step: 1.67–1.77× the forward derivation
(MobileNet V1/V2, symbolic and at 224; 1.57–1.69 before).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

import sympy

from symconv import Conv2d, DepthwiseConv2d, PointwiseConv2d, cost, execute
from symconv.execute.backward_layers import backward_fast
from symconv.execute.counter import Counter
from symconv.layers import BatchNorm2d, Layer, Linear, ReLU6
from symconv.networks.zoo import mobilenet_v1, mobilenet_v2

LAYERS: list[tuple[str, Layer, tuple[int, ...]]] = [
    ("standard 3x3 56x56x64->64", Conv2d(64, 64, 3, padding=1, bias=True), (56, 56, 64)),
    ("strided 3x3 56x56x32->64 s2", Conv2d(32, 64, 3, stride=2, padding=1), (56, 56, 32)),
    ("depthwise 3x3 112x112x32", DepthwiseConv2d(32, 3, padding=1), (112, 112, 32)),
    ("pointwise 28x28x128->256", PointwiseConv2d(128, 256), (28, 28, 128)),
    ("grouped 3x3 28x28x64 g4", Conv2d(64, 64, 3, padding=1, groups=4), (28, 28, 64)),
    ("batchnorm 56x56x64", BatchNorm2d(64), (56, 56, 64)),
    ("relu6 56x56x64", ReLU6(), (56, 56, 64)),
    ("linear 1024->1000", Linear(1024, 1000), (1024,)),
]


def race(*runs: Callable[[], object], rounds: int = 30, number: int = 1) -> list[float]:
    """The best time of one call of each run, the runs taking turns round after round, so that
    a machine busy with other work slows them alike (one call per turn: on a loaded machine a
    longer call is more often interrupted, which an average of several would count)."""
    best = [float("inf")] * len(runs)
    for _ in range(rounds):
        for index, run in enumerate(runs):
            best[index] = min(best[index], timeit.timeit(run, number=number) / number)
    return best


def executors(rounds: int = 30) -> None:
    print(f"1. fast executors, backward (all gradients) against the forward in training mode "
          f"(the same phase) and at inference, best of {rounds} interleaved rounds")
    print(f"{'layer':32} {'inference ms':>12} {'train fwd ms':>12} {'backward ms':>12} "
          f"{'bwd/train':>9} {'bwd/inf':>8}")
    for name, layer, shape in LAYERS:
        x = np.random.default_rng(0).standard_normal(shape)
        run = execute(layer, x, training=True)
        grad = np.random.default_rng(1).standard_normal(run.output.shape)
        params = {**run.params, **run.buffers, **run.saved}   # what the training forward saved

        def inference(layer: Layer = layer, x: np.ndarray = x, run: object = run) -> object:
            return execute(layer, x, run.params, buffers=run.buffers)  # type: ignore[attr-defined]

        def training(layer: Layer = layer, x: np.ndarray = x, run: object = run) -> object:
            return execute(layer, x, run.params, buffers=run.buffers,  # type: ignore[attr-defined]
                           training=True)

        def backward(layer: Layer = layer, x: np.ndarray = x, params: dict = params,
                     grad: np.ndarray = grad) -> object:
            return backward_fast(layer, x, params, grad, Counter(), input_grad=True,
                                 trainable=True)

        inference_time, training_time, backward_time = race(inference, training, backward,
                                                            rounds=rounds)
        print(f"{name:32} {inference_time * 1e3:12.2f} {training_time * 1e3:12.2f} "
              f"{backward_time * 1e3:12.2f} {backward_time / training_time:9.2f} "
              f"{backward_time / inference_time:8.2f}")


def _resnet18() -> Callable[[], Layer] | None:
    """torchvision's ResNet-18 through ``from_torch`` at 224 (``None`` without torch): built once
    (the bridge runs the model), each round derives from a fresh start of SymPy's caches."""
    try:
        import types

        sys.modules.setdefault("torchvision._meta_registrations",    # as tests/conftest.py
                               types.ModuleType("torchvision._meta_registrations"))
        import torchvision.models

        from symconv import from_torch
    except Exception:  # torch or torchvision missing: the row is left out
        return None
    net = from_torch(torchvision.models.resnet18().eval(), (224, 224, 3))
    return lambda: net


def derivations(rounds: int = 15) -> None:
    print(f"\n2. deriving a network: training step against forward pass, fresh SymPy caches, "
          f"best of {rounds} (process time: the CPU this process used, not the wait for a core)")
    print(f"{'network':32} {'forward ms':>11} {'train ms':>12} {'ratio':>6} {'paired':>7}")
    networks: list[tuple[str, Callable[[], Layer]]] = [
        ("mobilenet_v1 (alpha, rho)", mobilenet_v1),
        ("mobilenet_v2 (alpha, rho)", mobilenet_v2),
        ("mobilenet_v1 224", lambda: mobilenet_v1(1, resolution=224)),
        ("mobilenet_v2 224", lambda: mobilenet_v2(1, resolution=224))]
    resnet = _resnet18()
    if resnet is not None:
        networks.append(("resnet18 224 (from_torch)", resnet))
    for name, build in networks:
        times: dict[str, list[float]] = {"forward": [], "train": []}
        for _ in range(rounds):
            for phase in times:   # taking turns
                sympy.core.cache.clear_cache()
                net = build()
                gc.collect()   # no earlier round's garbage collected on this one's time
                start = time.process_time()
                cost(net, phase=phase)
                times[phase].append(time.process_time() - start)
        forward, train = min(times["forward"]), min(times["train"])
        # each round's train time over the forward time measured just before it, the median
        # of those: a slow spell of the shared machine slows both of a pair
        paired = statistics.median(t / f for f, t in zip(times["forward"], times["train"]))
        print(f"{name:32} {forward * 1e3:11.1f} {train * 1e3:12.1f} {train / forward:6.2f} "
              f"{paired:7.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="rounds per measurement (the best is kept)")
    parser.add_argument("--only", default="", help="run only the layers whose name starts with "
                        "this ('derivations': the derivations only)")
    parser.add_argument("--threads", type=int, default=None, help="threads of the depthwise "
                        "paths, forward and backward alike (default: symconv's, 2 on 2 cores)")
    arguments = parser.parse_args()
    if arguments.threads is not None:
        from symconv.execute import conv

        conv.THREADS = arguments.threads
    LAYERS[:] = [row for row in LAYERS if row[0].startswith(arguments.only)]
    if arguments.only != "derivations":
        executors(arguments.rounds)
    if arguments.only in ("", "derivations"):
        derivations(max(arguments.rounds // 4, 15))
