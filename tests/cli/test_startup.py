"""The CLI starts fast because heavy libraries load only in the commands that use them.

Timing lives in ``benchmarks/startup.py``; this test pins the cause: a fresh interpreter that
imports the CLI and runs ``status`` must not have imported any of these.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("mlflow", "scipy", "openlineage", "fastapi", "uvicorn", "pyspark", "torch", "matplotlib")

PROBE = """
import json, sys
from typer.testing import CliRunner
from aiready.cli import app
result = CliRunner().invoke(app, sys.argv[1:])
loaded = sorted({m.split('.')[0] for m in sys.modules} & set(json.loads(HEAVY)))
print(json.dumps({"exit": result.exit_code, "loaded": loaded}))
"""


def _probe(*args: str) -> dict[str, object]:
    code = PROBE.replace("json.loads(HEAVY)", repr(list(HEAVY)))
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def test_help_loads_no_heavy_library() -> None:
    probe = _probe("--help")
    assert probe == {"exit": 0, "loaded": []}


def test_status_loads_no_heavy_library(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "aiready", "init", str(tmp_path / "ws")],
        check=True,
        capture_output=True,
    )
    probe = _probe("status", "-w", str(tmp_path / "ws"))
    assert probe["exit"] == 0
    assert probe["loaded"] == []
