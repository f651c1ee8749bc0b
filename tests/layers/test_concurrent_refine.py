"""One Workspace object refining two datasets from two threads at once, as the console's
replay does from FastAPI's thread pool: each gets its own rows, nothing is lost or mixed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiready
from aiready.storage import delta
from tests.conftest import CONTRACT_HEAD

SCHEMA = """\
schema:
  - name: {name}
    properties:
      - {{name: id, logicalType: integer, primaryKey: true}}
      - {{name: amount, logicalType: number, logicalTypeOptions: {{minimum: 0}}}}
"""


def test_two_threads_refine_two_datasets_with_one_workspace(tmp_path: Path) -> None:
    names = ("alpha", "beta")
    (tmp_path / "contracts").mkdir()
    config = "name: threads\ndatasets:\n"
    for k, name in enumerate(names):
        (tmp_path / "data" / name).mkdir(parents=True)
        rows = "".join(f"{i},{-1 if i % 10 == k else i}\n" for i in range(20_000))
        (tmp_path / "data" / name / "a.csv").write_text("id,amount\n" + rows)
        contract = CONTRACT_HEAD.format(id=name) + SCHEMA.format(name=name)
        (tmp_path / f"contracts/{name}.odcs.yaml").write_text(contract)
        config += f"  {name}:\n    source: data/{name}/*.csv\n"
        config += f"    contract: contracts/{name}.odcs.yaml\n"
    (tmp_path / "aiready.yaml").write_text(config)
    ws = aiready.Workspace.load(tmp_path)
    ws.ingest()
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda name: ws.refine(name)[0], names))
    assert [r.dataset for r in results] == list(names)
    for k, name in enumerate(names):
        silver = delta.dataset(ws.paths.table("silver", name)).to_table()
        bad = {i for i in range(20_000) if i % 10 == k}
        assert silver.num_rows == 18_000 and not bad & set(silver.column("id").to_pylist())
        held = {r["_source_row"] - 1 for r in ws.quarantine(name)}  # rows count from 1
        assert held == bad
