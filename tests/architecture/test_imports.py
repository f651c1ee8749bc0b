"""The architecture in the folder tree: imports flow one way and never form a cycle.

face (cli, service) → facade (workspace) → features → layers → gates/engines →
contracts, storage, sources → config → errors. An import inside a function or under
``TYPE_CHECKING`` counts like any other: a lazy import is still a dependency.
"""

from __future__ import annotations

from tests.architecture.graph import cycles, edges

RANKS = {
    "aiready.errors": 0,
    "aiready.reasons": 0,
    "aiready._env": 0,
    "aiready.jsonvalues": 0,
    "aiready.sqltext": 0,
    "aiready.localdb": 0,
    "aiready.templating": 0,
    "aiready.config": 1,
    "aiready.contracts": 2,
    "aiready.storage": 2,
    "aiready.sources": 2,
    "aiready.gates": 3,
    "aiready.engines": 3,
    "aiready.layers": 4,
    **{
        f"aiready.{feature}": 5
        for feature in (
            "catalog",
            "policy",
            "retrieval",
            "feedback",
            "drift",
            "scorecard",
            "certification",
            "lineage",
            "tracking",
            "profiling",
        )
    },  # fmt: skip
    "aiready.workspace": 6,
    "aiready": 6,
    "aiready.demo": 7,
    "aiready.cli": 7,
    "aiready.service": 7,
    "aiready.__main__": 7,
}


def rank(module: str) -> int:
    """The rank of the longest listed prefix of ``module``."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in RANKS:
            return RANKS[prefix]
    raise AssertionError(f"{module} has no place in RANKS: add its package")


def test_no_import_cycle() -> None:
    assert cycles(edges()) == []


def test_no_upward_import() -> None:
    upward = [
        f"{a} ({rank(a)}) imports {b} ({rank(b)})"
        for a, targets in sorted(edges().items())
        for b in sorted(targets)
        if rank(b) > rank(a)
    ]
    assert upward == []


def test_every_module_has_a_rank() -> None:
    for module in edges():
        rank(module)


def test_the_check_sees_a_cycle_and_an_upward_import() -> None:
    """The checks can fail: a made-up graph with both faults is caught."""
    graph = {"aiready.layers.a": {"aiready.layers.b"}, "aiready.layers.b": {"aiready.layers.a"}}
    assert cycles(graph) == [["aiready.layers.a", "aiready.layers.b"]]
    assert rank("aiready.cli.run") > rank("aiready.layers.silver")


def test_governed_sql_does_not_reach_into_engines() -> None:
    """Queries and retrieval share one sandbox; neither imports an engine's internals, nor the
    facade they are handed their parts by."""
    reaching = [
        f"{a} imports {b}"
        for a, targets in sorted(edges().items())
        if a.startswith(("aiready.policy", "aiready.retrieval"))
        for b in sorted(targets)
        if b.startswith(("aiready.engines", "aiready.workspace"))
    ]
    assert reaching == []
