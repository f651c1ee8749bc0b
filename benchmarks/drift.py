"""Drift benchmark: aiready's scipy implementation against Evidently on the same data.

    python benchmarks/drift.py                # 200,000 and 500 rows, 6 columns
    python benchmarks/drift.py --rows 50000

Evidently (0.7) does not import with pandas 3, which aiready uses, so it runs in its own virtual
environment, ``benchmarks/.evidently-venv`` (created on first use: ``evidently``, ``pandas<3``,
``pyarrow``), on the same Parquet files. Both sides time only the drift computation. Printed: per
column the two values, their largest difference (target ≤ 1e-6), whether every drift decision
agrees, and the speed ratio (target ≥ 5×).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).parent
ENV = HERE / ".evidently-venv"
RESULTS = HERE / "results_drift.json"
NUMERIC = ["amount", "age", "score"]
CATEGORICAL = ["segment", "country", "channel"]

EVIDENTLY = """
import json, sys, time
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset
ref, cur, num, cat = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
ref, cur = pd.read_parquet(ref), pd.read_parquet(cur)
definition = DataDefinition(numerical_columns=num, categorical_columns=cat)
start = time.perf_counter()
report = Report([DataDriftPreset()]).run(
    Dataset.from_pandas(cur, data_definition=definition),
    Dataset.from_pandas(ref, data_definition=definition),
)
elapsed = time.perf_counter() - start
out = {}
for metric in report.dict()["metrics"]:
    config = metric.get("config", {})
    if config.get("column"):
        out[config["column"]] = {"value": metric["value"], "method": config.get("method")}
print(json.dumps({"seconds": elapsed, "columns": out}))
"""


def evidently_python() -> Path:
    python = ENV / "bin" / "python"
    if not python.exists():
        venv.create(ENV, with_pip=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
             "evidently>=0.7,<0.8", "pandas<3", "pyarrow"],
            check=True,
        )  # fmt: skip
    return python


def data(rows: int, seed: int, shifted: bool) -> pa.Table:
    rng = np.random.default_rng(seed)
    s = 0.15 if shifted else 0.0
    return pa.table(
        {
            "amount": rng.lognormal(3 + s, 1, rows),
            "age": rng.integers(18, 90, rows).astype(float) + (5 if shifted else 0),
            "score": rng.normal(0, 1, rows),
            "segment": rng.choice(["retail", "smb", "corp"], rows, p=[0.6 - s, 0.3 + s, 0.1]),
            "country": rng.choice([f"c{i}" for i in range(30)], rows),
            "channel": rng.choice(["web", "app", "shop", "phone"], rows),
        }
    )


def run(rows: int, folder: Path) -> dict[str, Any]:
    from aiready.drift import compare

    ref, cur = data(rows, 1, False), data(rows, 2, True)
    pq.write_table(ref, folder / "ref.parquet")
    pq.write_table(cur, folder / "cur.parquet")
    start = time.perf_counter()
    ours = compare(ref, cur)
    ours_s = time.perf_counter() - start
    proc = subprocess.run(
        [str(evidently_python()), "-c", EVIDENTLY, str(folder / "ref.parquet"),
         str(folder / "cur.parquet"), json.dumps(NUMERIC), json.dumps(CATEGORICAL)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    theirs = json.loads(proc.stdout.strip().splitlines()[-1])
    columns = {}
    for c in ours.columns:
        other = theirs["columns"][c.column]["value"]
        threshold_drift = (
            other >= c.threshold
            if c.method in ("wasserstein", "jensenshannon")
            else other < c.threshold
        )
        columns[c.column] = {
            "method": c.method,
            "aiready": c.value,
            "evidently": other,
            "abs_diff": abs(c.value - other),
            "same_decision": threshold_drift == c.drifted,
        }
    return {
        "rows": rows,
        "aiready_s": ours_s,
        "evidently_s": theirs["seconds"],
        "speedup": theirs["seconds"] / ours_s,
        "max_abs_diff": max(c["abs_diff"] for c in columns.values()),
        "all_decisions_agree": all(c["same_decision"] for c in columns.values()),
        "columns": columns,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for rows in (args.rows, 500):
            result = run(rows, Path(tmp))
            out.append(result)
            print(
                f"{rows:>9,} rows: aiready {result['aiready_s']:.3f}s, Evidently "
                f"{result['evidently_s']:.3f}s → {result['speedup']:.1f}× faster; max |Δ| "
                f"{result['max_abs_diff']:.2e}; same decisions: {result['all_decisions_agree']}"
            )
    RESULTS.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
