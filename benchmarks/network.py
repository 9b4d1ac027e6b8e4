"""Issue 4's targets: deriving a network's formulas grows linearly; 500 layers under 5 s.

Run by hand from the repository root::

    python benchmarks/network.py [--runs 3]

Prints the median time to derive the symbolic cost (and the ``ops`` count) of synthetic networks
of 100, 200 and 500 layers — depthwise separable blocks on ``(H, W, M)`` with every size a
symbol, a depthwise and a pointwise layer each — with the ratio of each time to the
100-layer one (linear growth: about 2 and 5), then MobileNet V1 and V2 symbolic (``alpha``,
``rho``) and numeric, then issue 16's chain: ``n`` 3×3 convolutions ``8 → 8`` with a symbolic
stride ``s`` and padding 1 on ``(H, W, 8)``, at 10, 20, 40 and 80 layers, with the ratio of each
time to the 10-layer one (linear growth: about 2, 4 and 8; nested floors made it quadratic or
worse). SymPy's cache is cleared before every run. No assertion: the numbers go in the developers' notes.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from sympy.core.cache import clear_cache

from symconv import Conv2d, DepthwiseConv2d, PointwiseConv2d, Sequential, cost, count
from symconv.networks.zoo import mobilenet_v1, mobilenet_v2
from symconv.symbols import H, M, W, alpha, k, rho, s


def synthetic(layers: int) -> Sequential:
    """``layers / 2`` separable blocks ``M → M`` with a ``k×k`` depthwise kernel, stride 1 and no
    padding: each block shrinks H and W by ``k − 1``, so every size stays a new expression."""
    blocks = []
    for index in range(layers // 2):
        blocks.append((f"block{index}", Sequential(
            ("depthwise", DepthwiseConv2d(M, k)),
            ("pointwise", PointwiseConv2d(M, M)),
        )))
    return Sequential(*blocks)


def strided_chain(layers: int) -> Sequential:
    """``layers`` 3×3 convolutions ``8 → 8`` with the symbolic stride ``s`` and padding 1: each
    output size holds the floors of every layer before it."""
    return Sequential(*[Conv2d(8, 8, 3, stride=s, padding=1) for _ in range(layers)])


def median_seconds(work: Callable[[], object], runs: int) -> float:
    """The median wall time of ``runs`` calls of ``work``, each with SymPy's cache cleared."""
    times = []
    for _ in range(runs):
        clear_cache()
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs

    print("synthetic depthwise separable network on (H, W, M), all symbolic: cost + ops count")
    base = None
    for layers in (100, 200, 500):
        net = synthetic(layers)
        seconds = median_seconds(lambda net=net: count(cost(net, (H, W, M)), convention="ops"), runs)
        base = base or seconds
        print(f"  {layers:4d} layers  {seconds:7.3f} s   ratio to 100 layers {seconds / base:5.2f}")

    print("MobileNets: cost(net) of the whole network")
    cases: dict[str, Callable[[], object]] = {
        "mobilenet_v1(alpha, rho)": lambda: cost(mobilenet_v1(alpha, rho)),
        "mobilenet_v1()": lambda: cost(mobilenet_v1()),
        "mobilenet_v2(alpha, rho)": lambda: cost(mobilenet_v2(alpha, rho)),
        "mobilenet_v2()": lambda: cost(mobilenet_v2()),
    }
    for name, work in cases.items():
        print(f"  {name:26} {median_seconds(work, runs):7.3f} s")

    print("chain of convolutions with a symbolic stride s on (H, W, 8): cost")
    base = None
    for layers in (10, 20, 40, 80):
        net = strided_chain(layers)
        seconds = median_seconds(lambda net=net: cost(net, (H, W, 8)), runs)
        base = base or seconds
        print(f"  {layers:4d} layers  {seconds:7.3f} s   ratio to 10 layers {seconds / base:5.2f}")


if __name__ == "__main__":
    main()
