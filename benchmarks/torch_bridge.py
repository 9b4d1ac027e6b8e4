"""Issue 6's target: importing and counting a PyTorch model with symconv takes no longer than
ptflops counting the same model.

Run by hand from the repository root, with torch and ptflops installed::

    python benchmarks/torch_bridge.py [--runs 7] [--resolution 224] [--threads N]

The model is MobileNet V2 in PyTorch (tests/torch_nets.py: 141 leaf layers, 52 convolutions,
10 residual additions in ``forward``). symconv's time is ``from_torch`` (one run of the model
under the tracer, then conversion) plus ``count(net, convention="ptflops")`` (deriving every
layer's cost), with SymPy's cache cleared before every run; ptflops' is
``get_model_complexity_info`` (hooks and a forward pass). The two take turns in every round, so
both see the same load on a shared machine; wall and CPU (process) medians are printed side by
side with their ratios, then symconv on a symbolic input ``(H, W, 3)`` (two traced runs) for
reference. The torch import is excluded from both. No assertion.

Recorded on the project's 2-core machine, shared with other work (load average about 3) while
measured, 15 interleaved runs: at 224, symconv 24.6 ms against ptflops 38.8 ms with one thread
(0.63; CPU 0.65), 23.5 against 53.5 ms with two (0.44); at 160, two threads, 19.3 against 22.0
ms (0.88: ptflops' forward pass shrinks with the input, symconv's derivation does not). Equal
counts every time. The tracer runs the model's code, but inside ``torch.nn`` layers not the
arithmetic of convolutions, linear layers, BatchNorm and activations (PyTorch's meta kernels
give the shapes), which is where ptflops spends its forward pass. (Tracing by ``torch.fx``
before, no tensor computed: 0.51–0.70; running every kernel for real: 1.0–1.5.)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import torch  # imported before any timing
from sympy.core.cache import clear_cache
from torch_nets import mobilenet_v2

from symconv import count, from_torch
from symconv.symbols import H, W


def interleaved(runs: int, **calls: Callable[[], object]) -> dict[str, tuple[float, float, object]]:
    """Each call's median wall and CPU (process) time over ``runs`` rounds, and its last result.

    The calls take turns within each round (SymPy's cache cleared before each), so that all see
    the same load on a shared machine.
    """
    wall: dict[str, list[float]] = {name: [] for name in calls}
    cpu: dict[str, list[float]] = {name: [] for name in calls}
    results: dict[str, object] = {}
    for _ in range(runs):
        for name, call in calls.items():
            clear_cache()
            start, start_cpu = time.perf_counter(), time.process_time()
            results[name] = call()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    return {name: (statistics.median(wall[name]), statistics.median(cpu[name]), results[name])
            for name in calls}


def main() -> None:
    # ptflops imports torchvision.ops where torchvision is installed; with the CPU torch wheel
    # that import fails in torchvision's meta registrations unless they are replaced (as the
    # repository's conftest.py does for the tests)
    sys.modules.setdefault("torchvision._meta_registrations",
                           types.ModuleType("torchvision._meta_registrations"))
    from ptflops import get_model_complexity_info

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--resolution", type=int, default=224)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's)")
    args = parser.parse_args()
    model = mobilenet_v2().eval()
    size = args.resolution
    leaves = sum(1 for module in model.modules() if not list(module.children()))
    if args.threads:
        torch.set_num_threads(args.threads)

    def ptflops() -> object:
        with contextlib.redirect_stdout(io.StringIO()):
            return get_model_complexity_info(model, (3, size, size), as_strings=False,
                                             print_per_layer_stat=False)[0]

    def symconv() -> object:
        return count(from_torch(model, (size, size, 3)), convention="ptflops")

    def symbolic() -> object:
        return count(from_torch(model, (H, W, 3)), convention="ptflops")

    ptflops()  # warm up: first forward pass allocates
    symconv()
    times = interleaved(args.runs, ptflops=ptflops, symconv=symconv)
    (theirs_time, theirs_cpu, theirs), (ours_time, ours_cpu, ours) = times["ptflops"], times["symconv"]
    symbolic_time, _, formula = interleaved(max(1, args.runs // 3), symbolic=symbolic)["symbolic"]
    print(f"MobileNet V2 in PyTorch, {leaves} leaf layers, input {size}x{size}x3, "
          f"median of {args.runs} interleaved runs, {torch.get_num_threads()} threads")
    print("                                         wall ms   cpu ms   count")
    print(f"  ptflops get_model_complexity_info    {theirs_time * 1000:8.1f} {theirs_cpu * 1000:8.1f}   "
          f"{theirs}")
    print(f"  symconv from_torch + count(ptflops)  {ours_time * 1000:8.1f} {ours_cpu * 1000:8.1f}   "
          f"{ours}")
    print(f"  symconv / ptflops                    {ours_time / theirs_time:8.2f} "
          f"{ours_cpu / theirs_cpu:8.2f}   {'equal' if ours == theirs else 'DIFFERENT'} counts")
    print(f"  symconv on (H, W, 3), symbolic       {symbolic_time * 1000:8.1f}            "
          f"{len(str(formula))} characters of formula")


if __name__ == "__main__":
    main()
