"""What an edit of a contract breaks: each change between two contracts, breaking or compatible.

Breaking means *data or a consumer that was fine under the old contract may fail under the new
one*: a reader loses a column or a type it relied on, or rows that passed the old gates are now
quarantined. Compatible means everything valid before stays valid. The table (``KINDS``):

=========================  ========  ==============================================================
kind                       breaking  when
=========================  ========  ==============================================================
id_changed                 yes       ``id`` differs (only with ``force``: else a ContractError)
object_removed             yes       a schema object is gone
object_renamed             yes       same ``id``, or same position and same properties, new name
object_added               no        a new schema object
column_removed             yes       a property is gone
column_renamed             yes       same ``id``, or same position and same definition, new name;
                                     or a new ``physicalName`` (the stored column is renamed)
column_added_required      yes       a new property with ``required``/``primaryKey``
column_added_optional      no        a new nullable property
type_narrowed              yes       fewer values: bigint→int, double→float, decimal digits before
                                     or after the point down, a number into a decimal or float
                                     that cannot hold every old value (bigint→decimal(18,0),
                                     bigint→double: 2^53+1, decimal(18,3)→double: 15 digits)
type_changed               yes       another family (string→integer, integer→string, date→timestamp)
type_widened               no        int→bigint, float→double, a decimal or float that holds every
                                     old value (bigint→decimal(19,0), int→double, decimal(10,2)→
                                     decimal(12,4), decimal(15,2)→double)
required_added             yes       nullable → required (a primary-key column is never null)
required_removed           no        required → nullable
unique_added / _removed    yes / no  ``unique`` set / cleared
primary_key_changed        yes       the primary key columns (or their order) differ
constraint_tightened       yes       a new or tighter bound: minimum/minLength raised, maximum/
                                     maxLength lowered, ``onFail`` stricter (warn < drop,
                                     quarantine < fail)
constraint_loosened        no        a bound removed or relaxed
pattern_changed            yes       a ``pattern`` added or changed (patterns are not comparable)
pattern_removed            no        a ``pattern`` removed
valid_value_removed        yes       a value left ``enum`` / ``validValues``
valid_value_added          no        a value joined ``enum`` / ``validValues``
quality_added              yes       a new quality rule
quality_removed            no        a quality rule removed
quality_tightened          yes       mustBeLessThan lowered, mustBeGreaterThan raised, a between-
                                     range narrowed …; ``mustBe`` changed
quality_loosened           no        the opposite
quality_changed            yes       a rule now checks something else (metric, query, arguments)
relationship_added         yes       a new reference check
relationship_removed       no        a reference check removed
classification_restricted  yes       public < internal < confidential < restricted < secret, up
classification_relaxed     no        the same order, down
purpose_removed            yes       a value left ``customProperties.allowedPurposes``
purpose_added              no        a value joined it
sla_stricter               yes       a new SLA, freshness/latency lowered, retention raised
sla_looser                 no        an SLA removed, freshness/latency raised, retention lowered
documentation              no        description, tags, team, support, examples, names for people;
                                     ``required`` set or cleared on a primary-key column; a type
                                     spelt differently
not_classified             yes       any other difference: reason "not classified"
=========================  ========  ==============================================================

Types are compared as silver stores them (``logicalType: integer`` alone is BIGINT, ``number``
alone DOUBLE, a bare DECIMAL takes its sizes from ``customProperties``), and a widening must hold
every value the old type can, not only the values seen so far. Renames are detected only from
evidence in the files: an ODCS ``id`` kept across the rename, or
the one removed and the one added item at the same position with an identical definition apart
from its names and documentation. Anything else is a removal plus an addition (both reported).
Quality rules are matched by ``id``, then ``name``, then metric and position; SLA entries by
``property`` and ``element``. The version is not a change itself: ``major_raised`` says whether
``version:`` raised its semver major, which is what lets refine/publish apply a breaking change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from packaging.version import InvalidVersion, Version

from aiready.contracts._changes import DOCUMENTATION, KINDS, ContractChange, change, compare
from aiready.contracts.loader import LoadedContract
from aiready.errors import ContractError


@dataclass(frozen=True)
class ContractDiff:
    """The changes from ``old`` to ``new``, in YAML order."""

    old_file: str
    new_file: str
    contract_id: str
    old_version: str
    new_version: str
    changes: tuple[ContractChange, ...] = field(default_factory=tuple)

    @property
    def breaking(self) -> list[ContractChange]:
        return [c for c in self.changes if c.breaking]

    @property
    def compatible(self) -> list[ContractChange]:
        return [c for c in self.changes if not c.breaking]

    @property
    def major_raised(self) -> bool:
        """True when ``version:`` raised its semver major (1.4.2 → 2.0.0)."""
        old, new = _major(self.old_version), _major(self.new_version)
        return old is not None and new is not None and new > old

    def asdict(self) -> dict[str, Any]:
        return {
            "old_file": self.old_file,
            "new_file": self.new_file,
            "id": self.contract_id,
            "old_version": self.old_version,
            "new_version": self.new_version,
            "major_raised": self.major_raised,
            "breaking": len(self.breaking),
            "compatible": len(self.compatible),
            "changes": [c.asdict() for c in self.changes],
        }

    def text(self) -> str:
        head = f"{self.contract_id}: {self.old_version} → {self.new_version}"
        if not self.changes:
            return f"{head}: no changes\n"
        lines = [f"{head}: {len(self.breaking)} breaking, {len(self.compatible)} compatible"]
        for c in self.changes:
            mark = "BREAKING  " if c.breaking else "compatible"
            lines.append(f"  {mark} {c.kind:<26} {c.path}: {c.reason}")
        return "\n".join(lines) + "\n"

    def markdown(self) -> str:
        """A changelog section: ``## <id> <old> → <new>`` with Breaking and Compatible lists."""
        out = [f"## {self.contract_id} {self.old_version} → {self.new_version}", ""]
        if not self.changes:
            return "\n".join([*out, "No changes.", ""])
        for title, items in (("Breaking", self.breaking), ("Compatible", self.compatible)):
            if items:
                out += [f"### {title}", ""]
                out += [f"- `{c.path}`: {c.reason} ({c.kind})" for c in items]
                out.append("")
        return "\n".join(out)

    def summary(self) -> str:
        """The breaking changes in one line each, for an error message."""
        return "; ".join(f"{c.path}: {c.reason}" for c in self.breaking)


