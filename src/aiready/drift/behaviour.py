"""Behaviour drift: the same column tests over time windows of how the AI is used.

The current window (the last ``window``) is compared with the one before it: retrieval scores,
hit counts and the empty-result flag from the retrieval log; rating values; and the
accepted/overridden action of decisions. Rates per window (empty results, hallucinations and
retrieval failures per retrieval, overrides per decision) come with it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from aiready.config import Paths
from aiready.drift.stats import compare
from aiready.feedback.store import table_path
from aiready.storage import delta


def _split(
    table: pa.Table | None, column: str, start: datetime, middle: datetime
) -> tuple[pa.Table, pa.Table] | None:
    if table is None or table.num_rows == 0:
        return None
    at = table.column(column)
    before = table.filter(pc.and_(pc.greater_equal(at, start), pc.less(at, middle)))
    now = table.filter(pc.greater_equal(at, middle))
    return before, now


def behaviour(paths: Paths, window: timedelta, now: datetime | None = None) -> dict[str, Any]:
    """Drift of AI behaviour in the last ``window`` against the ``window`` before it."""
    from aiready.retrieval.retrieve import LOG_SCHEMA
    from aiready.storage.appender import appender

    appender(paths.retrieval_log, LOG_SCHEMA).flush()
    now = now or datetime.now(UTC)
    middle, start = now - window, now - 2 * window
    out: dict[str, Any] = {"window": str(window), "from": start, "split": middle, "to": now}
    retrievals = _split(delta.read(paths.retrieval_log), "at", start, middle)
    counts: dict[str, tuple[int, int]] = {}
    if retrievals:
        before, current = retrievals
        counts["retrievals"] = (before.num_rows, current.num_rows)
        if before.num_rows and current.num_rows:
            cols = ["top_score", "hits", "empty"]
            out["retrieval"] = compare(before.select(cols), current.select(cols)).asdict()
        out["empty_rate"] = [_rate(t, "empty") for t in retrievals]
    for kind, column in (("rating", "value"), ("decision", "action")):
        split = _split(delta.read(table_path(paths, kind)), "created_at", start, middle)
        if split and split[0].num_rows and split[1].num_rows:
            out[kind] = compare(split[0].select([column]), split[1].select([column])).asdict()
        if kind == "decision" and split:
            out["override_rate"] = [
                pc.sum(pc.equal(t.column("action"), "overridden")).as_py() / t.num_rows
                if t.num_rows
                else None
                for t in split
            ]
    for kind in ("hallucination", "retrieval_failure"):
        split = _split(delta.read(table_path(paths, kind)), "created_at", start, middle)
        found = (split[0].num_rows, split[1].num_rows) if split else (0, 0)
        base = counts.get("retrievals", (0, 0))
        out[f"{kind}_rate"] = [f / b if b else None for f, b in zip(found, base, strict=True)]
    out["retrievals"] = list(counts.get("retrievals", (0, 0)))
    drifted = [k for k in ("retrieval", "rating", "decision") if out.get(k, {}).get("drifted")]
    out["drifted"] = drifted
    return out


def _rate(table: pa.Table, column: str) -> float | None:
    if table.num_rows == 0:
        return None
    total = float(pc.sum(table.column(column).cast(pa.int64())).as_py() or 0)
    return total / int(table.num_rows)
