"""CREATE TABLE from a compiled contract, built as a sqlglot tree and generated per dialect.

Every identifier is quoted, in every dialect: a column named ``user``, ``order`` or ``a b`` then
means that column wherever it stands (an unquoted ``user`` in a Postgres CHECK is CURRENT_USER),
its case is kept, and no list of each engine's reserved words is needed.

What each dialect can state differs; the table below is that difference, and a rule a dialect
cannot state becomes a ``/* … */`` comment on the statement (never dropped silently).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from aiready.contracts._export_plan import ObjectPlan, strict, why_not
from aiready.contracts.rules import Column, Rule


@dataclass(frozen=True)
class DialectTraits:
    """What a target's CREATE TABLE accepts."""

    comments: Literal["statement", "inline", "options"]
    """COMMENT ON … statements, inline ``COMMENT '…'``, or BigQuery ``OPTIONS(description=…)``."""
    check: bool
    """CHECK constraints in CREATE TABLE (Snowflake and BigQuery have none)."""
    unique: bool
    """UNIQUE constraints (Spark and BigQuery have none)."""
    primary_key: Literal["plain", "not_enforced"]
    json_type: str
    """The type for ODCS object/array columns (aiready stores them as JSON text)."""


DIALECTS: dict[str, DialectTraits] = {
    "duckdb": DialectTraits("statement", True, True, "plain", "JSON"),
    "postgres": DialectTraits("statement", True, True, "plain", "JSON"),
    "spark": DialectTraits("inline", True, False, "plain", "VARIANT"),
    "snowflake": DialectTraits("inline", False, True, "plain", "VARIANT"),
    "bigquery": DialectTraits("options", False, False, "not_enforced", "JSON"),
}
_BOUND_OPS: dict[str, type[exp.Binary]] = {
    "minimum": exp.GTE,
    "maximum": exp.LTE,
    "exclusiveMinimum": exp.GT,
    "exclusiveMaximum": exp.LT,
    "minLength": exp.GTE,
    "maxLength": exp.LTE,
}


def ddl(plans: list[ObjectPlan], dialect: str) -> str:
    """The DDL for every object, statements separated by ``;`` and a blank line."""
    traits = DIALECTS[dialect]
    statements: list[exp.Expr] = []
    for plan in plans:
        statements.extend(_object_ddl(plan, traits))
    # RAISE: a construct sqlglot cannot write in this dialect is an error, never left out quietly;
    # identify: quote every identifier, those of a contract's SQL condition included
    return (
        "\n\n".join(
            s.sql(dialect, pretty=True, identify=True, unsupported_level=ErrorLevel.RAISE) + ";"
            for s in statements
        )
        + "\n"
    )


def _object_ddl(plan: ObjectPlan, traits: DialectTraits) -> list[exp.Expr]:
    table = exp.Table(this=ident(plan.table))
    defs: list[exp.Expr] = [_column_def(plan, c, traits) for c in plan.columns]
    left_out: list[str] = []
    for rule in plan.rules():
        expressed = _table_constraint(plan, rule, traits)
        if isinstance(expressed, exp.Expr):
            defs.append(expressed)
        elif expressed is None:
            left_out.append(f"{rule.id}: {rule.description} ({why_not(rule, _gap(rule))})")
    if plan.compiled.primary_key:
        pk = exp.PrimaryKey(expressions=[ident(c) for c in plan.compiled.primary_key])
        if traits.primary_key == "not_enforced":
            pk.set("options", [exp.var("NOT ENFORCED")])
        defs.append(pk)
    props: list[exp.Expr] = []
    if plan.description and traits.comments == "inline":
        props.append(exp.SchemaCommentProperty(this=exp.Literal.string(plan.description)))
    if plan.description and traits.comments == "options":
        props.append(_description(plan.description).expressions[0])
    create = exp.Create(
        this=exp.Schema(this=table, expressions=defs),
        kind="TABLE",
        properties=exp.Properties(expressions=props) if props else None,
    )
    if left_out:
        create.add_comments(
            [" enforced by aiready, not expressed in this DDL:\n  " + "\n  ".join(left_out) + " "]
        )
    out: list[exp.Expr] = [create]
    if traits.comments == "statement":
        out.extend(_comment_statements(plan, table))
    return out


def _gap(rule: Rule) -> str:
    if rule.kind == "pattern":
        return "regular expressions differ between engines"
    if rule.kind == "relationship":
        return "the referenced table is another dataset's silver"
    if rule.kind == "missing_values":
        return "tokens become NULL before the checks"
    if rule.kind in ("row_count", "sql_dataset"):
        return "a check of the whole batch"
    if rule.kind == "unique":
        return "this dialect has no UNIQUE constraint"
    return "this dialect has no CHECK constraint"


