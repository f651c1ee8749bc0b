"""Quality-gate benchmark: bronze Delta → silver + quarantine Delta, against baselines.

    python benchmarks/gates.py                 # 1M and 5M rows
    python benchmarks/gates.py --sizes 1000000 5000000 20000000

Six rules (not-null, unique key, range, set, regex, sql) over 5M rows. Each contender runs in its
own spawned process so its peak RSS is its own. Contenders:

* baseline  one hand-written DuckDB aggregate over the bronze snapshot computing every rule's count
* aiready   ``Workspace.refine()``: gate + silver and quarantine Delta writes + ledger + MLflow
* pandera   pandera (pandas backend), lazy validation of the same rules (if installed: `.[bench]`)

The per-rule counts of aiready must equal the baseline's; the script exits 1 if they do not.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

WORK = Path(__file__).parent / ".work"
RESULTS = Path(__file__).parent / "results_gates.json"
CONTRACT = """\
apiVersion: v3.1.0
kind: DataContract
id: bench
version: 1.0.0
status: active
schema:
  - name: orders
    properties:
      - {name: id, logicalType: integer, primaryKey: true}
      - {name: customer_id, logicalType: string, required: true}
      - name: amount
        logicalType: number
        logicalTypeOptions: {minimum: 0, maximum: 10000}
      - name: currency
        logicalType: string
        quality:
          - metric: invalidValues
            arguments: {validValues: [EUR, USD, GBP, CHF]}
            mustBe: 0
      - name: email
        logicalType: string
        logicalTypeOptions: {pattern: '^[a-z0-9.]+@[a-z0-9]+\\.[a-z]+$'}
      - {name: qty, logicalType: integer}
    quality:
      - type: sql
        name: bulk_order_limit
        query: SELECT COUNT(*) FROM {object} WHERE qty > 95 AND amount > 9000
        mustBe: 0
