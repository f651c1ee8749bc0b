"""A missing or broken pyspark is a config error (exit 2) with the install hint, not exit 3.

Each case puts a ``pyspark`` package first on PYTHONPATH whose import fails the way a real broken
install does. Before the fix only a ModuleNotFoundError named ``pyspark`` was mapped; a plain
ImportError, or a missing dependency of pyspark (py4j), was an internal error (exit 3), and the
hint lost its ``[spark]`` to Rich markup even when mapped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import WorkspaceFactory

HINT = "pip install 'aiready[spark]'"
BROKEN = {
    "absent": 'raise ModuleNotFoundError("No module named \'pyspark\'", name="pyspark")',
    "import-error": 'raise ImportError("libpyspark is broken")',
    "no-py4j": 'raise ModuleNotFoundError("No module named \'py4j\'", name="py4j")',
    "half-installed": "",  # pyspark imports, but pyspark.errors / pyspark.sql do not exist
}


def _cli(shim: Path, *args: str) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join([str(shim), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path, "AIREADY_MLFLOW__ENABLED": "false", "COLUMNS": "300"}
    env.pop("AIREADY_ENGINE", None)
    return subprocess.run(
        [sys.executable, "-m", "aiready", *args], capture_output=True, text=True, env=env
    )


def _spark_workspace(make_workspace: WorkspaceFactory, tmp_path: Path, how: str) -> Path:
    ws = make_workspace(files={"data/a.csv": "id,amount,currency\n1,1,EUR\n"})
    config = ws.root / "aiready.yaml"
    config.write_text(config.read_text() + "engine: spark\n")
    (tmp_path / "shim/pyspark").mkdir(parents=True)
    (tmp_path / "shim/pyspark/__init__.py").write_text(BROKEN[how] + "\n")
    return ws.root


@pytest.mark.parametrize("how", sorted(BROKEN))
def test_broken_pyspark_exits_2_with_the_hint(
    make_workspace: WorkspaceFactory, tmp_path: Path, how: str
) -> None:
    root = _spark_workspace(make_workspace, tmp_path, how)
    done = _cli(tmp_path / "shim", "refine", "-w", str(root))
    assert done.returncode == 2, done.stderr
    said = " ".join(done.stderr.split())
    assert HINT in said and "engine 'spark' needs pyspark" in said, said
    assert "internal" not in said


def test_every_way_in_says_the_same(make_workspace: WorkspaceFactory, tmp_path: Path) -> None:
    """`run` (errors listed per dataset), --json, and --engine on a duckdb workspace."""
    root = _spark_workspace(make_workspace, tmp_path, "import-error")
    whole = _cli(tmp_path / "shim", "run", "-w", str(root))
    assert whole.returncode == 2 and HINT in " ".join(whole.stdout.split()), whole.stdout
    as_json = _cli(tmp_path / "shim", "refine", "--json", "-w", str(root))
    assert as_json.returncode == 2
    body = json.loads(as_json.stdout)
    assert body["ok"] is False and body["error"] == "ConfigError" and HINT in body["message"]
    config = root / "aiready.yaml"
    config.write_text(config.read_text().replace("engine: spark\n", ""))
    override = _cli(tmp_path / "shim", "refine", "--engine", "spark", "-w", str(root))
    assert override.returncode == 2 and HINT in " ".join(override.stderr.split())
    plain = _cli(tmp_path / "shim", "run", "-w", str(root))  # duckdb never touches pyspark
    assert plain.returncode == 0, plain.stdout + plain.stderr
