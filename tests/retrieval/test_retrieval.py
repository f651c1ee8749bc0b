"""Governed retrieval over a real tantivy index of certified gold: pre-filtered, masked, cited."""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import aiready
from aiready import NotFoundError
from aiready.policy import AccessDenied, PolicyError
from aiready.retrieval import index
from aiready.retrieval.index import folder
from tests.conftest import CONTRACT_HEAD

CONFIG = """\
name: kbws
datasets:
  docs:
    kind: strategic
    source: data/docs*.csv
    contract: contracts/docs.odcs.yaml
models:
  kb:
    sql: models/kb.sql
    contract: contracts/kb.odcs.yaml
    primary_key: doc_id
    strategic: true
    retrieval: {id: doc_id, text: [title, body], filters: [region, topic]}
"""
PROPS = """\
    properties:
      - {name: doc_id, logicalType: string, primaryKey: true}
      - {name: region, logicalType: string, required: true}
      - {name: topic, logicalType: string}
      - {name: title, logicalType: string}
      - {name: body, logicalType: string}
      - {name: author_email, logicalType: string, classification: confidential, tags: ['pii:email']}
"""
POLICIES = """\
@id("analysts-retrieve")
permit(principal in Group::"analysts", action == Action::"retrieve", resource)
when { resource.allowedPurposes.contains(context.purpose) };

@id("stewards-all")
permit(principal in Group::"stewards", action, resource);

@id("no-topic-for-bots")
forbid(principal in Group::"bots", action, resource is Column) when { resource.name == "topic" };

@id("bots-retrieve")
permit(principal in Group::"bots", action == Action::"retrieve", resource);
"""
PRINCIPALS = """\
groups: [analysts, stewards, bots]
users:
  alice: {groups: [analysts], region: EU}
  bob: {groups: [analysts], region: US}
  sam: {groups: [stewards]}
  eve: {region: EU}
services:
  helper: {groups: [bots], region: EU}
"""
ACCESS = """\
masks:
  kb.author_email: partial
row_filters:
  kb: "region = principal.region"
"""
TEXT = ("title", "body")  # the text columns of kb
TOPICS = ["refund policy", "delivery times", "warranty claims", "invoice errors"]