def _column_def(plan: ObjectPlan, col: Column, traits: DialectTraits) -> exp.Expr:
    constraints: list[exp.Expr] = []
    if plan.required(col.name):
        constraints.append(exp.ColumnConstraint(kind=exp.NotNullColumnConstraint()))
    if col.description and traits.comments == "inline":
        comment = exp.CommentColumnConstraint(this=exp.Literal.string(col.description))
        constraints.append(exp.ColumnConstraint(kind=comment))
    if col.description and traits.comments == "options":
        constraints.append(exp.ColumnConstraint(kind=_description(col.description)))
    return exp.ColumnDef(
        this=ident(col.name),
        kind=column_type(plan, col, traits),
        constraints=constraints or None,
    )


def column_type(plan: ObjectPlan, col: Column, traits: DialectTraits) -> exp.DataType:
    """The column's aiready type as a sqlglot type (object/array: the dialect's JSON type)."""
    if col.family == "json":
        return exp.DataType.build(traits.json_type, dialect="duckdb")
    return exp.DataType.build(col.sql_type, dialect="duckdb")


def _table_constraint(
    plan: ObjectPlan, rule: Rule, traits: DialectTraits
) -> exp.Expr | Literal[True] | None:
    """A table constraint for ``rule``; True when a column already says it; None when it can't."""
    if rule.kind == "not_null" and strict(rule):
        return True  # NOT NULL on each column
    if rule.kind == "unique" and rule.columns == plan.compiled.primary_key:
        return True  # the PRIMARY KEY
    if rule.kind == "unique" and strict(rule) and traits.unique:
        return exp.UniqueColumnConstraint(
            this=exp.Schema(expressions=[ident(c) for c in rule.columns])
        )
    condition = _check(plan, rule) if traits.check and strict(rule) else None
    if condition is None:
        return None
    return exp.Constraint(
        this=ident(_constraint_name(rule.id)),
        expressions=[exp.CheckColumnConstraint(this=condition)],
    )


def _check(plan: ObjectPlan, rule: Rule) -> exp.Expr | None:
    """The row condition a CHECK constraint states for ``rule`` (None: not a CHECK rule)."""
    if rule.kind == "sql_row":
        violating = sqlglot.parse_one(rule.params["condition"], dialect="duckdb")
        return exp.not_(exp.paren(_exact_columns(violating, plan)))
    parts: list[exp.Expr] = []
    for name in rule.columns:
        column = exp.column(ident(name))
        if rule.kind in ("range", "length"):
            subject = exp.Length(this=column) if rule.kind == "length" else column
            parts.extend(
                _BOUND_OPS[k](this=subject.copy(), expression=literal(v))
                for k, v in rule.params.items()
            )
        elif rule.kind == "valid_values":
            values = [v for v in rule.params["values"] if v is not None]
            parts.append(exp.In(this=column, expressions=[literal(v) for v in values]))
        else:
            return None
    return exp.and_(*parts) if parts else None


def _exact_columns(condition: exp.Expr, plan: ObjectPlan) -> exp.Expr:
    """``condition`` with each column spelt as the contract spells it.

    The condition is DuckDB SQL, where ``Amount`` and ``"AMOUNT"`` both mean column ``amount``;
    once quoted, other engines match the exact spelling, so the spelling must be the column's.
    """
    names = {c.name.lower(): c.name for c in plan.columns}
    for column in condition.find_all(exp.Column):
        exact = names.get(column.name.lower())
        if exact is not None and not column.table:
            column.set("this", exp.to_identifier(exact, quoted=True))
    return condition


def _description(text: str) -> exp.Properties:
    return exp.Properties(
        expressions=[exp.Property(this=exp.var("description"), value=exp.Literal.string(text))]
    )


def _comment_statements(plan: ObjectPlan, table: exp.Table) -> list[exp.Expr]:
    out: list[exp.Expr] = []
    if plan.description:
        out.append(
            exp.Comment(
                this=table.copy(), kind="TABLE", expression=exp.Literal.string(plan.description)
            )
        )
    for col in plan.columns:
        if col.description:
            target = exp.Column(this=ident(col.name), table=ident(plan.table))
            out.append(
                exp.Comment(
                    this=target, kind="COLUMN", expression=exp.Literal.string(col.description)
                )
            )
    return out


def literal(value: Any) -> exp.Expr:
    """A Python value from the contract as a SQL literal."""
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def ident(name: str) -> exp.Identifier:
    """An identifier, always quoted: reserved words, spaces and case then need no special case."""
    return exp.to_identifier(name, quoted=True)


def _constraint_name(rule_id: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in rule_id)
