"""``aiready contract diff`` as a user runs it: real processes, exit codes, output, bad input."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import aiready
from tests.conftest import WorkspaceFactory
from tests.contracts.test_diff import BASE, NOTE


def files(tmp_path: Path, old: str, new: str) -> tuple[str, str]:
    a, b = tmp_path / "old.odcs.yaml", tmp_path / "new.odcs.yaml"
    a.write_text(old)
    b.write_text(new)
    return str(a), str(b)


def test_compatible_exits_0_breaking_exits_1(tmp_path: Path) -> None:
    a, b = files(tmp_path, BASE, BASE.replace("[new, paid]", "[new, paid, sent]"))
    ok = aiready("contract", "diff", a, b)
    assert ok.returncode == 0, ok.stderr
    assert "0 breaking, 1 compatible" in ok.stdout and "valid_value_added" in ok.stdout
    a, b = files(tmp_path, BASE, BASE.replace(NOTE, ""))
    bad = aiready("contract", "diff", a, b)
    assert bad.returncode == 1, bad.stderr
    assert "BREAKING" in bad.stdout and "column note removed" in bad.stdout
    same = aiready("contract", "diff", a, a)
    assert same.returncode == 0 and "no changes" in same.stdout


def test_json_and_markdown(tmp_path: Path) -> None:
    new = BASE.replace("version: 1.0.0", "version: 2.0.0").replace(NOTE, "")
    a, b = files(tmp_path, BASE, new)
    out = aiready("contract", "diff", a, b, "--format", "json")
    assert out.returncode == 1
    data = json.loads(out.stdout)
    assert data["major_raised"] is True and data["breaking"] == 1
    assert data["changes"] == [
        {
            "kind": "column_removed",
            "path": "schema[0].properties[4]",
            "breaking": True,
            "reason": "column note removed",
            "old": None,
            "new": None,
        }
    ]
    assert json.loads(aiready("contract", "diff", a, b, "--json").stdout) == data
    md = aiready("contract", "diff", a, b, "--format", "markdown")
    assert md.stdout.startswith("## orders 1.0.0 → 2.0.0\n\n### Breaking\n\n- `schema[0]")
    assert aiready("contract", "diff", a, b, "--format", "html").returncode == 2


def test_bad_input_is_exit_2_naming_the_file(tmp_path: Path) -> None:
    good = tmp_path / "good.odcs.yaml"
    good.write_text(BASE)
    not_yaml = tmp_path / "broken.odcs.yaml"
    not_yaml.write_text(BASE.replace("    unit: d\n", "    unit: [d\n", 1))
    listing = tmp_path / "list.yaml"
    listing.write_text("- just\n- a list\n")
    unrelated = tmp_path / "unrelated.yaml"
    unrelated.write_text("name: my config\nport: 8080\n")
    cases = {
        str(not_yaml): "YAML syntax error",
        str(tmp_path): "a directory, not a contract file",
        str(listing): "a contract must be a YAML mapping",
        str(unrelated): "no apiVersion: not an ODCS contract",
        str(tmp_path / "missing.odcs.yaml"): "contract file not found",
    }
    for path, message in cases.items():
        for args in ((path, str(good)), (str(good), path)):
            r = aiready("contract", "diff", *args)
            assert r.returncode == 2, (args, r.stdout, r.stderr)
            assert message in r.stderr, (args, r.stderr)
            assert Path(path).name in r.stderr
    r = aiready("contract", "diff", str(not_yaml), str(good))
    assert "line=" in r.stderr or '"line"' in r.stderr


def test_two_unrelated_contracts_need_force(tmp_path: Path) -> None:
    a, b = files(tmp_path, BASE, BASE.replace("id: orders", "id: invoices"))
    refused = aiready("contract", "diff", a, b)
    assert refused.returncode == 2 and "two different contracts" in refused.stderr
    forced = aiready("contract", "diff", a, b, "--force")
    assert forced.returncode == 1 and "id_changed" in forced.stdout


def test_a_dataset_against_the_contract_last_applied(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(files={"data/a.csv": "id,amount,currency\n1,2,EUR\n"})
    never = aiready("contract", "diff", "payments", "-w", str(ws.root))
    assert never.returncode == 2 and "no contract was applied to silver payments" in never.stderr
    ws.ingest()
    ws.refine()
    same = aiready("contract", "diff", "payments", "-w", str(ws.root))
    assert same.returncode == 0 and "no changes" in same.stdout, same.stderr
    path = ws.root / "contracts/payments.odcs.yaml"
    path.write_text(path.read_text().replace("[EUR, USD]", "[EUR]"))
    changed = aiready("contract", "diff", "payments", "-w", str(ws.root), "--json")
    assert changed.returncode == 1, changed.stderr
    data = json.loads(changed.stdout)
    assert [(c["kind"], c["reason"]) for c in data["changes"]] == [
        ("valid_value_removed", 'no longer allowed: ["USD"]')
    ]
    assert Path(data["old_file"]).parent == ws.paths.state / "contracts" / "payments"
    unknown = aiready("contract", "diff", "nope", "-w", str(ws.root))
    assert unknown.returncode == 2 and "neither a contract file nor a dataset" in unknown.stderr
