"""Audit benchmark: the keyed (HMAC) chain's cost per decision against the unkeyed sha256 chain.

    python benchmarks/audit.py                 # 2,000 single-decision appends, 20,000 links
    python benchmarks/audit.py --appends 500

The keyed chain's own cost is the difference in (2); the fsync is the same with or without a key
and is shared by every decision in a group commit, as (2)'s concurrent line shows.

1. One link of the chain: ``record_mac`` (HMAC-SHA256 under the workspace secret, key_id
   included) vs ``record_hash`` (the old unkeyed sha256), over the same records.
2. One audited decision made durable, as ``audit.append`` does it per group commit: lock,
   chain, journal append + fsync. Keyed (key ring read from ``.aiready/secret.json`` per commit,
   HMAC) against the unkeyed baseline (sha256, no ring), alternating in the same run; and the
   real ``audit.append`` end to end (writer thread, one decision per call).
3. A fold of 1,000 records into Delta with the head anchored (``.aiready/audit.head``, fsynced)
   and the head write alone; ``verify`` per record.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiready.policy import audit
from aiready.policy.audit_chain import GENESIS, Head, record_hash, record_mac, write_head
from aiready.policy.audit_verify import verify
from aiready.policy.engine import Decision
from aiready.storage import dataset_lock
from aiready.storage.secret import load_secret

RESULTS = Path(__file__).parent / "results_audit.json"


def decision(i: int) -> Decision:
    return Decision("alice", "query", f"dataset{i % 50}", "fraud", i % 3 != 1, ["analysts-query"])


def unkeyed_records(decisions: list[Decision], seq: int, prev: str) -> list[dict[str, Any]]:
    """The chain as it was before the keyed one (the baseline)."""
    rows = []
    for d in decisions:
        seq += 1
        record: dict[str, Any] = {
            "seq": seq,
            "at": datetime.now(UTC),
            "principal": d.principal,
            "action": d.action,
            "resource": d.resource,
            "purpose": d.purpose,
            "decision": "allow" if d.allowed else "deny",
            "policies": d.policies,
            "reason": d.reason,
        }
        record["prev_hash"] = prev
        record["hash"] = prev = record_hash(prev, record)
        rows.append(record)
    return rows


def bench_links(n: int, state: Path) -> dict[str, float]:
    ring = load_secret(state)
    records = [r | {"key_id": ring.current} for r in unkeyed_records([decision(0)] * n, -1, "")]
    start = time.perf_counter()
    for r in records:
        record_hash(GENESIS, r)
    sha = (time.perf_counter() - start) / n
    start = time.perf_counter()
    for r in records:
        record_mac(ring.key, GENESIS, r)
    mac = (time.perf_counter() - start) / n
    return {"sha256_us": sha * 1e6, "hmac_us": mac * 1e6}


def bench_commits(n: int, root: Path) -> dict[str, float]:
    """Alternate keyed and unkeyed commits of one decision each (same disk, same moment)."""
    state = root / ".aiready"
    locks = state / "locks"
    keyed_journal = root / "keyed.jsonl"
    unkeyed_journal = root / "unkeyed.jsonl"
    keyed, unkeyed = [], []
    prev_k = prev_u = GENESIS
    for i in range(n):
        d = [decision(i)]
        start = time.perf_counter()
        with dataset_lock(locks, "_bench_unkeyed"):
            rows = unkeyed_records(d, i - 1, prev_u)
            audit._append_journal(unkeyed_journal, rows)
        unkeyed.append(time.perf_counter() - start)
        prev_u = rows[-1]["hash"]
        start = time.perf_counter()
        with dataset_lock(locks, "_bench_keyed"):
            ring = audit.ring_of(state)
            rows = audit._records(d, i - 1, prev_k, ring)
            audit._append_journal(keyed_journal, rows)
        keyed.append(time.perf_counter() - start)
        prev_k = rows[-1]["mac"]
    return {
        "unkeyed_p50_us": statistics.median(unkeyed) * 1e6,
        "keyed_p50_us": statistics.median(keyed) * 1e6,
        "unkeyed_mean_us": statistics.fmean(unkeyed) * 1e6,
        "keyed_mean_us": statistics.fmean(keyed) * 1e6,
    }


def bench_append(n: int, root: Path) -> dict[str, float]:
    state = root / ".aiready"
    path, locks = state / "lake" / "_audit", state / "locks"
    times = []
    for i in range(n):
        start = time.perf_counter()
        audit.append(path, locks, [decision(i)])
        times.append(time.perf_counter() - start)
    audit.fold(path, locks)
    return {
        "append_p50_us": statistics.median(times) * 1e6,
        "append_mean_us": statistics.fmean(times) * 1e6,
    }


def bench_concurrent(n: int, root: Path, threads: int = 8) -> dict[str, float]:
    """Decisions from ``threads`` request threads at once (the service's case): group commit."""
    state = root / ".aiready"
    path, locks = state / "lake" / "_audit", state / "locks"
    each = max(1, n // threads)

    def work(t: int) -> None:
        for i in range(each):
            audit.append(path, locks, [decision(t * each + i)])

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(threads)))
    wall = time.perf_counter() - start
    audit.fold(path, locks)
    return {"concurrent_per_decision_us": wall / (each * threads) * 1e6, "threads": threads}