"""
RULES = {  # rule id → violation predicate on the bronze strings (what the baseline computes)
    "customer_id.required": "nullif(trim(customer_id), '') IS NULL",
    "amount.range": "TRY_CAST(amount AS DOUBLE) < 0 OR TRY_CAST(amount AS DOUBLE) > 10000",
    "currency.invalidValues": "currency NOT IN ('EUR', 'USD', 'GBP', 'CHF')",
    "email.pattern": "NOT regexp_matches(email, '^[a-z0-9.]+@[a-z0-9]+\\.[a-z]+$')",
    "bulk_order_limit": "TRY_CAST(qty AS BIGINT) > 95 AND TRY_CAST(amount AS DOUBLE) > 9000",
}


def make_bronze(root: Path, n: int) -> None:
    """A workspace whose bronze table holds ``n`` rows as `aiready ingest` would write them."""
    from aiready.config.paths import Paths
    from aiready.layers import ledger
    from aiready.storage import delta

    rng = np.random.default_rng(42)
    shutil.rmtree(root, ignore_errors=True)
    (root / "contracts").mkdir(parents=True)
    (root / "aiready.yaml").write_text(
        "name: bench\ndatasets:\n  orders:\n    source: data/orders.csv\n"
        "    contract: contracts/orders.odcs.yaml\n"
    )
    (root / "contracts/orders.odcs.yaml").write_text(CONTRACT)
    ids = np.arange(n)
    dup = rng.random(n) < 0.001
    ids[1:][dup[1:]] = ids[:-1][dup[1:]]
    cents = rng.integers(100, 1_000_000, n)
    cents[rng.random(n) < 0.004] *= -1
    currency = np.array(["EUR", "USD", "GBP", "CHF", "XXX"])[
        np.minimum(rng.integers(0, 4, n) + (rng.random(n) < 0.003) * 4, 4)
    ]
    customer = pc.binary_join_element_wise(
        "C", pa.array(rng.integers(0, 99999, n)).cast(pa.string()), ""
    )
    customer = pc.if_else(pa.array(rng.random(n) < 0.005), pa.scalar(None, pa.string()), customer)
    email = pc.binary_join_element_wise(
        "user",
        pa.array(ids).cast(pa.string()),
        pa.array(np.where(rng.random(n) < 0.003, "example.com", "@example.com")),
        "",
    )
    amount = pc.divide(pa.array(cents, pa.float64()), 100.0).cast(pa.string())
    now = datetime.now(UTC)
    table = pa.table(
        {
            "id": pa.array(ids).cast(pa.string()),
            "customer_id": customer,
            "amount": amount,
            "currency": pa.array(currency),
            "email": email,
            "qty": pa.array(rng.integers(1, 100, n)).cast(pa.string()),
            "_source_row": pa.array(np.arange(1, n + 1)),
            "_malformed": pa.nulls(n, pa.string()),
            "_raw": pa.nulls(n, pa.string()),
            "_record_hash": pa.array(ids).cast(pa.string()),
            "_batch_id": pa.array(np.zeros(n, np.int8)).cast(pa.string()),
            "_source_file": pa.array(np.zeros(n, np.int8)).cast(pa.string()),
            "_source_sha256": pa.array(np.zeros(n, np.int8)).cast(pa.string()),
            "_ingested_at": pa.array(
                np.full(n, np.datetime64(now.replace(tzinfo=None), "us"))
            ).cast(pa.timestamp("us", tz="UTC")),
        }
    )
    paths = Paths(root)
    version = delta.append(paths.table("bronze", "orders"), table)
    ledger.record_ingested(
        paths.ingested_ledger,
        ledger.BatchRecord(
            "orders",
            "0",
            "0",
            "0",
            "csv",
            ["id", "customer_id", "amount", "currency", "email", "qty"],
            n,
            0,
            version,
            now,
        ),
    )


def baseline(root: Path) -> dict[str, Any]:
    """One hand-written DuckDB aggregate of the same rules: uniqueness among passing rows, and
    a failing row whose key another row shares also counts as a duplicate."""
    import duckdb
    from deltalake import DeltaTable

    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    start = time.perf_counter()
    files = DeltaTable(str(root / ".aiready/lake/bronze/orders")).file_uris()
    others = " OR ".join(f"coalesce({p}, FALSE)" for p in RULES.values())
    counts = ", ".join(f"count(*) FILTER (WHERE {p})" for p in RULES.values())
    row = con.execute(
        f"WITH b AS (SELECT * FROM read_parquet(?)) SELECT {counts}, "
        f"(SELECT count(id) - count(DISTINCT id) FROM b WHERE NOT ({others})) + "
        f"(SELECT count(*) FROM b WHERE ({others}) AND id IN "
        "(SELECT id FROM b GROUP BY id HAVING count(*) > 1)) FROM b",
        [files],
    ).fetchall()[0]
    rules = dict(zip([*RULES, "id.primary_key"], (int(v) for v in row), strict=True))
    return {"seconds": time.perf_counter() - start, "rules": rules}


def aiready_gate(root: Path) -> dict[str, Any]:
    import aiready

    ws = aiready.Workspace.load(root)
    ws.tracker.experiment_id  # the MLflow store exists before timing starts  # noqa: B018
    start = time.perf_counter()
    [result] = ws.refine("orders")
    elapsed = time.perf_counter() - start
    rules = {r.rule: r.failed for rep in result.reports for r in rep.rules if r.failed}
    return {"seconds": elapsed, "rules": rules, "totals": result.totals()}


def aiready_gate_only(root: Path) -> dict[str, Any]:
    """The gate alone: rules evaluated and the report built, no Delta writes."""
    import aiready
    from aiready.engines.duckdb import DuckDBGate
    from aiready.storage import delta

    ws = aiready.Workspace.load(root)
    contract = ws.contract("orders")
    start = time.perf_counter()
    snap = delta.snapshot(ws.paths.table("bronze", "orders"))
    columns = ["id", "customer_id", "amount", "currency", "email", "qty"]
    with DuckDBGate().check(contract, snap, "0", columns, None, "append", "orders", "0") as out:
        quarantined = out.quarantine().num_rows
    return {"seconds": time.perf_counter() - start, "quarantined": quarantined}


def pandera_split(root: Path) -> dict[str, Any]:
    """pandera plus what a user adds to get aiready's outcome: split rows, write both to Delta."""
    from deltalake import write_deltalake

    result = pandera_gate(root, keep=True)
    start = time.perf_counter()
    df, bad = result.pop("df"), result.pop("bad_index")
    invalid = df.index.isin(bad)
    write_deltalake(str(root / "pandera_silver"), df[~invalid], mode="overwrite")
    write_deltalake(str(root / "pandera_quarantine"), df[invalid], mode="overwrite")
    result["seconds"] += time.perf_counter() - start
    return result


