"""symconv.summary against torchinfo.summary on torchvision's ResNet-50, side by side.

    python benchmarks/summary.py [--runs 5] [--model resnet50]

Both are timed from a built model to a finished summary (tracing and counting included), best of
``--runs``; the ratio symconv / torchinfo is printed, and both totals, which must agree under the
``torchinfo`` convention. Needs torch, torchinfo and torchvision (installed with ``--no-deps``;
its compiled operators, which the model definitions never call, are skipped as in
``tests/torchvision_models.py``). Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import sys
import time
import types


def best_of(runs: int, work: object) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--model", default="resnet50")
    args = parser.parse_args()
    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("stub"))
    import torch
    import torchinfo
    import torchvision.models

    import symconv

    torch.set_num_threads(2)
    model = getattr(torchvision.models, args.model)().eval()
    size = (1, 3, 224, 224)
    ours_time, ours = best_of(args.runs, lambda: symconv.summary(model, size, convention="torchinfo"))
    theirs_time, theirs = best_of(args.runs, lambda: torchinfo.summary(model, input_size=size, verbose=0))
    print(f"{args.model} at {size}, best of {args.runs}")
    print(f"  symconv.summary    {ours_time * 1000:8.1f} ms   total {ours.total}")  # type: ignore[attr-defined]
    print(f"  torchinfo.summary  {theirs_time * 1000:8.1f} ms   total {theirs.total_mult_adds}")  # type: ignore[attr-defined]
    print(f"  ratio symconv / torchinfo = {ours_time / theirs_time:.2f} (target < 1)")


if __name__ == "__main__":
    main()
