"""``aiready report``: one self-contained HTML file (plots inlined as SVG, no network to open it).

Sections: the scorecard and its top fixes; rows through the layers; gate pass rate per batch over
time and quarantine reasons; freshness and certification of gold; drift per column; feedback and
decision trends; the lineage graph. Plots are drawn with matplotlib (Agg backend).
"""

from __future__ import annotations

import io
import math
from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import matplotlib
from markupsafe import Markup

matplotlib.use("Agg")
matplotlib.rcParams["svg.fonttype"] = "none"  # labels stay text: searchable, small, accessible
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402  (the backend is chosen first)
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from aiready import templating  # noqa: E402
from aiready.certification.certify import describe_lag  # noqa: E402
from aiready.drift import latest as latest_drift  # noqa: E402
from aiready.layers import ledger  # noqa: E402
from aiready.lineage.graph import load_runs  # noqa: E402
from aiready.scorecard.score import PROPERTIES  # noqa: E402
from aiready.storage import delta  # noqa: E402

if TYPE_CHECKING:
    from aiready.scorecard.source import ScoreSource


def _sections() -> Any:
    """The macros of ``templates/sections.html``, one per section (they return escaped HTML)."""
    return templating.environment("aiready.scorecard").get_template("sections.html").module


def _svg(fig: Figure) -> str:
    """The figure as inline SVG (matplotlib escapes the labels it writes, so it is markup)."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return str(_sections().figure(Markup(text[text.index("<svg") :])))


def _scorecard(card: dict[str, Any]) -> str:
    rows = [*card["items"], {"name": "workspace", "layer": "", **card["workspace"]}]
    fig, ax = plt.subplots(figsize=(8, 3.0), layout="constrained")
    names = [i["name"] for i in card["items"]]
    width = 0.8 / max(len(names), 1)
    for k, item in enumerate(card["items"]):
        xs = [p + k * width for p in range(len(PROPERTIES))]
        ax.bar(xs, [item["scores"][p] for p in PROPERTIES], width, label=item["name"])
    ax.set_xticks([p + 0.4 - width / 2 for p in range(len(PROPERTIES))], list(PROPERTIES))
    ax.set_ylim(0, 100)
    ax.legend(fontsize=7, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
    plot = Markup(_svg(fig))
    return str(_sections().scorecard(rows, PROPERTIES, plot, card["workspace"]["top_fixes"]))


def _layers(ws: ScoreSource) -> str:
    names = list(ws.config.datasets)
    counts = {
        layer: [delta.count(ws.paths.table(layer, n)) for n in names]
        for layer in ("bronze", "silver", "quarantine")
    }
    fig, ax = plt.subplots(figsize=(8, 2.8), layout="constrained")
    width = 0.27
    for k, (layer, values) in enumerate(counts.items()):
        ax.bar([i + k * width for i in range(len(names))], values, width, label=layer)
    ax.set_xticks([i + width for i in range(len(names))], names)
    ax.legend(fontsize=8)
    gold = [(m, delta.count(ws.paths.table("gold", m))) for m in ws.config.models]
    return str(_sections().layers(Markup(_svg(fig)), gold))


def _quality(ws: ScoreSource) -> str:
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.2), layout="constrained")
    for name in ws.config.datasets:
        batches = sorted(
            ledger.refined(ws.paths.refined_ledger, name).values(), key=lambda r: r["refined_at"]
        )
        if batches:
            left.plot(
                [b["refined_at"] for b in batches],
                [100 * b["rows_out"] / b["rows_in"] if b["rows_in"] else 100 for b in batches],
                marker="o",
                label=name,
            )
    left.set_title("gate pass rate per batch (%)", fontsize=9)
    locator = mdates.AutoDateLocator(maxticks=6)  # type: ignore[no-untyped-call]
    left.xaxis.set_major_locator(locator)
    formatter = mdates.ConciseDateFormatter(locator)  # type: ignore[no-untyped-call]
    left.xaxis.set_major_formatter(formatter)
    left.tick_params(axis="x", labelsize=7)
    left.legend(fontsize=7)
    reasons: Counter[str] = Counter()
    for name in ws.config.datasets:
        table = delta.read(ws.paths.table("quarantine", name), ["_reasons"])
        for row in table.column("_reasons").to_pylist() if table is not None else []:
            reasons.update(f"{name}:{r['code']}" for r in row or [])
    top = reasons.most_common(12)
    right.barh([k for k, _ in top][::-1], [v for _, v in top][::-1])
    right.set_title("quarantine reasons (rows)", fontsize=9)
    right.tick_params(axis="y", labelsize=7)
    return _svg(fig)


def _gold(ws: ScoreSource) -> str:
    rows = []
    for name in ws.config.models:
        s = ws.status_of_model(name)
        drift = s.get("drift") or {}
        rows.append((name, s, describe_lag(s["freshness_lag_s"]), drift.get("drifted", "–")))
    return str(_sections().gold(rows))


P_VALUE_METHODS = ("ks", "chisquare")
SCORE_CAP = 5.0


def drift_score(column: dict[str, Any]) -> float:
    """How far past its threshold a column is: 1 is the threshold, drifted columns are above it.

    A distance is divided by its threshold; a p-value (where *small* means drift) becomes
    ``log(p) / log(threshold)``, so a drifted column gets a long bar instead of an invisible one.
    Capped at ``SCORE_CAP`` so one extreme column does not flatten the others.
    """
    value, threshold = float(column["value"]), float(column["threshold"])
    if column["method"] in P_VALUE_METHODS:
        score = math.log(max(value, 1e-300)) / math.log(threshold)
    else:
        score = value / threshold if threshold else 0.0
    return min(max(score, 0.0), SCORE_CAP)


def _drift(ws: ScoreSource) -> str:
    found: list[tuple[str, dict[str, Any]]] = []
    for name in [*ws.config.datasets, *ws.config.models]:
        checked = latest_drift(ws.paths, name)
        if checked:
            found.append((name, checked))
    if not found:
        return str(_sections().note("No drift check yet: ", "aiready drift NAME", "."))
    rows = max(len(d["columns"]) for _, d in found)
    fig, axes = plt.subplots(
        1,
        len(found),
        figsize=(4.5 * len(found), 0.9 + 0.28 * rows),
        squeeze=False,
        layout="constrained",
    )
    for ax, (name, d) in zip(axes[0], found, strict=True):
        cols = d["columns"]
        ax.barh(
            [c["column"] for c in cols],
            [drift_score(c) for c in cols],
            color=["#c0392b" if c["drifted"] else "#27ae60" for c in cols],
        )
        ax.axvline(1.0, color="#555", linestyle="--", linewidth=0.8)
        ax.set_xlim(0, SCORE_CAP)
        ax.set_xlabel("drift score (1 = threshold)", fontsize=7)
        ax.set_title(f"{name}\n{d['current']} vs {d['reference']}", fontsize=8)
        ax.tick_params(labelsize=7)
    legend = (
        "Red: drifted. The score is distance ÷ threshold (0.1), or, for small "
        "samples, log(p) ÷ log(0.05); the dashed line is the threshold."
    )
    return _svg(fig) + str(_sections().note(legend))


def _feedback(ws: ScoreSource) -> str:
    per_day: dict[str, Counter[str]] = defaultdict(Counter)
    accepted: Counter[str] = Counter()
    decided: Counter[str] = Counter()
    for kind in (
        "correction",
        "hallucination",
        "retrieval_failure",
        "rating",
        "decision",
        "outcome",
    ):
        for row in ws.feedback.rows(kind):
            day = row["created_at"].date().isoformat()
            per_day[kind][day] += 1
            if kind == "decision":
                decided[day] += 1
                accepted[day] += row["action"] == "accepted"
    if not per_day:
        return str(_sections().note("No feedback yet."))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.0), layout="constrained")
    for kind, counts in per_day.items():
        xs = sorted(counts)
        left.plot(xs, [counts[x] for x in xs], marker="o", label=kind)
    left.set_title("feedback per day", fontsize=9)
    left.legend(fontsize=7)
    decision_days = sorted(decided)
    right.plot(decision_days, [accepted[d] / decided[d] for d in decision_days], marker="o")
    right.set_ylim(0, 1)
    right.set_title("decisions accepted (share)", fontsize=9)
    for ax in (left, right):  # ISO days: few ticks, slanted, so they never overlap
        ax.xaxis.set_major_locator(MaxNLocator(6))
        ax.tick_params(axis="x", labelsize=7, labelrotation=30)
    return _svg(fig)


def _lineage(ws: ScoreSource) -> str:
    runs = load_runs(ws.paths.lineage)
    edges: set[tuple[str, str]] = set()
    for run in runs:
        for i in run.inputs:
            for o in run.outputs:
                src = f"file:{i.name.rsplit('/', 1)[-1]}" if i.namespace == "file" else i.name
                edges.add((src, o.name))
    if not edges:
        return str(_sections().note("No lineage events yet."))
    order = {"file": 0, "bronze": 1, "silver": 2, "quarantine": 2, "gold": 3}
    nodes = sorted({n for e in edges for n in e})
    columns: dict[int, list[str]] = defaultdict(list)
    for n in nodes:
        columns[order.get(n.split(":", 1)[0].split(".", 1)[0], 3)].append(n)
    pos = {n: (x, -y) for x, ns in columns.items() for y, n in enumerate(ns)}
    height = max(len(ns) for ns in columns.values())
    fig, ax = plt.subplots(figsize=(10, 0.5 + 0.45 * height))
    for a, b in edges:
        (x0, y0), (x1, y1) = pos[a], pos[b]
        ax.annotate("", (x1, y1), (x0, y0), arrowprops={"arrowstyle": "->", "color": "#888"})
    for n, (x, y) in pos.items():
        ax.text(x, y, n, ha="center", va="center", fontsize=7,
                bbox={"boxstyle": "round", "fc": "#eef", "ec": "#99b"})  # fmt: skip
    ax.set_xlim(-0.6, 3.6)
    ax.set_ylim(-height, 1)
    ax.axis("off")
    return _svg(fig)


def render(ws: ScoreSource, card: dict[str, Any]) -> str:
    """The whole report as one HTML document."""
    sections = [
        ("AI-readiness scorecard", _scorecard(card)),
        ("Rows through the layers", _layers(ws)),
        ("Quality over time and quarantine reasons", _quality(ws)),
        ("Gold: certification and freshness", _gold(ws)),
        ("Drift per column", _drift(ws)),
        ("Feedback and decisions", _feedback(ws)),
        ("Lineage", _lineage(ws)),
    ]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return templating.render(
        "aiready.scorecard",
        "report.html",
        name=ws.config.name,
        now=now,
        sections=[(title, Markup(html)) for title, html in sections],
    )
