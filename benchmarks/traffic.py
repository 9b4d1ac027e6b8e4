"""What tracking touched elements costs: run by hand, ``python benchmarks/traffic.py``; never
part of the tests.

``execute`` of MobileNet V1 and V2 (alpha 1) at a given resolution (224 by default), counting,
with ``track=True`` beside the same run without it, and the ratio (target: at most 1.30). The
parameters and buffers are drawn once and passed in; the best of several rounds is kept, the
runs taking turns. The tracked reads and writes are checked against ``cost(net).reads`` and
``.writes`` once, so that a fast tracker that tracks wrong cannot pass. Also: the seconds to derive
``symconv.memory`` of MobileNet V2 symbolically in a fresh interpreter (target: under 1 s).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from symconv import cost, execute
from symconv.networks.zoo import mobilenet_v1, mobilenet_v2


def race(*runs: Callable[[], object], rounds: int) -> list[float]:
    """The best time of one call of each run, in seconds; the runs take turns."""
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(rounds):
        for run, kept in zip(runs, times):
            start = time.perf_counter()
            run()
            kept.append(time.perf_counter() - start)
    return [min(kept) for kept in times]


def measure(name: str, net: object, rounds: int) -> None:
    x = np.random.default_rng(0).standard_normal(net.input_shape)  # type: ignore[attr-defined]
    first = execute(net, x, track=True)
    derived = cost(net)
    assert first.traffic is not None
    right = (first.traffic.reads, first.traffic.writes) == (int(derived.reads),
                                                            int(derived.writes))
    params, buffers = first.params, first.buffers
    tracked, plain = race(
        lambda: execute(net, x, params, buffers=buffers, track=True),
        lambda: execute(net, x, params, buffers=buffers),
        rounds=rounds,
    )
    print(f"{name:<22} plain {plain:7.3f} s   tracked {tracked:7.3f} s   ratio "
          f"{tracked / plain:5.2f}   reads {first.traffic.reads} writes {first.traffic.writes}"
          f" {'= derived' if right else '!= derived ' + str((derived.reads, derived.writes))}")


def memory_seconds() -> tuple[float, float]:
    """Seconds to import symconv, and to derive MobileNet V2's memory at a symbolic
    resolution H, in a fresh interpreter."""
    code = ("import time; t = time.perf_counter(); import symconv, sympy; "
            "from symconv.networks.zoo import mobilenet_v2; i = time.perf_counter() - t; "
            "H = sympy.Symbol('H', positive=True, integer=True); t = time.perf_counter(); "
            "m = symconv.memory(mobilenet_v2(resolution=H)); m.total_bytes; "
            "print(i, time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    imported, derived = out.stdout.split()
    return float(imported), float(derived)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=224)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for name, build in (("mobilenet_v1", mobilenet_v1), ("mobilenet_v2", mobilenet_v2)):
        measure(f"{name} @ {args.resolution}", build(resolution=args.resolution), args.rounds)
    try:
        imported, derived = memory_seconds()
        print(f"symconv.memory(mobilenet_v2(resolution=H)): {derived:.2f} s (target < 1 s); "
              f"import symconv before it: {imported:.2f} s")
    except (subprocess.CalledProcessError, ValueError) as error:
        print(f"symconv.memory not measured: {error}")


if __name__ == "__main__":
    main()
