"""Whole commands against ``python -c "import sympy"``, each from a fresh interpreter.

Targets: ``symconv compare`` within 1.5x (issue 2); ``symconv net mobilenet_v1 --alpha 1
--resolution 224`` within 2x (issue 4), and at most half of ptflops counting the same network
from a fresh interpreter when torch and ptflops are installed.

Run by hand from the repository root after ``pip install -e .``::

    python benchmarks/cli_startup.py [--runs 9]

Both commands run as fresh processes, alternately, and the medians are printed side by side with
their ratio. No assertion: the numbers go in the developers' notes.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import statistics
import subprocess
import sys
import time

#: MobileNet V1 (Howard et al. 2017, Table 1) in PyTorch, counted by ptflops.
PTFLOPS_V1 = """
import torch
from torch import nn
from ptflops import get_model_complexity_info

def unit(cin, cout, k, s, groups=1):
    return [nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True)]

layers = unit(3, 32, 3, 2)
c = 32
for out, stride in [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1),
                    (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]:
    layers += unit(c, c, 3, stride, groups=c) + unit(c, out, 1, 1)
    c = out
model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1024, 1000))
macs, params = get_model_complexity_info(model, (3, 224, 224), as_strings=False,
                                         print_per_layer_stat=False)
print(macs, params)
"""


def median_seconds(command: list[str], runs: int) -> float:
    """The median wall time of ``runs`` fresh runs of ``command``."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    founding = ["compare", "--input", "7x7x3", "--output", "5x5x64"]
    commands = {
        "python -c 'import sympy'": [sys.executable, "-c", "import sympy"],
        "python -m symconv compare": [sys.executable, "-m", "symconv", *founding],
    }
    script = shutil.which("symconv")
    if script:
        commands["symconv compare (console script)"] = [script, *founding]
    commands["python -m symconv net mobilenet_v1"] = [
        sys.executable, "-m", "symconv", "net", "mobilenet_v1", "--alpha", "1",
        "--resolution", "224",
    ]
    commands["python -m symconv net (symbolic)"] = [sys.executable, "-m", "symconv", "net",
                                                   "mobilenet_v1"]
    if importlib.util.find_spec("ptflops") and importlib.util.find_spec("torch"):
        commands["ptflops on MobileNet V1 (torch)"] = [sys.executable, "-c", PTFLOPS_V1]
    medians = {name: median_seconds(command, runs) for name, command in commands.items()}
    baseline = medians["python -c 'import sympy'"]
    print(f"{'command':<36} {'median s':>9} {'ratio':>7}")
    for name, seconds in medians.items():
        print(f"{name:<36} {seconds:9.3f} {seconds / baseline:7.2f}x")
    print("targets: compare within 1.50x of importing SymPy; net within 2x, and at most half of "
          "ptflops")


if __name__ == "__main__":
    main()