def bench_fold(root: Path) -> dict[str, float]:
    state = root / ".aiready"
    path, locks = state / "lake" / "_audit", state / "locks"
    audit.append(path, locks, [decision(i) for i in range(1000)])  # one group commit
    start = time.perf_counter()
    audit.fold(path, locks)
    fold_s = time.perf_counter() - start
    start = time.perf_counter()
    records = verify(path, locks).records
    verify_s = time.perf_counter() - start
    ring, elsewhere = load_secret(state), root / "heads"  # not the workspace's own head
    elsewhere.mkdir()
    start = time.perf_counter()
    for _ in range(50):
        write_head(elsewhere, Head.make(ring, 1, GENESIS, ring.current, 1))
    head_s = (time.perf_counter() - start) / 50
    return {
        "fold_1000_ms": fold_s * 1e3,
        "head_write_ms": head_s * 1e3,
        "verify_per_record_us": verify_s / records * 1e6,
        "verified_records": records,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--links", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        links = bench_links(args.links, root / ".aiready")
        commits = bench_commits(args.appends, root)
        append = bench_append(args.appends, root)
        append |= bench_concurrent(args.appends, root)
        fold = bench_fold(root)
    extra = commits["keyed_p50_us"] - commits["unkeyed_p50_us"]
    print(
        f"one link: HMAC {links['hmac_us']:.1f} µs vs unkeyed sha256 {links['sha256_us']:.1f} µs "
        f"→ {links['hmac_us'] / links['sha256_us']:.2f}×"
    )
    print(
        f"one durable decision (lock, chain, journal fsync): keyed p50 "
        f"{commits['keyed_p50_us']:.0f} µs vs unkeyed {commits['unkeyed_p50_us']:.0f} µs "
        f"(+{extra:.0f} µs, {commits['keyed_p50_us'] / commits['unkeyed_p50_us']:.2f}×); "
        f"audit.append end to end p50 {append['append_p50_us']:.0f} µs "
        f"(budget 1,000 µs per decision); {append['threads']} threads at once "
        f"{append['concurrent_per_decision_us']:.0f} µs per decision (group commit)"
    )
    print(
        f"fold of 1,000 records with the head anchored: {fold['fold_1000_ms']:.0f} ms "
        f"(head write alone {fold['head_write_ms']:.2f} ms); verify "
        f"{fold['verify_per_record_us']:.1f} µs per record ({fold['verified_records']:,} records)"
    )
    RESULTS.write_text(
        json.dumps({"links": links, "commits": commits, "append": append, "fold": fold}, indent=2)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
