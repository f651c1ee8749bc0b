"""The contracts applied to silver and gold: their texts kept, and the semver rule on a change.

Each silver/gold commit names the sha256 of the contract it was written under
(``aiready.contract_sha256``); the text of that contract is kept, content-addressed, under
``.aiready/contracts/<dataset or model>/<sha256>.odcs.yaml`` before the step writes anything,
so whatever the table's last commit names can be read back and compared with the contract now
in the workspace. A breaking change (``aiready.contracts.diff``) is refused unless ``version:``
raised its semver major; with a raised major, silver is rebuilt from bronze (``rebuild.py``) and
gold, re-derived on every publish anyway, is simply published.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Literal

from aiready.config.paths import Paths
from aiready.contracts import CompiledContract, load_yaml
from aiready.contracts.diff import ContractDiff, diff_raw
from aiready.errors import ContractError
from aiready.storage import delta

Layer = Literal["silver", "gold"]
SHA_KEY = "aiready.contract_sha256"


def kept_dir(paths: Paths, name: str) -> Path:
    return paths.state / "contracts" / name


def kept(paths: Paths, name: str, sha256: str) -> Path:
    """Where the text of contract ``sha256`` applied to ``name`` is kept."""
    return kept_dir(paths, name) / f"{sha256}.odcs.yaml"


def last_sha256(table: Path) -> str | None:
    """The contract the newest commit that names one was written under (None: no table yet)."""
    dt = delta.table(table)
    if dt is None:
        return None
    for limit in (20, None):  # almost always among the newest commits; a retract has none
        for commit in dt.history(limit):
            if commit.get(SHA_KEY):
                return str(commit[SHA_KEY])
    return None


def keep(paths: Paths, name: str, contract: CompiledContract) -> Path:
    """Keep the text ``contract`` was compiled from (atomically); refuse if the file changed."""
    data = Path(contract.path).read_bytes()
    if hashlib.sha256(data).hexdigest() != contract.sha256:
        raise ContractError(
            "the contract file changed while it was being applied; run the step again",
            file=contract.path,
            dataset=name,
        )
    target = kept(paths, name, contract.sha256)
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    return target


def last_applied(paths: Paths, layer: Layer, name: str) -> tuple[str, Path] | None:
    """(sha256, kept text) of the contract last applied to ``layer`` ``name``; None if none."""
    sha = last_sha256(paths.table(layer, name))
    return None if sha is None else (sha, kept(paths, name, sha))


def check(paths: Paths, layer: Layer, name: str, contract: CompiledContract) -> ContractDiff | None:
    """The change from the last applied contract; a ContractError for an unversioned break.

    None when there is nothing to compare with: a first run, the same contract, or a table
    written before aiready kept contract texts (evolve.py still refuses what would lose data).
    """
    new_path = keep(paths, name, contract)
    last = last_applied(paths, layer, name)
    if last is None or last[0] == contract.sha256 or not last[1].is_file():
        return None
    diff = diff_raw(load_yaml(last[1]), load_yaml(new_path), str(last[1]), contract.path, True)
    if diff.breaking and not diff.major_raised:
        n = len(diff.breaking)
        raise ContractError(
            f"contract {diff.contract_id} {diff.old_version} → {diff.new_version} makes {n} "
            f"breaking change{'s' if n > 1 else ''} to {layer} {name}: {diff.summary()}. Raise the "
            f"major version of `version:` to apply {'them' if n > 1 else 'it'}"
            + (" (silver is then rebuilt from bronze)" if layer == "silver" else "")
            + f"; `aiready contract diff {name}` lists every change",
            file=contract.path,
            path="version",
            **({"dataset": name} if layer == "silver" else {"model": name}),
        )
    return diff


def needs_rebuild(paths: Paths, name: str, contract: CompiledContract) -> bool:
    """True when silver must be rebuilt from bronze: a breaking change with a raised major."""
    diff = check(paths, "silver", name, contract)
    return diff is not None and bool(diff.breaking)