def _major(version: str) -> int | None:
    try:
        return Version(version).major
    except InvalidVersion:
        return None


def diff_contracts(old: LoadedContract, new: LoadedContract, force: bool = False) -> ContractDiff:
    """Every change from ``old`` to ``new``; two contracts with different ``id`` need ``force``."""
    return diff_raw(old.raw, new.raw, str(old.path), str(new.path), force)


def diff_raw(
    old: dict[str, Any], new: dict[str, Any], old_file: str, new_file: str, force: bool = False
) -> ContractDiff:
    """``diff_contracts`` on parsed YAML (a contract validated when it was applied)."""
    old_id, new_id = str(old.get("id")), str(new.get("id"))
    changes: list[ContractChange] = []
    if old_id != new_id:
        if not force:
            raise ContractError(
                f"these are two different contracts (id {old_id!r} and {new_id!r}); "
                "pass --force to compare them anyway",
                file=new_file,
                path="id",
            )
        changes.append(change("id_changed", "id", f"id {old_id} → {new_id}", old_id, new_id))
    changes += compare(old, new)
    return ContractDiff(
        old_file,
        new_file,
        new_id,
        str(old.get("version")),
        str(new.get("version")),
        tuple(changes),
    )


__all__ = ["DOCUMENTATION", "KINDS", "ContractChange", "ContractDiff", "diff_contracts", "diff_raw"]
