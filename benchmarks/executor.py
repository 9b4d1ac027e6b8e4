"""How fast the executors are: run by hand, ``python benchmarks/executor.py``; never part of the tests.

Prints the ratios side by side, from the best of several rounds in which the runs compared
take turns:

1. the fast executor against the plain-loop reference on 16×16×8 → 16, 3×3, padding 1
   (target: at least 100× faster);
2. the fast executor with counting against without (``count=False``), on the same layer and on
   56×56×64 → 64 (target: at most 10% overhead);
3. the fast executor on 56×56×64 → 64, 3×3, padding 1 against one ``numpy.matmul`` doing the
   same number of multiply-adds, im2col-sized: (56·56, 3·3·64) @ (3·3·64, 64)
   (target: within 2×).

The executor allocates one array per call, its output, as the matmul does: the padded input and
the product buffer are scratch arrays it keeps between calls (``_workspace`` in
``symconv/execute/conv.py``), because touching fresh memory is slow where page faults are costly
and glibc hands freed memory back to the system. Before they were kept, this comparison gave
2.3×; ``MALLOC_TRIM_THRESHOLD_=1000000000 MALLOC_MMAP_THRESHOLD_=1000000000 python
benchmarks/executor.py`` keeps freed memory in the process and shows the arithmetic alone.
"""

from __future__ import annotations

import argparse
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from symconv import Conv2d, execute


def race(*runs: Callable[[], object], rounds: int, number: int) -> list[float]:
    """The best time of one call of each run, in seconds.

    The runs take turns, round after round, so that a machine busy with other work slows them
    alike and their ratio stays fair.
    """
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(rounds):
        for run, kept in zip(runs, times):
            kept.append(timeit.timeit(run, number=number) / number)
    return [min(kept) for kept in times]


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="rounds per measurement (the best is kept)")
    rounds = parser.parse_args(argv).rounds
    rng = np.random.default_rng(0)

    small = Conv2d(8, 16, 3, padding=1)
    x_small = rng.standard_normal((16, 16, 8))
    params_small = execute(small, x_small).params
    (reference,) = race(lambda: execute(small, x_small, params_small, method="reference"), rounds=3, number=1)
    fast_small, quiet_small = race(
        lambda: execute(small, x_small, params_small),
        lambda: execute(small, x_small, params_small, count=False),
        rounds=rounds, number=100,
    )

    large = Conv2d(64, 64, 3, padding=1)
    x_large = rng.standard_normal((56, 56, 64))
    params_large = execute(large, x_large).params
    columns = rng.standard_normal((56 * 56, 3 * 3 * 64))
    kernel = rng.standard_normal((3 * 3 * 64, 64))
    fast_large, quiet_large, matmul = race(
        lambda: execute(large, x_large, params_large),
        lambda: execute(large, x_large, params_large, count=False),
        lambda: np.matmul(columns, kernel),
        rounds=rounds, number=5,
    )

    speedup = reference / fast_small
    overhead_small = fast_small / quiet_small - 1
    overhead_large = fast_large / quiet_large - 1
    versus_matmul = fast_large / matmul
    rows = [
        ("fast vs reference, 16×16×8 → 16, 3×3",
         f"reference {reference * 1e3:8.1f} ms   fast {fast_small * 1e3:7.3f} ms",
         f"{speedup:8.0f}× faster", "≥ 100×", speedup >= 100),
        ("counting overhead, 16×16×8 → 16",
         f"counting {fast_small * 1e3:9.3f} ms   not {quiet_small * 1e3:8.3f} ms",
         f"{overhead_small:+8.1%}", "≤ 10%", overhead_small <= 0.10),
        ("counting overhead, 56×56×64 → 64",
         f"counting {fast_large * 1e3:9.3f} ms   not {quiet_large * 1e3:8.3f} ms",
         f"{overhead_large:+8.1%}", "≤ 10%", overhead_large <= 0.10),
        ("fast vs im2col matmul, 56×56×64 → 64, 3×3",
         f"fast {fast_large * 1e3:13.3f} ms   matmul {matmul * 1e3:5.3f} ms",
         f"{versus_matmul:8.2f}× the time", "≤ 2×", versus_matmul <= 2),
    ]
    width = max(len(row[0]) for row in rows)
    print(f"numpy {np.__version__}; best of {rounds} interleaved rounds; times per call")
    for name, times, ratio, target, ok in rows:
        print(f"{name:<{width}}  {times}  {ratio:>18}  (target {target}: {verdict(ok)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
