"""CLI start-up benchmark: `aiready --help` and `aiready status` against bare library imports.

    python benchmarks/startup.py            # 7 runs of each, median wall time
    python benchmarks/startup.py --runs 15

Baseline, measured in the same run: a Python that imports what every command needs anyway
(typer, pyarrow, pyarrow.dataset, duckdb, deltalake, sqlglot). The issue's target is ≤ 1 s for
both commands; the ratio says how much aiready adds on top of its unavoidable imports.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results_startup.json"
BASELINE = "import typer, pyarrow, pyarrow.dataset, duckdb, deltalake, sqlglot"


def wall(cmd: list[str], runs: int) -> float:
    """Median seconds of ``cmd`` over ``runs`` fresh processes (one warm-up run first)."""
    subprocess.run(cmd, capture_output=True, check=False)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    cli = [sys.executable, "-m", "aiready"]
    with tempfile.TemporaryDirectory() as tmp:
        ws = str(Path(tmp) / "ws")
        subprocess.run([*cli, "init", ws], capture_output=True, check=True)
        baseline = wall([sys.executable, "-c", BASELINE], args.runs)
        results = {
            "runs": args.runs,
            "baseline_imports_s": baseline,
            "help_s": wall([*cli, "--help"], args.runs),
            "status_s": wall([*cli, "status", "-w", ws], args.runs),
        }
    for name in ("help", "status"):
        results[f"{name}_ratio"] = results[f"{name}_s"] / baseline
        print(
            f"aiready {name:<7} {results[f'{name}_s']:.2f} s   "
            f"{results[f'{name}_ratio']:.2f}× the bare imports ({baseline:.2f} s)   target ≤ 1 s"
        )
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
