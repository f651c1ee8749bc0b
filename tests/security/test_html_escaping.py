"""Every HTML report escapes what it shows: markup in a file name, a column or a value is text.

The workspace ingests a source file whose name holds a ``<script>`` tag; each report that shows
that name (or a hostile column name or value) must show it escaped and never as a tag.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

import aiready
from aiready.drift import DriftResult
from aiready.drift import render as drift_render
from aiready.drift.stats import compare
from aiready.gates import html as gate_html
from tests.retrieval.test_retrieval import make

TAG = "<script>alert(1)<\\script>"
"""A tag as a file name may hold it (a file name cannot hold ``/``)."""
ESCAPED = "&lt;script&gt;alert(1)&lt;\\script&gt;"
HOSTILE_FILE = f"docs_{TAG}.csv"


def escaped(page: str) -> bool:
    return "<script" not in page.lower() and ESCAPED in page


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[aiready.Workspace, list[object]]:
    """A workspace that has refined a hostile file (one row without a region: quarantined)."""
    ws = make(tmp_path_factory.mktemp("hostile") / "ws", n=6)
    (ws.root / "data" / HOSTILE_FILE).write_text(
        "doc_id,region,topic,title,body,author_email\n"
        f"h1,EU,t,{TAG},b,c@example.com\nh2,,t,a,b,c@example.com\n"
    )
    ws.ingest()
    results = ws.refine("docs")
    return ws, [r.asdict() for result in results for r in result.reports]


def test_gate_report_escapes_the_source_file_name(hostile: tuple[aiready.Workspace, list]) -> None:
    _, reports = hostile
    assert any(TAG in str(r["source_file"]) for r in reports)  # the name reached the report
    page = gate_html.render(reports, f"refine {TAG}")
    assert escaped(page)
    assert f"<title>refine {ESCAPED}</title>" in page


def test_drift_report_escapes_target_and_column_names() -> None:
    column = f"col {TAG}"
    reference = pa.table({column: [1.0, 2.0, 3.0, 4.0] * 10})
    current = pa.table({column: [9.0, 8.0, 7.0, 9.5] * 10})
    result = DriftResult(
        TAG, "silver", "batches before b1", f"batch {TAG}", 1, compare(reference, current)
    )
    page = drift_render(result)
    assert escaped(page)
    assert f"<td>col {ESCAPED}</td>" in page


def test_workspace_report_escapes_names_values_and_plot_labels(
    hostile: tuple[aiready.Workspace, list], tmp_path: Path
) -> None:
    from aiready.scorecard.report import render

    ws, _ = hostile
    card = ws.score()
    card["items"][0]["name"] = TAG  # a hostile name in the table of scores
    card["workspace"]["top_fixes"].append(
        {"impact": 1.0, "target": TAG, "fix": TAG, "evidence": TAG}
    )
    page = render(ws, card)
    assert escaped(page)
    assert f"<td>{ESCAPED}</td>" in page
    assert f"<b>{ESCAPED}</b>: {ESCAPED}" in page
    assert f"file:docs_{ESCAPED}.csv" in page  # the lineage plot's node label (SVG text)