def docs_csv(n: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    lines = ["doc_id,region,topic,title,body,author_email"]
    for i in range(n):
        topic = TOPICS[i % 4]
        words = " ".join(
            rng.choice(["customer", "order", "parcel", "money", "help"]) for _ in range(6)
        )
        lines.append(
            f"d{i},{'EU' if i % 3 else 'US'},{topic.split()[0]},How to handle {topic} {i},"
            f"{words} {topic},writer{i}@example.com"
        )
    return "\n".join(lines) + "\n"


def make(
    root: Path, n: int = 40, config: str = CONFIG, docs: str | None = None
) -> aiready.Workspace:
    """A governed workspace whose certified gold model ``kb`` holds ``docs`` (or ``n`` made up)."""
    for folder_ in ("contracts", "data", "models", "policies"):
        (root / folder_).mkdir(parents=True, exist_ok=True)
    (root / "aiready.yaml").write_text(config)
    purposes = "customProperties:\n  - property: allowedPurposes\n    value: [support]\n"
    for name in ("docs", "kb"):
        body = CONTRACT_HEAD.format(id=name) + f"schema:\n  - name: {name}\n" + PROPS + purposes
        (root / f"contracts/{name}.odcs.yaml").write_text(body)
    (root / "models/kb.sql").write_text(
        "SELECT doc_id, region, topic, title, body, author_email FROM silver.docs\n"
    )
    (root / "data/docs.csv").write_text(docs_csv(n) if docs is None else docs)
    (root / "policies/access.cedar").write_text(POLICIES)
    (root / "policies/principals.yaml").write_text(PRINCIPALS)
    (root / "policies/access.yaml").write_text(ACCESS)
    ws = aiready.Workspace.load(root)
    result = ws.run()
    assert result.passed and result.publishes[0].certified, result.asdict()
    return ws


@pytest.fixture
def ws(tmp_path: Path) -> aiready.Workspace:
    return make(tmp_path)


def test_results_are_cited_masked_and_row_filtered(ws: aiready.Workspace) -> None:
    result = ws.retrieve("warranty claims", "alice", "support", k=5)
    assert result.hits and result.versions == {"kb": 0}
    for hit in result.hits:
        assert (hit.dataset, hit.version) == ("kb", 0)
        assert hit.record["region"] == "EU"  # alice's row filter
        assert hit.key == hit.record["doc_id"]
        assert hit.record["author_email"] == "w***m"  # partial mask: first and last character
    assert "warranty" in result.hits[0].record["title"]
    assert result.filtered == {"kb": "region = 'EU'"}
    assert result.masked == {"kb.author_email": "partial"}
    steward = ws.retrieve("warranty claims", "sam", "support", k=5)
    assert {h.record["region"] for h in steward.hits} == {"EU", "US"}
    assert steward.hits[0].record["author_email"].endswith("@example.com")


@pytest.mark.parametrize("overfetch", [True, False])
@pytest.mark.parametrize(("who", "region"), [("alice", "EU"), ("bob", "US")])
def test_prefilter_keeps_the_ranking_of_permitted_records(
    ws: aiready.Workspace, who: str, region: str, overfetch: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Filtering before ranking: the top k = the steward's full ranking restricted to the region.
    Both ways of restricting are checked: permitted hits of a larger unrestricted top list, and
    the id set inside the index (EU holds 2/3 of the records, restricted as "all but the
    others"; US 1/3, as an id set)."""
    if not overfetch:
        monkeypatch.setattr(index, "OVERFETCH_MAX", 0)
    for query in ("refund", "delivery parcel", "invoice errors money", "customer"):
        full = ws.retrieve(query, "sam", "support", k=40)
        own = [(round(h.score, 5), h.key) for h in full.hits if h.record["region"] == region]
        mine = [(round(h.score, 5), h.key) for h in ws.retrieve(query, who, "support").hits]
        assert len(mine) == min(10, len(own)) and mine
        assert [s for s, _ in mine] == [s for s, _ in own[: len(mine)]], query  # same scores
        cutoff = mine[-1][0]  # records tied at the cut may come in any order
        assert {k for s, k in mine if s > cutoff} == {k for s, k in own if s > cutoff}


def test_denied_principals_see_nothing(ws: aiready.Workspace) -> None:
    assert ws.retrieve("refund", "eve", "support").hits == []  # no permit: deny by default
    assert ws.retrieve("refund", "alice", "marketing").hits == []  # purpose not allowed
    with pytest.raises(AccessDenied, match="kb"):
        ws.retrieve("refund", "alice", "marketing", datasets=["kb"])
    with pytest.raises(PolicyError, match="purpose"):
        ws.retrieve("refund", "alice", "")
    with pytest.raises(PolicyError, match="unknown principal"):
        ws.retrieve("refund", "mallory", "support")
    log = ws.audit_log()
    assert log is not None
    audit = log.to_pylist()
    assert any(r["principal"] == "eve" and r["decision"] == "deny" for r in audit)


def test_forbidden_columns_are_left_out(ws: aiready.Workspace) -> None:
    hits = ws.retrieve("refund", "helper", "anything", k=3).hits
    assert hits and all("topic" not in h.record for h in hits)
    assert all(h.record["region"] == "EU" for h in hits)


def test_filters_narrow_and_never_widen(ws: aiready.Workspace) -> None:
    hits = ws.retrieve("customer", "alice", "support", k=40, filters={"topic": "refund"}).hits
    assert hits and {(h.record["topic"], h.record["region"]) for h in hits} == {("refund", "EU")}
    # asking for another region's rows yields nothing, never the rows themselves
    assert ws.retrieve("customer", "alice", "support", filters={"region": "US"}).hits == []
    with pytest.raises(PolicyError, match="cannot be filtered"):
        ws.retrieve("customer", "alice", "support", datasets=["kb"], filters={"author_email": "x"})
    with pytest.raises(NotFoundError, match="not retrievable"):
        ws.retrieve("customer", "alice", "support", datasets=["docs"])
    # query syntax aimed at other fields is just text
    tricky = ws.retrieve('region:US OR _id:d0 OR author_email:"writer0"', "alice", "support", k=40)
    assert all(h.record["region"] == "EU" for h in tricky.hits)


def test_new_certified_version_is_indexed_incrementally(ws: aiready.Workspace) -> None:
    root = ws.root
    (root / "data/docs_2.csv").write_text(
        textwrap.dedent("""\
        doc_id,region,topic,title,body,author_email
        d1,EU,refund,Refund policy rewritten,zebra crossing rules,new@example.com
        d100,EU,delivery,Brand new zebra article,zebra,z@example.com
        """)
    )
    result = ws.run()
    assert result.publishes[0].gold_version == 1 and result.publishes[0].certified
    assert (folder(ws.paths, "kb", 1) / "digests.parquet").is_file()
    build = aiready.retrieval.build(ws.paths, ws.model("kb"), 1)
    assert build.documents == 41  # already built: reported, not rebuilt
    hits = ws.retrieve("zebra", "alice", "support", k=5).hits
    assert {h.key for h in hits} == {"d1", "d100"} and {h.version for h in hits} == {1}
    # the old version's index is untouched
    assert ws.searcher.search(ws.paths, ws.model("kb"), 0, "zebra", 5, None, {}, TEXT) == []


def test_incremental_build_counts(tmp_path: Path) -> None:
    ws = make(tmp_path, n=20)
    (tmp_path / "data/docs_2.csv").write_text(
        "doc_id,region,topic,title,body,author_email\n"
        "d3,EU,refund,changed,changed,c@example.com\nd99,EU,refund,new,new,n@example.com\n"
    )
    for rel in (".aiready/index/kb",):
        assert (tmp_path / rel / "v0").is_dir()
    ws.ingest()
    ws.refine()
    [published] = ws.publish("kb")
    assert published.certified
    from aiready.retrieval.index import _count

    target = folder(ws.paths, "kb", 1)
    assert _count(target) == 21
    # a fresh rebuild from scratch gives the same documents as the incremental one
    import shutil

    shutil.rmtree(target)
    shutil.rmtree(folder(ws.paths, "kb", 0))
    rebuilt = aiready.retrieval.build(ws.paths, ws.model("kb"), 1)
    assert (rebuilt.documents, rebuilt.added, rebuilt.based_on) == (21, 21, None)


def test_an_index_of_another_layout_is_rebuilt_not_reused(ws: aiready.Workspace) -> None:
    """An index from before per-column fields (one shared text field) or from other declared
    columns cannot be searched column by column: it is rebuilt from gold, never patched."""
    digests = folder(ws.paths, "kb", 0) / "digests.parquet"
    table = pq.read_table(digests)
    pq.write_table(table.replace_schema_metadata({}), digests)  # as written before layouts
    fresh = aiready.Workspace.load(ws.root)
    result = aiready.retrieval.build(fresh.paths, fresh.model("kb"), 0)
    assert (result.documents, result.added, result.based_on) == (40, 40, None)
    assert fresh.retrieve("warranty claims", "alice", "support", k=3).hits
    again = aiready.retrieval.build(fresh.paths, fresh.model("kb"), 0)
    assert (again.documents, again.added) == (40, 0)  # now reused
