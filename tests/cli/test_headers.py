"""Headers as tools write them (issue 13, item 3), through the real CLI on a real workspace.

Case and surrounding spaces never split one contract column into two; an ambiguous header is a
SourceError naming the file and the columns and never stops the other files; ``schema: strict``
catches a renamed column at the gate.
"""

from __future__ import annotations

import json
from pathlib import Path

from deltalake import DeltaTable

from tests.cli.test_cli import aiready
from tests.conftest import WorkspaceFactory, silver_rows

OPTIONAL_AMOUNT = """\
schema:
  - name: payments
    properties:
      - {name: id, logicalType: integer, primaryKey: true}
      - {name: amount, logicalType: number}
      - {name: currency, logicalType: string}
"""


def _documents(stdout: str) -> list[object]:
    """The JSON documents printed one after another (the results, then the error)."""
    decoder, docs, pos = json.JSONDecoder(), [], 0
    while pos < len(stdout.rstrip()):
        doc, end = decoder.raw_decode(stdout, pos)
        docs.append(doc)
        pos = end + len(stdout[end:]) - len(stdout[end:].lstrip())
    return docs


def _bronze_columns(root: Path) -> list[str]:
    dt = DeltaTable(str(root / ".aiready/lake/bronze/payments"))
    return [f.name for f in dt.schema().fields if not f.name.startswith("_")]


def test_headers_differing_in_case_and_spaces_land_in_one_column(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace(
        files={
            "data/a.csv": "id,Amount,currency,Note\n1,10.5,EUR,x\n",
            "data/b.csv": "ID, amount ,CURRENCY,note\r\n2,7,USD,y\r\n",
        }
    )
    ingest = aiready("ingest", "-w", str(ws.root), "--json")
    assert ingest.returncode == 0, ingest.stdout + ingest.stderr
    files = json.loads(ingest.stdout)[0]["files"]
    assert [f["status"] for f in files] == ["ingested", "ingested"]
    assert "'Amount' as 'amount'" in files[0]["message"]
    refine = aiready("refine", "-w", str(ws.root), "--json")
    assert refine.returncode == 0, refine.stdout + refine.stderr
    rows = sorted(silver_rows(ws), key=lambda r: int(str(r["id"])))
    assert [(r["id"], float(str(r["amount"])), r["currency"]) for r in rows] == [
        (1, 10.5, "EUR"),
        (2, 7.0, "USD"),
    ]
    # not in the contract: stored under the name bronze first saw, not as a second column
    assert _bronze_columns(ws.root) == ["id", "amount", "currency", "Note"]


def test_header_as_read_is_kept_in_the_bronze_commit(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(files={"data/a.csv": "ID,Amount,currency\n1,2,EUR\n"})
    assert aiready("ingest", "-w", str(ws.root)).returncode == 0
    history = DeltaTable(str(ws.root / ".aiready/lake/bronze/payments")).history()
    headers = [h["aiready.source_header"] for h in history if "aiready.source_header" in h]
    assert json.loads(headers[0]) == ["ID", "Amount", "currency"]


def test_ambiguous_header_names_file_and_columns_and_others_still_land(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace(
        files={
            "data/a.csv": "id,amount,currency\n1,2,EUR\n",
            "data/b.csv": "id,amount,Amount,currency\n2,3,4,USD\n",
            "data/c.csv": "id,amount,currency\n3,5,USD\n",
        }
    )
    ingest = aiready("ingest", "-w", str(ws.root), "--json")
    assert ingest.returncode not in (0, 3)  # a typed SourceError, not a crash
    [[result], error_doc] = _documents(ingest.stdout)
    assert error_doc["file"] == "data/b.csv"  # type: ignore[index]
    by_file = {f["file"]: f for f in result["files"]}
    assert by_file["data/b.csv"]["status"] == "failed"
    assert "'amount'" in by_file["data/b.csv"]["message"]
    assert "'Amount'" in by_file["data/b.csv"]["message"]
    [error] = result["errors"]
    assert error["file"] == "data/b.csv"
    assert by_file["data/a.csv"]["status"] == by_file["data/c.csv"]["status"] == "ingested"
    assert aiready("refine", "-w", str(ws.root)).returncode == 0
    assert sorted(int(str(r["id"])) for r in silver_rows(ws)) == [1, 3]


def test_ambiguous_jsonl_keys_are_a_source_error(make_workspace: WorkspaceFactory) -> None:
    lines = ['{"id": 1, "amount": 2, "currency": "EUR"}',
             '{"id": 2, "Currency": "USD", "currency": "EUR", "amount": 1}']  # fmt: skip
    ws = make_workspace(source="data/*.jsonl", files={"data/a.jsonl": "\n".join(lines) + "\n"})
    ingest = aiready("ingest", "-w", str(ws.root), "--json")
    [[result], _] = _documents(ingest.stdout)
    assert ingest.returncode not in (0, 3)
    assert "'Currency'" in result["errors"][0]["message"]
    assert result["errors"][0]["file"] == "data/a.jsonl"


def _strict(root: Path, mode: str) -> None:
    config = root / "aiready.yaml"
    config.write_text(config.read_text() + f"    schema: {mode}\n")


def test_strict_schema_fails_a_batch_with_a_renamed_column(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace(
        contract=OPTIONAL_AMOUNT, files={"data/a.csv": "id,amt,currency\n1,2,EUR\n"}
    )
    _strict(ws.root, "strict")
    assert aiready("ingest", "-w", str(ws.root)).returncode == 0
    refine = aiready("refine", "-w", str(ws.root), "--json")
    assert refine.returncode == 1, refine.stdout + refine.stderr
    [report] = json.loads(refine.stdout)[0]["reports"]
    text = " ".join(report["failures"])
    assert "'amt'" in text and "'amount'" in text and "strict" in text
    assert silver_rows(ws) == []


def test_lenient_schema_passes_the_same_file_with_a_warning(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace(
        contract=OPTIONAL_AMOUNT, files={"data/a.csv": "id,amt,currency\n1,2,EUR\n"}
    )
    _strict(ws.root, "lenient")
    assert aiready("ingest", "-w", str(ws.root)).returncode == 0
    refine = aiready("refine", "-w", str(ws.root), "--json")
    assert refine.returncode == 0, refine.stdout
    [report] = json.loads(refine.stdout)[0]["reports"]
    assert report["unknown_columns"] == ["amt"] and report["warnings"]


def test_strict_schema_passes_a_file_matching_up_to_case(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace(
        contract=OPTIONAL_AMOUNT, files={"data/a.csv": "Id,AMOUNT,currency\n1,2,EUR\n"}
    )
    _strict(ws.root, "strict")
    assert aiready("ingest", "-w", str(ws.root)).returncode == 0
    assert aiready("refine", "-w", str(ws.root)).returncode == 0
    assert len(silver_rows(ws)) == 1


def test_schema_mode_is_validated(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(files={"data/a.csv": "id,amount,currency\n1,2,EUR\n"})
    _strict(ws.root, "strcit")
    out = aiready("ingest", "-w", str(ws.root))
    assert out.returncode != 0 and "schema must be lenient or strict" in out.stdout + out.stderr
