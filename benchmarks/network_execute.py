"""How fast whole networks execute: run by hand, ``python benchmarks/network_execute.py``; never part of the tests.

``execute`` of MobileNet V1 (and V2) at 224×224 with alpha 1, counting every operation of every
layer (target for V1: under 5 s on 2 cores), printed beside the same run without counting
(``count=False``) and the ratio of the two. The parameters and buffers are drawn once and
passed in, so that only the execution is timed; the best of several rounds is kept, the runs
taking turns. The counted totals are checked against the derived ones (``cost(net)``) once, so
that a fast run that counts wrong cannot pass.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from symconv import cost, execute
from symconv.layers import Sequential
from symconv.networks.zoo import mobilenet_v1, mobilenet_v2

TARGET_SECONDS = 5.0


def race(*runs: Callable[[], object], rounds: int) -> list[float]:
    """The best time of one call of each run, in seconds; the runs take turns round after round."""
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(rounds):
        for run, kept in zip(runs, times):
            start = time.perf_counter()
            run()
            kept.append(time.perf_counter() - start)
    return [min(kept) for kept in times]


def measure(name: str, build: Callable[[], Sequential], rounds: int) -> tuple[float, float, bool]:
    """Seconds with and without counting, and whether the counts equal the derived totals."""
    net = build()
    x = np.random.default_rng(0).standard_normal(net.input_shape)
    first = execute(net, x)
    assert first.counts is not None
    derived = cost(net)
    right = True
    for kind in ("mults", "adds", "divs", "comparisons"):
        counted, formula = getattr(first.counts, kind), int(getattr(derived, kind))
        if counted != formula:
            print(f"{name}: counted {kind} {counted} != derived {formula}")
            right = False
    params, buffers = first.params, first.buffers
    counting, quiet = race(
        lambda: execute(net, x, params, buffers=buffers),
        lambda: execute(net, x, params, buffers=buffers, count=False),
        rounds=rounds,
    )
    print(f"{name:14} {counting:9.3f}s {quiet:11.3f}s {counting / quiet:6.2f}×   "
          f"{first.counts.mults:,} mults, {first.counts.adds:,} adds, "
          f"{first.counts.divs:,} divs, {first.counts.comparisons:,} comparisons")
    return counting, quiet, right


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="rounds per measurement (the best is kept)")
    rounds = parser.parse_args(argv).rounds
    print(f"cores available: {len(os.sched_getaffinity(0))}; numpy {np.__version__}; best of {rounds} rounds")
    print(f"{'network':14} {'counting':>10} {'no counting':>12} {'ratio':>7}   counted (= derived)")
    counting, _, right_v1 = measure("mobilenet_v1", mobilenet_v1, rounds)
    _, _, right_v2 = measure("mobilenet_v2", mobilenet_v2, rounds)
    verdict = "meets target" if counting < TARGET_SECONDS else "MISSES target"
    print(f"MobileNet V1 at 224, alpha 1, with counting: {counting:.3f} s "
          f"(target < {TARGET_SECONDS:.0f} s on 2 cores): {verdict}")
    return 0 if right_v1 and right_v2 and counting < TARGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
