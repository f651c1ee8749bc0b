"""What the feedback says, aggregated: failure rates, decision quality, coverage gaps, rule ideas.

* Retrieval failures and hallucinations per dataset, gold version and model/prompt version, as
  counts and as rates over the retrievals the audit log recorded for that dataset.
* Unanswered queries ("nothing relevant") grouped by shared words: each group points at missing
  coverage.
* Decisions and outcomes per gold version and model version: acceptance and override rates and the
  mean outcome value of the decisions they follow.
* Suggestions: a column corrected again and again gets a contract rule proposal.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

from aiready.storage import delta

if TYPE_CHECKING:
    from aiready.feedback.source import FeedbackSource

_WORD = re.compile(r"[a-z0-9]{3,}")
_STOP = {"the", "and", "for", "with", "how", "what", "are", "can", "does", "who", "why", "when"}


def _retrievals(ws: FeedbackSource) -> Counter[tuple[str, int]]:
    """Retrievals per (dataset, gold version), from the retrieval log."""
    from aiready.retrieval.retrieve import LOG_SCHEMA
    from aiready.storage.appender import appender

    appender(ws.paths.retrieval_log, LOG_SCHEMA).flush()
    table = delta.read(ws.paths.retrieval_log, ["dataset", "version"])
    if table is None:
        return Counter()
    return Counter(zip(table["dataset"].to_pylist(), table["version"].to_pylist(), strict=True))


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["dataset"], row["gold_version"], row["model_version"], row["prompt_version"])


def failure_rates(ws: FeedbackSource) -> list[dict[str, Any]]:
    retrievals = _retrievals(ws)
    counts: dict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)
    for kind in ("retrieval_failure", "hallucination"):
        for row in ws.feedback.rows(kind):
            counts[_key(row)][kind] += 1
    out = []
    for key, kinds in sorted(counts.items(), key=lambda kv: str(kv[0])):
        dataset, gold_version, model_version, prompt_version = key
        total = retrievals.get((dataset or "", gold_version), 0)
        out.append(
            {
                "dataset": dataset,
                "gold_version": gold_version,
                "model_version": model_version,
                "prompt_version": prompt_version,
                "retrievals": total,
                **{k: kinds[k] for k in ("retrieval_failure", "hallucination")},
                "retrieval_failure_rate": kinds["retrieval_failure"] / total if total else None,
                "hallucination_rate": kinds["hallucination"] / total if total else None,
            }
        )
    return out


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def unanswered(ws: FeedbackSource, overlap: float = 0.5) -> list[dict[str, Any]]:
    """Queries that found nothing relevant, grouped when they share most of their words."""
    groups: list[tuple[set[str], list[str]]] = []
    for row in ws.feedback.rows("retrieval_failure"):
        payload = json.loads(row["payload"])
        if payload.get("expected"):
            continue
        words = _words(payload["query"])
        for seen, queries in groups:
            union = seen | words
            if union and len(seen & words) / len(union) >= overlap:
                seen |= words
                queries.append(payload["query"])
                break
        else:
            groups.append((set(words), [payload["query"]]))
    ranked = sorted(groups, key=lambda g: -len(g[1]))
    return [
        {"words": sorted(words), "queries": queries, "count": len(queries)}
        for words, queries in ranked
    ]


def decision_quality(ws: FeedbackSource) -> list[dict[str, Any]]:
    outcomes: dict[str, list[float]] = defaultdict(list)
    for row in ws.feedback.rows("outcome"):
        payload = json.loads(row["payload"])
        if row["value"] is not None:
            outcomes[payload["decision_id"]].append(float(row["value"]))
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in ws.feedback.rows("decision"):
        groups[(row["dataset"], row["gold_version"], row["model_version"])].append(row)
    out = []
    for (dataset, gold_version, model_version), rows in sorted(groups.items(), key=str):
        accepted = sum(r["action"] == "accepted" for r in rows)
        values = [v for r in rows for v in outcomes.get(r["id"], [])]
        out.append(
            {
                "dataset": dataset,
                "gold_version": gold_version,
                "model_version": model_version,
                "decisions": len(rows),
                "acceptance_rate": accepted / len(rows),
                "override_rate": 1 - accepted / len(rows),
                "outcomes": len(values),
                "outcome_value_mean": sum(values) / len(values) if values else None,
            }
        )
    return out


def suggestions(ws: FeedbackSource, at_least: int = 3) -> list[dict[str, Any]]:
    """A contract rule for every column corrected ``at_least`` times (pending or accepted)."""
    by_column: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in ws.feedback.rows("correction"):
        if row["status"] != "rejected":
            by_column[(row["dataset"], row["column"])].append(json.loads(row["payload"]))
    out = []
    for (dataset, column), items in sorted(by_column.items()):
        if len(items) < at_least:
            continue
        bad = sorted({str(i["current_value"]) for i in items if i.get("current_value")})
        good = sorted({str(i["proposed_value"]) for i in items})
        rule = (
            f"- metric: missingValues\n  arguments: {{missingValues: {json.dumps(bad)}}}\n"
            "  mustBe: 0\n  onFail: quarantine"
            if bad
            else "- metric: nullValues\n  mustBe: 0"
        )
        out.append(
            {
                "dataset": dataset,
                "column": column,
                "corrections": len(items),
                "corrected_values": bad,
                "proposed_values": good[:20],
                "rule": f"# contracts: schema[].properties[{column}].quality\n{rule}",
            }
        )
    return out


def report(ws: FeedbackSource) -> dict[str, Any]:
    return {
        "failures": failure_rates(ws),
        "unanswered": unanswered(ws),
        "decisions": decision_quality(ws),
        "suggestions": suggestions(ws),
    }
