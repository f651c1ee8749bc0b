"""Silent policy mistakes are errors at load and in ``aiready policy lint`` (issue 12, item 7), and
a workspace's engine follows its policy files as they change."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import aiready
from aiready.policy import PolicyError
from aiready.policy.access import access_rules
from tests.policy.test_policy import POLICIES, governed


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aiready", *args, "-w", str(root)],
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=120,
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("governed")
    governed(root)
    return root


@pytest.fixture
def ws(template: Path, tmp_path: Path) -> aiready.Workspace:
    root = tmp_path / "ws"
    subprocess.run(["cp", "-r", str(template), str(root)], check=True)
    return aiready.Workspace.load(root)


def add_policy(ws: aiready.Workspace, text: str, name: str = "extra.cedar") -> None:
    (ws.root / "policies" / name).write_text(text)


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (
            'forbid(principal in Group::"analyst", action, resource);',
            "undeclared Group::\"analyst\"; did you mean 'analysts'?",
        ),
        ('permit(principal == User::"alcie", action, resource);', "did you mean 'alice'?"),
        ('permit(principal, action, resource == Dataset::"paymnts");', "did you mean 'payments'?"),
        ('permit(principal, action, resource == Column::"payments.amout");', "payments.amount"),
        ('permit(principal, action == Action::"raed", resource);', "raed"),
        # a forbid that reads a missing attribute errors at decision time and is skipped
        ('forbid(principal, action, resource) when { principal.regoin == "EU" };', "regoin"),
        ("forbid(principal, action, resource is Dataset) when { resource.tags };", "tags"),
        ("forbid(principal, action, resource) when { resource.classification == 1 };", ""),
        ("permit(principal is Usr, action, resource);", "Usr"),
    ],
)
def test_a_policy_naming_what_is_not_declared_does_not_load(
    ws: aiready.Workspace, policy: str, expected: str
) -> None:
    add_policy(ws, f'// it\'s a "mistake" :)\n\n@id("mistake")\n{policy}\n')
    with pytest.raises(PolicyError) as info:
        ws.policy  # noqa: B018
    attrs = info.value.attrs()
    assert (attrs["file"], attrs["line"], attrs["policy"]) == ("policies/extra.cedar", 3, "mistake")
    assert expected in attrs["message"]


def test_a_forbid_with_a_typo_would_have_been_skipped(ws: aiready.Workspace) -> None:
    """Why validation matters: Cedar skips a policy that errors, so the forbid forbids nothing."""
    import cedarpy

    typo = 'forbid(principal, action, resource) when { principal.regoin == "EU" };'
    engine = ws.policy
    result = cedarpy.is_authorized(
        {
            "principal": {"type": "User", "id": "alice"},
            "action": {"type": "Action", "id": "query"},
            "resource": {"type": "Dataset", "id": "payments"},
            "context": {"purpose": "fraud"},
        },
        POLICIES + typo,
        json.dumps(engine.principal_list + engine.resource_list),
    )
    assert result.allowed and result.diagnostics.errors  # unvalidated: allowed despite the forbid
    add_policy(ws, typo)
    with pytest.raises(PolicyError, match="regoin"):
        ws.policy.decide("alice", "query", "payments", "fraud")


def test_optional_principal_attribute_needs_has(ws: aiready.Workspace) -> None:
    (ws.root / "policies/principals.yaml").write_text(
        "groups: [analysts]\nusers:\n  alice: {groups: [analysts], region: EU}\n"
        "  bob: {groups: [analysts]}\n"
    )
    add_policy(ws, 'forbid(principal, action, resource) unless { principal.region == "EU" };')
    (ws.root / "policies/access.cedar").write_text("")
    with pytest.raises(PolicyError, match="region"):
        ws.policy  # noqa: B018  (bob has no region: the forbid would error and be skipped)
    add_policy(
        ws,
        "forbid(principal, action, resource)\n"
        'unless { principal has region && principal.region == "EU" };',
    )
    assert not ws.policy.decide("bob", "query", "payments", "fraud").allowed


def test_duplicate_ids_and_principal_mistakes(ws: aiready.Workspace) -> None:
    add_policy(ws, '@id("analysts-query")\npermit(principal, action, resource);\n')
    with pytest.raises(PolicyError, match="used twice") as info:
        ws.policy  # noqa: B018
    assert info.value.attrs()["file"] == "policies/extra.cedar"
    (ws.root / "policies/extra.cedar").unlink()
    principals = ws.root / "policies/principals.yaml"
    good = principals.read_text()
    principals.write_text(good.replace("alice: {groups: [analysts]", "alice: {groups: [analyst]"))
    with pytest.raises(PolicyError, match="undeclared group 'analyst'; did you mean 'analysts'"):
        ws.policy  # noqa: B018
    principals.write_text(good + "user:\n  eve: {groups: [analysts]}\n")
    with pytest.raises(PolicyError, match="unknown section 'user'; did you mean 'users'"):
        ws.policy  # noqa: B018
    principals.write_text(good.replace("sam:", "churn-bot:"))
    with pytest.raises(PolicyError, match="both users and services"):
        ws.policy  # noqa: B018


@pytest.mark.parametrize(
    ("access", "expected", "line"),
    [
        (
            'row_filters:\n  payments: "cid = principal.regoin"\n',
            "attribute 'regoin'; did you mean 'region'?",
            3,
        ),
        (
            'row_filters:\n  payments: "cdi = principal.region"\n',
            "no column 'cdi'; did you mean 'cid'?",
            3,
        ),
        ("row_filters:\n  paymnts: \"cid = 'A'\"\n", "unknown dataset 'paymnts'", 3),
        ('row_filters:\n  payments: "cid = = 1"\n', "does not parse", 3),
        ("masks:\n  payments.amout: hash\n", "no contract declares column 'amout'", 3),
        ("masks:\n  payments.amount: hashed\n", "must be one of", 3),
        ("masks:\n  payment.amount: hash\n", "no dataset 'payment'", 3),
        ("row_filter:\n  payments: \"cid = 'A'\"\n", "did you mean 'row_filters'?", 2),
    ],
)
def test_access_mistakes_are_errors_naming_file_and_line(
    ws: aiready.Workspace, access: str, expected: str, line: int
) -> None:
    (ws.root / "policies/access.yaml").write_text("# masks and filters\n" + access)
    with pytest.raises(PolicyError) as info:
        access_rules(ws.root, ws.policy)
    attrs = info.value.attrs()
    assert expected in attrs["message"]
    assert (attrs["file"], attrs["line"]) == ("policies/access.yaml", line)


def test_access_rules_follow_the_file(ws: aiready.Workspace) -> None:
    path = ws.root / "policies/access.yaml"
    path.write_text('row_filters:\n  payments: "cid = principal.region"\n')
    assert access_rules(ws.root, ws.policy)["row_filters"] == {"payments": "cid = principal.region"}
    path.write_text('row_filters:\n  payments: "cid = principal.regionn"\n')
    with pytest.raises(PolicyError, match="regionn"):
        access_rules(ws.root, ws.policy)


def test_engine_reloads_when_its_files_change(ws: aiready.Workspace) -> None:
    """A long-lived workspace (as the service holds) decides with the files as they are now."""
    assert ws.authorize("alice", "query", "payments", "fraud").allowed
    add_policy(ws, '@id("freeze")\nforbid(principal, action == Action::"query", resource);\n')
    denied = ws.authorize("alice", "query", "payments", "fraud")
    assert not denied.allowed and denied.policies == ["freeze"]
    add_policy(ws, '@id("freeze")\nforbid(principal == User::"sam", action, resource);\n')
    assert ws.authorize("alice", "query", "payments", "fraud").allowed  # edited in place
    (ws.root / "policies/extra.cedar").unlink()
    principals = ws.root / "policies/principals.yaml"
    principals.write_text(
        principals.read_text().replace("sam: {groups: [stewards]", "sam: {groups: [analysts]")
    )
    assert ws.authorize("sam", "query", "payments", "fraud").allowed  # a new group member
    contract = ws.root / "contracts/payments.odcs.yaml"
    contract.write_text(
        contract.read_text().replace("value: [fraud, analytics]", "value: [analytics]")
    )
    assert not ws.authorize("alice", "query", "payments", "fraud").allowed  # purpose withdrawn
    add_policy(ws, "permit(principal, action, resource) when { oops };")
    with pytest.raises(PolicyError, match="does not parse"):  # fails closed, not on old rules
        ws.authorize("alice", "query", "payments", "analytics")
    assert ws.verify_audit() == 5


def test_lint_lists_every_problem_and_exits_1(ws: aiready.Workspace) -> None:
    root = ws.root
    ok = cli(root, "policy", "lint")
    assert ok.returncode == 0 and "policies ok" in ok.stdout
    add_policy(ws, '@id("a")\nforbid(principal in Group::"analyst", action, resource);\n')
    add_policy(ws, "permit(principal, action, resource) when { oops };\n", "broken.cedar")
    (root / "policies/access.yaml").write_text(
        'masks:\n  payments.amout: hash\nrow_filters:\n  payments: "cid = principal.regoin"\n'
    )
    result = cli(root, "policy", "lint", "--json")
    assert result.returncode == 1, result.stderr
    problems = json.loads(result.stdout)["problems"]
    where = sorted((p["file"], p["line"], p["policy"]) for p in problems)
    assert where == [
        ("policies/access.yaml", 2, None),
        ("policies/access.yaml", 4, None),
        ("policies/broken.cedar", 1, None),
        ("policies/extra.cedar", 1, "a"),
    ]
    text = cli(root, "policy", "lint")
    assert text.returncode == 1
    for needle in ("'amout'", "'regoin'", "did you mean 'region'", 'Group::"analyst"', "4 problem"):
        assert needle in text.stdout, text.stdout


def test_running_service_follows_policy_edits(tmp_path: Path) -> None:
    """Over real HTTP: an edited policy file decides the very next request."""
    import httpx

    from aiready.service import keys
    from aiready.service.app import FailureLimiter, create_app
    from tests.retrieval.test_retrieval import make
    from tests.serving import serving

    ws = make(tmp_path, n=8)
    key, _ = keys.create(ws.paths, "alice")

    def visible(url: str) -> list[str]:
        r = httpx.get(f"{url}/datasets", params={"purpose": "support"}, headers={"X-API-Key": key})
        assert r.status_code == 200, r.text
        return [d["name"] for d in r.json()["datasets"]]

    with serving(create_app(ws, FailureLimiter(limit=5, window=60))) as url:
        before = visible(url)
        assert before
        (ws.root / "policies/freeze.cedar").write_text(
            '// "frozen" (for now)\n@id("freeze")\n'
            'forbid(principal == User::"alice", action, resource);\n'
        )
        assert visible(url) == []
        (ws.root / "policies/freeze.cedar").unlink()
        assert visible(url) == before