def pandera_gate(root: Path, keep: bool = False) -> dict[str, Any]:
    import pandera.pandas as pa_
    from deltalake import DeltaTable

    start = time.perf_counter()
    df = (
        DeltaTable(str(root / ".aiready/lake/bronze/orders"))
        .to_pyarrow_dataset()
        .to_table(columns=["id", "customer_id", "amount", "currency", "email", "qty"])
        .to_pandas()
    )
    df["id"] = df["id"].astype("int64")
    df["amount"] = df["amount"].astype("float64")
    df["qty"] = df["qty"].astype("int64")
    schema = pa_.DataFrameSchema(
        {
            "id": pa_.Column(int, unique=True),
            "customer_id": pa_.Column(str, nullable=False),
            "amount": pa_.Column(float, pa_.Check.in_range(0, 10000)),
            "currency": pa_.Column(str, pa_.Check.isin(["EUR", "USD", "GBP", "CHF"])),
            "email": pa_.Column(str, pa_.Check.str_matches(r"^[a-z0-9.]+@[a-z0-9]+\.[a-z]+$")),
            "qty": pa_.Column(int),
        },
        checks=[pa_.Check(lambda d: ~((d["qty"] > 95) & (d["amount"] > 9000)))],
    )
    bad: Any = []
    try:
        schema.validate(df, lazy=True)
        failures = 0
    except pa_.errors.SchemaErrors as exc:
        failures = len(exc.failure_cases)
        bad = exc.failure_cases["index"].dropna().unique()
    out: dict[str, Any] = {
        "seconds": time.perf_counter() - start,
        "failure_cases": failures,
        "rows_failing": len(bad),
    }
    if keep:
        out.update(df=df, bad_index=bad)
    return out


def _child(name: str, root: str, queue: Any) -> None:
    import os

    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    fn = {
        "baseline": baseline,
        "aiready": aiready_gate,
        "aiready-gate": aiready_gate_only,
        "pandera": pandera_gate,
        "pandera+split": pandera_split,
    }[name]
    out = fn(Path(root))
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put(out)


def run_in_child(name: str, root: Path) -> dict[str, Any] | None:
    ctx = mp.get_context("spawn")  # delta-rs must not be forked
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(name, str(root), queue))
    proc.start()
    proc.join()
    return None if proc.exitcode else queue.get()


def has_pandera() -> bool:
    try:
        import pandera.pandas  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--no-pandera", action="store_true")
    args = parser.parse_args()
    report: dict[str, Any] = {"benchmark": "gates", "at": datetime.now(UTC).isoformat(), "runs": []}
    ok = True
    for n in args.sizes:
        root = WORK / f"gates_{n}"
        t = time.perf_counter()
        make_bronze(root, n)
        print(f"\n== {n:,} rows (bronze written in {time.perf_counter() - t:.1f}s) ==")
        base = run_in_child("baseline", root)
        assert base is not None
        pandera = [] if args.no_pandera or not has_pandera() else ["pandera", "pandera+split"]
        for name in ["aiready-gate", *pandera, "aiready"]:
            res = run_in_child(name, root)
            if res is None:
                print(f"{name:9s} failed")
                continue
            report["runs"].append(
                {
                    "rows": n,
                    "contender": name,
                    **res,
                    "ratio_vs_baseline": res["seconds"] / base["seconds"],
                }
            )
            if name == "aiready":
                expected = {k: v for k, v in base["rules"].items() if v}
                same = res["rules"] == expected
                ok &= same
                print(f"per-rule counts equal to baseline: {same} {res['rules']}")
        report["runs"].append(
            {"rows": n, "contender": "baseline", **base, "ratio_vs_baseline": 1.0}
        )
        for r in (x for x in report["runs"] if x["rows"] == n):
            print(
                f"{r['contender']:9s} {r['seconds']:7.2f}s  {n / r['seconds'] / 1e6:6.2f} Mrows/s "
                f"peak RSS {r['peak_rss_mb']:7.0f} MB  {r['ratio_vs_baseline']:5.2f}× baseline"
            )
        shutil.rmtree(root, ignore_errors=True)
    RESULTS.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nwritten {RESULTS}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
