"""Cedar policy files, parsed by cedarpy: each policy with its id, file and line.

Policies live in ``policies/*.cedar``. A policy is named by its ``@id("…")`` annotation, or by
``<file>:<line>``. The text is never split by hand: cedarpy parses it, and a policy set is built
from cedarpy's JSON form keyed by our ids, so a decision names its policies without any mapping
from positions (comments, strings and annotations cannot shift one list against another).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cedarpy

from aiready.policy.errors import PolicyError

ACTIONS = ("read", "query", "retrieve", "export", "train")


@dataclass(frozen=True)
class Policy:
    """One Cedar policy (or template) as cedarpy's parser read it, with where it was written."""

    id: str
    """Its ``@id`` annotation, else ``<file>:<line>``: the name decisions and errors use."""
    file: str
    line: int
    """1-based line of its first token (its annotation, or ``permit``/``forbid``)."""
    index: int
    """Its position in the file, which is cedarpy's ``policy<index>`` for that file's text."""
    est: dict[str, Any] = field(repr=False, compare=False)
    """Cedar's JSON form (EST) of the policy."""
    template: bool = False


@dataclass(frozen=True)
class PolicyFile:
    """A policy file's text and the policies cedarpy parsed from it."""

    file: str
    text: str
    policies: list[Policy]


def _lines(text: str) -> list[str]:
    """Lines with their ``\\n`` kept, so joining a run of them gives back the exact text."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _in_order(parsed: dict[str, Any]) -> list[tuple[dict[str, Any], bool]]:
    """cedarpy's static policies and templates in source order (``policy<k>``, k from 0)."""
    found = [(k, est, False) for k, est in parsed.get("staticPolicies", {}).items()]
    found += [(k, est, True) for k, est in parsed.get("templates", {}).items()]
    found.sort(key=lambda item: int(str(item[0]).removeprefix("policy")))
    return [(est, template) for _, est, template in found]


def _first_code_line(lines: list[str], start: int) -> int:
    """1-based line of the first token at or after line ``start`` (a policy boundary).

    At a boundary no string is open, so a line is blank, a ``//`` comment, or holds a token.
    """
    for n in range(start, len(lines)):
        stripped = lines[n].strip()
        if stripped and not stripped.startswith("//"):
            return n + 1
    return len(lines)


def _located(text: str, file: str) -> list[tuple[int, dict[str, Any], bool]]:
    """(line, EST, is template) per policy, located with cedarpy's parser alone.

    A policy ends at the first ``;`` token after its start, so a run of lines parses exactly
    when it ends at a policy boundary: the first line where the text since the last boundary
    parses is the next boundary. Only lines holding a ``;`` can end a policy.
    """
    lines = _lines(text)
    out: list[tuple[int, dict[str, Any], bool]] = []
    start = 0
    for end in range(1, len(lines) + 1):
        if ";" not in lines[end - 1]:
            continue
        try:
            parsed = json.loads(cedarpy.policies_to_json_str("".join(lines[start:end])))
        except ValueError:
            continue
        line = _first_code_line(lines, start)
        out += [(line, est, template) for est, template in _in_order(parsed)]
        start = end
    rest = "".join(lines[start:])
    try:
        leftover = _in_order(json.loads(cedarpy.policies_to_json_str(rest)))
    except ValueError as exc:
        raise PolicyError(
            f"policy does not parse: {exc}", file=file, line=_first_code_line(lines, start)
        ) from exc
    line = _first_code_line(lines, start)
    return out + [(line, est, template) for est, template in leftover]


def parse_policies(text: str, file: str) -> PolicyFile:
    """The policies of one file, parsed by cedarpy; a parse error names the file and line."""
    located = _located(text, file)
    try:  # the whole text is the truth; the located runs only give each policy its line
        whole = _in_order(json.loads(cedarpy.policies_to_json_str(text)))
    except ValueError as exc:  # not reached: every run parsed, so does their concatenation
        raise PolicyError(f"policy does not parse: {exc}", file=file) from exc
    same = [est for _, est, _ in located] == [est for est, _ in whole]
    policies = []
    for k, (est, template) in enumerate(whole):
        line = located[k][0] if same else 0
        label = f"{file}:{line}" if same else f"{file}#{k + 1}"
        annotated = est.get("annotations", {}).get("id")
        policies.append(Policy(str(annotated or label), file, line, k, est, template))
    return PolicyFile(file, text, policies)


def load_policies(root: Path) -> list[PolicyFile]:
    """Every ``policies/*.cedar`` file, parsed; a duplicate policy id is an error."""
    files = [
        parse_policies(path.read_text(encoding="utf-8"), str(path.relative_to(root)))
        for path in sorted((root / "policies").glob("*.cedar"))
    ]
    unique_ids([p for f in files for p in f.policies])
    return files


def duplicates(policies: list[Policy]) -> list[tuple[Policy, Policy]]:
    """(policy, the earlier one with its id): decisions name policies by id, so ids are unique."""
    seen: dict[str, Policy] = {}
    out = []
    for policy in policies:
        first = seen.setdefault(policy.id, policy)
        if first is not policy:
            out.append((policy, first))
    return out


def duplicate_message(policy: Policy, first: Policy) -> str:
    return f"policy id {policy.id!r} is used twice (also at {first.file}:{first.line})"


def unique_ids(policies: list[Policy]) -> None:
    """Refuse a policy list in which two policies share an id."""
    for policy, first in duplicates(policies)[:1]:
        raise PolicyError(
            duplicate_message(policy, first), file=policy.file, line=policy.line, policy=policy.id
        )


def policy_set(policies: list[Policy] | tuple[Policy, ...]) -> cedarpy.PolicySet:
    """A cedarpy policy set whose policy ids are ours, so decisions name them directly."""
    doc = {
        "staticPolicies": {p.id: p.est for p in policies if not p.template},
        "templates": {p.id: p.est for p in policies if p.template},
        "templateLinks": [],
    }
    return cedarpy.PolicySet.from_json_str(json.dumps(doc))
