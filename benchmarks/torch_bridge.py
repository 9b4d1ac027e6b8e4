"""Issue 6's target: importing and counting a PyTorch model with symconv takes no longer than
ptflops counting the same model.

Run by hand from the repository root, with torch and ptflops installed::

    python benchmarks/torch_bridge.py [--runs 7] [--resolution 224]

The model is MobileNet V2 in PyTorch (tests/torch_nets.py: 141 leaf layers, 52 convolutions,
10 residual additions in ``forward``). symconv's time is ``from_torch`` (``torch.fx`` tracing
and conversion) plus ``count(net, convention="ptflops")`` (deriving every layer's cost), with
SymPy's cache cleared before every run; ptflops' is ``get_model_complexity_info`` (hooks and a
forward pass). The torch import is excluded from both. Prints the medians side by side with the
ratio, then symconv on a symbolic input ``(H, W, 3)`` for reference. No assertion.

Recorded on the project's 2-core machine (shared, so the milliseconds vary by run; the ratio
less): at 224, symconv 28–44 ms against ptflops 39–81 ms (0.51–0.70); at 160, 0.51–1.09 (ptflops'
forward pass shrinks with the input, symconv's derivation does not). Equal counts every time.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import torch  # imported before any timing
from ptflops import get_model_complexity_info
from sympy.core.cache import clear_cache
from torch_nets import mobilenet_v2

from symconv import count, from_torch
from symconv.symbols import H, W


def median_seconds(run: Callable[[], object], runs: int) -> tuple[float, object]:
    """The median wall time of ``runs`` calls, and the last result."""
    times, result = [], None
    for _ in range(runs):
        clear_cache()
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--resolution", type=int, default=224)
    args = parser.parse_args()
    model = mobilenet_v2().eval()
    size = args.resolution
    leaves = sum(1 for module in model.modules() if not list(module.children()))
    torch.set_num_threads(torch.get_num_threads())

    def ptflops() -> object:
        with contextlib.redirect_stdout(io.StringIO()):
            return get_model_complexity_info(model, (3, size, size), as_strings=False,
                                             print_per_layer_stat=False)[0]

    def symconv() -> object:
        return count(from_torch(model, (size, size, 3)), convention="ptflops")

    def symbolic() -> object:
        return count(from_torch(model, (H, W, 3)), convention="ptflops")

    ptflops()  # warm up: first forward pass allocates
    theirs_time, theirs = median_seconds(ptflops, args.runs)
    ours_time, ours = median_seconds(symconv, args.runs)
    symbolic_time, formula = median_seconds(symbolic, max(1, args.runs // 3))
    print(f"MobileNet V2 in PyTorch, {leaves} leaf layers, input {size}x{size}x3, "
          f"median of {args.runs} runs")
    print(f"  ptflops get_model_complexity_info      {theirs_time * 1000:8.1f} ms  {theirs}")
    print(f"  symconv from_torch + count(ptflops)    {ours_time * 1000:8.1f} ms  {ours}")
    print(f"  symconv / ptflops                      {ours_time / theirs_time:8.2f}   "
          f"{'equal' if ours == theirs else 'DIFFERENT'} counts")
    print(f"  symconv on (H, W, 3), symbolic         {symbolic_time * 1000:8.1f} ms  "
          f"{len(str(formula))} characters of formula")


if __name__ == "__main__":
    main()
