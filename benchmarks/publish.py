"""Publish + certify overhead over running a model's SQL alone with DuckDB.

    python benchmarks/publish.py               # 5M silver rows
    python benchmarks/publish.py --rows 1000000

Two models over the same silver table: an aggregate (one row per customer, ~100k rows out) and a
row-level model (5M rows out). Baselines, timed in the same process before and after: the SQL
alone into Arrow, and the SQL plus a plain ``write_deltalake``. aiready's publish adds the
contract gate, the all-or-nothing Delta commit, the certificate and MLflow evidence.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

WORK = Path(__file__).parent / ".work" / "publish"
RESULTS = Path(__file__).parent / "results_publish.json"
MODELS = {
    "by_customer": (
        "SELECT cid, count(*) AS payments, sum(amount) AS total, max(paid_at) AS last_paid_at "
        "FROM silver.payments GROUP BY cid",
        [
            ("cid", "string", True),
            ("payments", "integer", False),
            ("total", "number", False),
            ("last_paid_at", "timestamp", False),
        ],
    ),
    "enriched": (
        "SELECT id, cid, amount, amount * 1.2 AS gross, paid_at FROM silver.payments",
        [
            ("id", "integer", True),
            ("cid", "string", False),
            ("amount", "number", False),
            ("gross", "number", False),
            ("paid_at", "timestamp", False),
        ],
    ),
}


def contract(name: str, columns: list[tuple[str, str, bool]]) -> str:
    props = "\n".join(
        f"      - {{name: {c}, logicalType: {t}{', primaryKey: true' if pk else ''}}}"
        for c, t, pk in columns
    )
    return (
        f"apiVersion: v3.1.0\nkind: DataContract\nid: {name}\nversion: 1.0.0\nstatus: active\n"
        f"team:\n  - {{username: owner@example.com, role: owner}}\nschema:\n  - name: {name}\n"
        f"    properties:\n{props}\n"
    )


def make_workspace(root: Path, n: int) -> None:
    """A workspace whose silver table holds ``n`` typed rows (as `aiready refine` writes them)."""
    from aiready.storage import delta

    shutil.rmtree(root, ignore_errors=True)
    for folder in ("contracts", "models"):
        (root / folder).mkdir(parents=True)
    models = "".join(
        f"  {m}:\n    sql: models/{m}.sql\n    contract: contracts/{m}.odcs.yaml\n" for m in MODELS
    )
    (root / "aiready.yaml").write_text(
        "name: pub\ndatasets:\n  payments:\n    source: data/p.csv\n"
        f"    contract: contracts/payments.odcs.yaml\nmodels:\n{models}"
    )
    (root / "contracts/payments.odcs.yaml").write_text(contract("payments", [("id", "integer", 1)]))
    for name, (sql, columns) in MODELS.items():
        (root / f"models/{name}.sql").write_text(sql)
        (root / f"contracts/{name}.odcs.yaml").write_text(contract(name, columns))
    rng = np.random.default_rng(1)
    now = datetime.now(UTC).replace(tzinfo=None)
    silver = pa.table(
        {
            "id": pa.array(np.arange(n)),
            "cid": pa.array(rng.integers(0, 100_000, n)).cast(pa.string()),
            "amount": pa.array(rng.integers(1, 1_000_000, n) / 100.0),
            "paid_at": pa.array(np.full(n, np.datetime64(now, "us"))).cast(
                pa.timestamp("us", "UTC")
            ),
        }
    )
    delta.append(root / ".aiready/lake/silver/payments", silver)


def sql_alone(root: Path, sql: str, write: bool) -> float:
    import duckdb
    from deltalake import DeltaTable, write_deltalake

    start = time.perf_counter()
    con = duckdb.connect()
    files = DeltaTable(str(root / ".aiready/lake/silver/payments")).file_uris()
    con.execute("CREATE SCHEMA silver")
    listed = ", ".join(f"'{f}'" for f in files)
    con.execute(f"CREATE VIEW silver.payments AS SELECT * FROM read_parquet([{listed}])")
    table = con.sql(sql).to_arrow_table()
    if write:
        out = root / f"baseline_{len(table.column_names)}_{time.monotonic_ns()}"
        write_deltalake(str(out), table, mode="overwrite")
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    args = parser.parse_args()
    import aiready

    root = WORK
    make_workspace(root, args.rows)
    ws = aiready.Workspace.load(root)
    ws.tracker.experiment_id  # the MLflow store exists before timing  # noqa: B018
    import sqlglot

    sqlglot.parse_one("SELECT 1", dialect="duckdb")  # a one-off import, not a per-publish cost
    report: dict[str, Any] = {"benchmark": "publish", "rows": args.rows, "models": {}}
    for name, (sql, _) in MODELS.items():
        alone = min(sql_alone(root, sql, False) for _ in range(2))
        written = min(sql_alone(root, sql, True) for _ in range(2))
        start = time.perf_counter()
        [result] = ws.publish(name)
        publish_s = time.perf_counter() - start
        assert result.published and result.certified, result.reasons + result.certificate_reasons
        report["models"][name] = {
            "rows_out": result.rows,
            "sql_alone_s": alone,
            "sql_and_delta_write_s": written,
            "publish_and_certify_s": publish_s,
            "ratio_vs_sql_alone": publish_s / alone,
            "ratio_vs_sql_and_write": publish_s / written,
        }
        print(
            f"{name:12s} rows out {result.rows:>9,}  SQL alone {alone:6.2f}s  SQL+write "
            f"{written:6.2f}s  publish+certify {publish_s:6.2f}s  → {publish_s / alone:4.2f}× "
            f"SQL alone, {publish_s / written:4.2f}× SQL+write"
        )
    RESULTS.write_text(json.dumps(report, indent=2))
    shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
