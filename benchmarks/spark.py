"""The same workspace refined and published on DuckDB (the baseline) and on Spark local[2].

Both engines run the same gate plan (Spark's transpiled by sqlglot); the benchmark times refine +
publish of the demo workspace at N payment rows, each engine in a fresh copy, and checks that the
silver, quarantine and gold row counts agree. Spark's session start is timed on its own.

    python benchmarks/spark.py [--rows 200000 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from deltalake import DeltaTable
from rich.console import Console
from rich.table import Table

import aiready
from aiready.demo.generate import write_workspace

RESULTS = Path(__file__).parent / "results_spark.json"
console = Console()


def counts(ws: aiready.Workspace) -> dict[str, int]:
    out = {}
    for layer, name in [
        ("silver", "payments"),
        ("quarantine", "payments"),
        ("silver", "customers"),
        ("quarantine", "customers"),
        ("gold", "customer_value"),
    ]:
        out[f"{layer}.{name}"] = DeltaTable(str(ws.paths.table(layer, name))).count()
    return out


def run(root: Path, engine: str) -> tuple[float, dict[str, int]]:
    ws = aiready.Workspace.load(root, engine=engine)
    ws.ingest()
    _ = ws.engine  # the session starts outside the timed part
    start = time.perf_counter()
    ws.refine()
    ws.publish()
    return time.perf_counter() - start, counts(ws)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[200_000, 1_000_000])
    args = parser.parse_args()
    os.environ["AIREADY_MLFLOW__ENABLED"] = "false"
    from aiready.engines.spark import spark_session

    start = time.perf_counter()
    spark_session()
    session_s = time.perf_counter() - start
    results: dict[str, Any] = {"spark_session_start_s": round(session_s, 2), "runs": []}
    table = Table(title="refine + publish: Spark local[2] vs DuckDB")
    for col in ("payment rows", "DuckDB s", "Spark s", "Spark × DuckDB", "same counts"):
        table.add_column(col, justify="right")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            base = Path(tmp) / str(rows)
            write_workspace(base / "duckdb", "bench", payments=rows, customers=max(rows // 10, 10))
            shutil.copytree(base / "duckdb", base / "spark")
            with console.status(f"{rows:,} rows on duckdb"):
                duck_s, duck_counts = run(base / "duckdb", "duckdb")
            with console.status(f"{rows:,} rows on spark"):
                spark_s, spark_counts = run(base / "spark", "spark")
            same = duck_counts == spark_counts
            ok &= same
            ratio = spark_s / duck_s
            table.add_row(f"{rows:,}", f"{duck_s:.2f}", f"{spark_s:.2f}", f"{ratio:.2f}", str(same))
            results["runs"].append(
                {
                    "rows": rows,
                    "duckdb_s": round(duck_s, 3),
                    "spark_s": round(spark_s, 3),
                    "spark_x_duckdb": round(ratio, 2),
                    "same_counts": same,
                    "counts": duck_counts,
                }
            )
    console.print(table)
    console.print(f"Spark session start (local[2]): {session_s:.1f} s, not included above")
    RESULTS.write_text(json.dumps(results, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
