"""What a newcomer runs first: the version, and commands from anywhere inside the workspace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

CLI = [sys.executable, "-m", "aiready"]


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "AIREADY_WORKSPACE"}
    return subprocess.run(
        [*CLI, *args], cwd=cwd, capture_output=True, text=True, env={**base, **(env or {})}
    )


def test_version_prints_the_installed_version(tmp_path: Path) -> None:
    out = run("--version", cwd=tmp_path)
    assert out.returncode == 0
    assert out.stdout.strip() == f"aiready {version('aiready')}"


def test_workspace_is_found_from_a_subfolder_as_git_does(tmp_path: Path) -> None:
    ws = tmp_path / "shop"
    assert run("init", str(ws), cwd=tmp_path).returncode == 0
    deep = ws / "data" / "landing" / "2026"
    deep.mkdir(parents=True)
    out = run("status", "--json", cwd=deep)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["workspace"] == "shop"


def test_outside_any_workspace_the_error_names_the_folder(tmp_path: Path) -> None:
    lost = tmp_path / "nowhere" / "deeper"
    lost.mkdir(parents=True)
    out = run("status", cwd=lost)
    assert out.returncode == 2
    assert str(lost / "aiready.yaml") in out.stderr.replace("\n", "")


def test_an_explicit_workspace_wins_over_the_folder_found_upwards(tmp_path: Path) -> None:
    outer, inner = tmp_path / "outer", tmp_path / "outer" / "inner"
    assert run("init", str(outer), cwd=tmp_path).returncode == 0
    inner.mkdir()
    out = run("status", cwd=inner, env={"AIREADY_WORKSPACE": str(inner)})
    assert out.returncode == 2  # told to use inner, which has no aiready.yaml: not outer


def _cli_path(argv0: str, path_env: str, cwd: Path) -> str:
    code = f"import sys; sys.argv[0] = {argv0!r}; from aiready.cli.demo import cli_path; "
    code += "print(cli_path())"
    env = {**os.environ, "PATH": path_env}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, env=env
    )
    return out.stdout.strip()


def test_demo_prints_a_cli_path_that_works_from_where_make_ran(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "aiready"
    assert script.is_file()
    # make demo runs .venv/bin/aiready while the user's PATH does not hold .venv/bin
    shown = _cli_path(str(script), "/usr/bin:/bin", script.parent.parent.parent)
    assert shown != "aiready"
    ran = subprocess.run(
        [*shown.split(), "--version"],
        cwd=script.parent.parent.parent,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": "/usr/bin:/bin"},
    )
    assert ran.returncode == 0 and ran.stdout.startswith("aiready "), shown
    # with the venv on PATH, the bare name is what works
    assert _cli_path(str(script), f"{script.parent}:/usr/bin:/bin", tmp_path) == "aiready"


def test_freshness_lag_reads_at_a_glance() -> None:
    from aiready.certification.certify import describe_lag

    assert [describe_lag(s) for s in (None, 0, 42, 61, 3600, 93784, 400 * 86400)] == [
        "-",
        "0 s",
        "42 s",
        "1 min 1 s",
        "1 h",
        "1 d 2 h",
        "1 y 35 d",
    ]
