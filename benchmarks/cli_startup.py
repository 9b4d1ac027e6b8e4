"""Issue 2's target: ``symconv compare`` end to end within 1.5x of ``python -c "import sympy"``.

Run by hand from the repository root after ``pip install -e .``::

    python benchmarks/cli_startup.py [--runs 9]

Both commands run as fresh processes, alternately, and the medians are printed side by side with
their ratio. No assertion: the numbers go in the developers' notes.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


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
    medians = {name: median_seconds(command, runs) for name, command in commands.items()}
    baseline = medians["python -c 'import sympy'"]
    print(f"{'command':<36} {'median s':>9} {'ratio':>7}")
    for name, seconds in medians.items():
        print(f"{name:<36} {seconds:9.3f} {seconds / baseline:7.2f}x")
    print("target: symconv compare within 1.50x of importing SymPy")


if __name__ == "__main__":
    main()
