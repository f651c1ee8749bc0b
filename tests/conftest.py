"""Shared fixtures: real workspaces on disk with real Delta tables.

MLflow evidence is switched off by default to keep the suite fast; tests under tests/tracking and
tests/cli switch it on and read the real sqlite store back.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

import aiready

# Property tests draw the same examples on every run of `make test` (a seed derived from each
# test), so CI is reproducible; AIREADY_HYPOTHESIS=explore draws new ones to look for new bugs.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("AIREADY_HYPOTHESIS", "ci"))

CONTRACT_HEAD = """\
apiVersion: v3.1.0
kind: DataContract
id: {id}
name: {id}
version: 1.0.0
status: active
team:
  name: owners
  members:
    - username: owner@example.com
      role: owner
"""

PAYMENTS_SCHEMA = """\
schema:
  - name: payments
    properties:
      - name: id
        logicalType: integer
        primaryKey: true
      - name: amount
        logicalType: number
        physicalType: DECIMAL(10,2)
        required: true
        logicalTypeOptions: {minimum: 0}
      - name: currency
        logicalType: string
        quality:
          - metric: invalidValues
            arguments: {validValues: [EUR, USD]}
            mustBe: 0
"""


@pytest.fixture(autouse=True)
def _no_mlflow_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIREADY_MLFLOW__ENABLED", "false")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")


WorkspaceFactory = Callable[..., aiready.Workspace]


@pytest.fixture
def make_workspace(tmp_path: Path) -> WorkspaceFactory:
    """Build a workspace: ``make_workspace(contract=..., files={"data/a.csv": "..."})``."""

    def make(
        *,
        contract: str = PAYMENTS_SCHEMA,
        files: dict[str, str | bytes] | None = None,
        kind: str = "operational",
        source: str = "data/*.csv",
        name: str = "payments",
        root: Path | None = None,
    ) -> aiready.Workspace:
        ws_root = root or tmp_path / "ws"
        (ws_root / "contracts").mkdir(parents=True, exist_ok=True)
        (ws_root / "aiready.yaml").write_text(
            textwrap.dedent(f"""\
            name: testws
            datasets:
              {name}:
                kind: {kind}
                source: {source}
                contract: contracts/{name}.odcs.yaml
            """)
        )
        head = CONTRACT_HEAD.format(id=name)
        (ws_root / f"contracts/{name}.odcs.yaml").write_text(head + textwrap.dedent(contract))
        for rel, content in (files or {}).items():
            write(ws_root / rel, content)
        return aiready.Workspace.load(ws_root)

    return make


def write(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(textwrap.dedent(content) if content.startswith("\n") else content)


def silver_rows(ws: aiready.Workspace, dataset: str = "payments") -> list[dict[str, object]]:
    from deltalake import DeltaTable

    path = ws.paths.table("silver", dataset)
    if not (path / "_delta_log").exists():
        return []
    return list(DeltaTable(str(path)).to_pyarrow_dataset().to_table().to_pylist())
