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


def _in_order(parsed: dict[str, Any]) -> list[tuple[dict[str, Any], bool]]:
    """cedarpy's static policies and templates in source order (``policy<k>``, k from 0)."""
    found = [(k, est, False) for k, est in parsed.get("staticPolicies", {}).items()]
    found += [(k, est, True) for k, est in parsed.get("templates", {}).items()]
    found.sort(key=lambda item: int(str(item[0]).removeprefix("policy")))
    return [(est, template) for _, est, template in found]


def _next_token(text: str, pos: int) -> int:
    """Offset of the first token at or after ``pos``, a policy boundary.

    At a boundary no string is open, so what precedes the next token is only whitespace and
    ``//`` comments (Cedar has no other kind).
    """
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
        elif text.startswith("//", pos):
            end = text.find("\n", pos)
            pos = len(text) if end < 0 else end + 1
        else:
            break
    return pos


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _located(text: str, file: str) -> list[tuple[int, dict[str, Any], bool]]:
    """(line, EST, is template) per policy, located with cedarpy's parser alone.

    A policy ends at the first ``;`` token after its start, so the first ``;`` at which the text
    since the last boundary parses into at least one policy is the next boundary: a cut at a
    ``;`` inside a string or a comment leaves a policy unfinished (or, in a comment before any
    policy, gives none).
    """
    out: list[tuple[int, dict[str, Any], bool]] = []
    start = 0
    semicolon = text.find(";")
    while semicolon >= 0:
        try:
            found = _in_order(json.loads(cedarpy.policies_to_json_str(text[start : semicolon + 1])))
        except ValueError:
            found = []
        if found:  # none: only comments so far, and this ``;`` is in one of them
            line = _line(text, _next_token(text, start))
            out += [(line, est, template) for est, template in found]
            start = semicolon + 1
        semicolon = text.find(";", semicolon + 1)
    try:
        leftover = _in_order(json.loads(cedarpy.policies_to_json_str(text[start:])))
    except ValueError as exc:
        line = _line(text, _next_token(text, start))
        raise PolicyError(f"policy does not parse: {exc}", file=file, line=line) from exc
    if leftover:  # not reached: a policy ends with a ``;``
        raise PolicyError("a policy without its `;`", file=file, line=_line(text, start))
    return out


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
