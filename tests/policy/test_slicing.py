"""Sliced decisions equal whole-set Cedar decisions, whatever the policies' scopes look like."""

from __future__ import annotations

import json
import random

import cedarpy
from hypothesis import given, settings
from hypothesis import strategies as st

from aiready.policy import PolicyEngine
from aiready.policy.policies import parse_policies

GROUPS = ["g0", "g1", "g2", "g3"]
USERS = {f"u{i}": GROUPS[i % 4] for i in range(8)}
DATASETS = ["d0", "d1", "d2"]
COLUMNS = [f"{d}.c{j}" for d in DATASETS for j in range(3)]
ACTIONS = ["read", "query", "retrieve", "export", "train"]

PRINCIPAL_SCOPES = [
    "principal",
    'principal == User::"u1"',
    'principal in Group::"g1"',
    'principal in Group::"top"',
    "principal is User",
    'principal is User in Group::"g2"',
    "principal is Service",
]
ACTION_SCOPES = [
    "action",
    'action == Action::"query"',
    'action in [Action::"read", Action::"retrieve"]',
]
RESOURCE_SCOPES = [
    "resource",
    'resource == Dataset::"d1"',
    'resource == Column::"d0.c1"',
    'resource in Dataset::"d2"',
    "resource is Column",
    'resource is Column in Dataset::"d0"',
    "resource is Dataset",
]
CONDITIONS = [
    "",
    " when { resource.pii }",
    ' when { context.purpose == "fraud" }',
    ' unless { principal.region == "EU" }',
    ' when { Dataset::"d1".pii }',  # a literal entity outside the request
    " when { resource.allowedPurposes.contains(context.purpose) }",
]


def entities() -> tuple[list[dict[str, object]], dict[str, str], list[dict[str, object]]]:
    groups = [
        {
            "uid": {"type": "Group", "id": g},
            "attrs": {},
            "parents": [{"type": "Group", "id": "top"}],
        }
        for g in GROUPS
    ] + [{"uid": {"type": "Group", "id": "top"}, "attrs": {}, "parents": []}]
    users = [
        {
            "uid": {"type": "User", "id": u},
            "attrs": {"region": "EU" if i % 2 else "US"},
            "parents": [{"type": "Group", "id": g}],
        }
        for i, (u, g) in enumerate(USERS.items())
    ]
    datasets = [
        {
            "uid": {"type": "Dataset", "id": d},
            "attrs": {"pii": d == "d1", "allowedPurposes": ["fraud"]},
            "parents": [],
        }
        for d in DATASETS
    ]
    columns = [
        {
            "uid": {"type": "Column", "id": c},
            "attrs": {"pii": c.endswith("c1"), "allowedPurposes": ["fraud", "churn"]},
            "parents": [{"type": "Dataset", "id": c.split(".")[0]}],
        }
        for c in COLUMNS
    ]
    return groups + users, {u: "User" for u in USERS}, datasets + columns


policy = st.tuples(
    st.sampled_from(["permit", "forbid"]),
    st.sampled_from(PRINCIPAL_SCOPES),
    st.sampled_from(ACTION_SCOPES),
    st.sampled_from(RESOURCE_SCOPES),
    st.sampled_from(CONDITIONS),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(policy, min_size=1, max_size=12), st.integers(0, 2**32))
def test_sliced_decisions_equal_whole_set_decisions(
    specs: list[tuple[str, str, str, str, str]], seed: int
) -> None:
    principals, kinds, resources = entities()
    text = "\n".join(
        f'@id("p{i}")\n{effect}({p}, {a}, {r}){cond};'
        for i, (effect, p, a, r, cond) in enumerate(specs)
    )
    ids = [f"p{i}" for i in range(len(specs))]
    engine = PolicyEngine.from_parts(
        parse_policies(text, "t.cedar").policies, principals, kinds, resources
    )
    whole = cedarpy.PolicySet.from_str(text)
    every = cedarpy.Entities.from_json_str(json.dumps(principals + resources))
    rng = random.Random(seed)
    for _ in range(25):
        user = rng.choice(list(USERS))
        action = rng.choice(ACTIONS)
        resource = rng.choice(DATASETS + COLUMNS)
        purpose = rng.choice(["fraud", "churn"])
        kind = "Column" if "." in resource else "Dataset"
        expected = cedarpy.is_authorized(
            {
                "principal": f'User::"{user}"',
                "action": f'Action::"{action}"',
                "resource": f'{kind}::"{resource}"',
                "context": {"purpose": purpose},
            },
            whole,
            every,
        )
        got = engine.decide(user, action, resource, purpose)
        assert got.allowed == bool(expected.allowed), (text, user, action, resource, purpose)
        names = sorted(ids[int(p.removeprefix("policy"))] for p in expected.diagnostics.reasons)
        assert sorted(got.policies) == names
