"""Policy text is split by cedarpy's parser, never by hand: comments, strings and annotations that
hold quotes, parentheses, ``;`` or ``//`` cannot shift one policy against another, so a sliced
decision is always the whole policy set's decision (issue 12, item 1)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import cedarpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiready.policy import PolicyEngine, PolicyError
from aiready.policy.policies import parse_policies
from tests.policy.test_policy import governed
from tests.policy.test_slicing import (
    ACTION_SCOPES,
    ACTIONS,
    COLUMNS,
    DATASETS,
    PRINCIPAL_SCOPES,
    RESOURCE_SCOPES,
    USERS,
    entities,
)

PURPOSES = ["fraud", "churn", 'x";(y', "a;b//c"]
CONDITIONS = [
    "",
    " when { resource.pii }",
    ' when { context.purpose == "fraud" }',
    ' when { context.purpose == "a;b//c" }',  # a string holding ; and //
    ' when { context.purpose == "x\\";(y" }',  # an escaped quote, ; and (
    ' unless { context.purpose like "*;*" }',
    ' unless { principal.region == "EU" }',
]
# comment text an ad-hoc splitter trips over: quotes, parentheses, ;, //, /* and braces
NOISE = st.text(alphabet=list("ab \"'();/*{}[]@:\\"), max_size=12)
ANNOTATIONS = ['@note("a; b // c")', '@advice(")(")', '@reason("\\"quoted\\" ;")']


@st.composite
def policy_file(draw: st.DrawFn, start: int) -> tuple[str, int]:
    """A Cedar file of permits and forbids with comments between and inside its policies."""

    def comment() -> str:
        return f"// {draw(NOISE)}\n" if draw(st.booleans()) else ""

    parts: list[str] = []
    count = draw(st.integers(1, 6))
    for i in range(count):
        parts.append(comment())
        if draw(st.booleans()):
            parts.append(f'@id("p{start + i}")\n')
        parts += [draw(st.sampled_from(ANNOTATIONS)) + "\n"] if draw(st.booleans()) else []
        effect = draw(st.sampled_from(["permit", "forbid"]))
        principal = draw(st.sampled_from(PRINCIPAL_SCOPES))
        action = draw(st.sampled_from(ACTION_SCOPES))
        resource = draw(st.sampled_from(RESOURCE_SCOPES))
        condition = draw(st.sampled_from(CONDITIONS))
        parts.append(f"{effect}(\n  {principal}, {comment()}  {action},\n  {resource}\n)")
        parts.append(f"{comment()}{condition}{draw(st.sampled_from([';', ' ;', ';  ']))}")
        parts.append(f" {comment()}" if draw(st.booleans()) else "\n")
    parts.append(comment())
    return "".join(parts), count


def whole_set_decision(
    text: str, every: cedarpy.Entities, user: str, action: str, resource: str, purpose: str
) -> cedarpy.AuthzResult:
    kind = "Column" if "." in resource else "Dataset"
    request = {
        "principal": {"type": "User", "id": user},
        "action": {"type": "Action", "id": action},
        "resource": {"type": kind, "id": resource},
        "context": {"purpose": purpose},
    }
    return cedarpy.is_authorized(request, cedarpy.PolicySet.from_str(text), every)


@settings(max_examples=80, deadline=None)
@given(policy_file(0), policy_file(100), st.integers(0, 2**32))
def test_sliced_decisions_equal_whole_set_whatever_the_comments(
    first: tuple[str, int], second: tuple[str, int], seed: int
) -> None:
    principals, kinds, resources = entities()
    files = [parse_policies(first[0], "a.cedar"), parse_policies(second[0], "b.cedar")]
    assert [len(f.policies) for f in files] == [first[1], second[1]]
    policies = [p for f in files for p in f.policies]
    engine = PolicyEngine.from_parts(policies, principals, kinds, resources)
    text = first[0] + "\n" + second[0]
    every = cedarpy.Entities.from_json_str(json.dumps(principals + resources))
    rng = random.Random(seed)
    for _ in range(30):
        request = (
            rng.choice(list(USERS)),
            rng.choice(ACTIONS),
            rng.choice(DATASETS + COLUMNS),
            rng.choice(PURPOSES),
        )
        expected = whole_set_decision(text, every, *request)
        got = engine.decide(*request)
        assert got.allowed == bool(expected.allowed), (text, request)
        names = sorted(
            policies[int(p.removeprefix("policy"))].id for p in expected.diagnostics.reasons
        )
        assert sorted(got.policies) == names, (text, request)


def test_every_policy_gets_the_line_it_starts_on() -> None:
    text = (
        '// 5" screens :)\n'  # line 1
        "permit(principal, action, resource);\n"  # 2
        "\n"
        "// it's (open\n"
        '@note("a;b")\n'  # 5: the annotation is where the policy starts
        "forbid(principal, action, resource)\n"
        '  when { context.purpose == "x;//y" };  permit(principal, action, resource)\n'  # 7
        "  when { true };\n"
        '@id("named")\n'  # 9
        "permit(principal, action, resource);"
    )
    parsed = parse_policies(text, "p.cedar").policies
    assert [(p.id, p.line) for p in parsed] == [
        ("p.cedar:2", 2),
        ("p.cedar:5", 5),
        ("p.cedar:7", 7),
        ("named", 9),
    ]
    assert [p.est["effect"] for p in parsed] == ["permit", "forbid", "permit", "permit"]


ISSUE_EXAMPLE = """\
// 5" screens :)
@id("analysts-query")
permit(principal in Group::"analysts", action == Action::"query", resource)
when { resource.allowedPurposes.contains(context.purpose) };

// bots never see personal data (the "pii" tag)
@id("no-pii-to-bots")
forbid(principal in Group::"ai-apps", action, resource is Column) when { resource.pii };

@id("bots-retrieve-gold")
permit(principal in Group::"ai-apps", action == Action::"retrieve", resource)
when { resource.layer == "gold" };
"""


def test_issue_example_comment_with_quote_and_parenthesis(tmp_path: Path) -> None:
    """The comment from issue 12 once shifted statements so the forbid was skipped (or exit 3)."""
    ws = governed(tmp_path)
    (tmp_path / "policies/access.cedar").write_text(ISSUE_EXAMPLE)
    forbidden = ws.policy.decide("churn-bot", "retrieve", "customer_value.segment", "churn")
    assert not forbidden.allowed and forbidden.policies == ["no-pii-to-bots"]
    allowed = ws.policy.decide("churn-bot", "retrieve", "customer_value.total", "churn")
    assert allowed.allowed and allowed.policies == ["bots-retrieve-gold"]
    assert ws.policy.decide("alice", "query", "payments", "fraud").policies == ["analysts-query"]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('// 5" screens :)\npermit(principal, action, resource);\n\nforbid(principal, oops);\n', 4),
        ('permit(principal, action, resource) when { context.x == "unterminated };\n', 1),
        ('permit(principal, action, resource);\n// only a comment ( "\npermit(\n', 3),
    ],
)
def test_parse_error_names_the_line_of_the_broken_policy(text: str, line: int) -> None:
    with pytest.raises(PolicyError, match="does not parse") as info:
        parse_policies(text, "x.cedar")
    assert info.value.attrs()["file"] == "x.cedar" and info.value.attrs()["line"] == line
