"""``symconv solve alpha`` on MobileNet V1 and V2 (issue 14: under 2 s; a MAC and a memory
budget), and ``solve bound`` on one layer of V2, each from a fresh interpreter, beside
``python -c "import sympy"`` and ``symconv derive standard``.

Run by hand from the repository root after ``pip install -e .``::

    python benchmarks/solve.py [--runs 5]

Medians of wall time are printed side by side with their ratio to importing SymPy. No assertion.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "import sympy": [sys.executable, "-c", "import sympy"],
    "derive standard": [sys.executable, "-m", "symconv", "derive", "standard"],
    "solve alpha v1 300M": [sys.executable, "-m", "symconv", "solve", "alpha", "--network",
                            "mobilenet_v1", "--budget", "300M"],
    "solve alpha v2 300M": [sys.executable, "-m", "symconv", "solve", "alpha", "--network",
                            "mobilenet_v2", "--budget", "300M"],
    "solve alpha v2 act 20M": [sys.executable, "-m", "symconv", "solve", "alpha", "--network",
                              "mobilenet_v2", "--budget", "20M", "--convention",
                              "activation_bytes"],
    "solve bound v2 layer": [sys.executable, "-m", "symconv", "solve", "bound", "--network",
                             "mobilenet_v2", "--layer", "block16.project"],
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, command in COMMANDS.items():
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["import sympy"])
    for name, found in times.items():
        median = statistics.median(found)
        print(f"{name:22} {median:6.2f} s  {median / base:5.1f}× import sympy")


if __name__ == "__main__":
    main()
