"""Run a compiled contract over one bronze batch in DuckDB: silver rows, quarantine rows, report.

One pass materialises the batch with every column typed and one boolean flag per rule; silver and
quarantine are then two selections of it, so every row lands in exactly one of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

import pyarrow as pa
import sqlglot
from sqlglot import exp

from aiready.contracts.rules import Column, CompiledContract, Rule
from aiready.engines.duckdb.sql import cast_ok, cast_value, ident, lit, violation
from aiready.engines.runner import DuckDBRunner, SqlRunner, connect
from aiready.errors import ConfigError, ContractError
from aiready.gates.report import GateReport, RuleResult
from aiready.reasons import ReasonCode
from aiready.storage.delta import Snapshot

Mode = Literal["append", "merge"]
LINEAGE = ("_batch_id", "_source_file", "_source_row", "_ingested_at", "_record_hash")
BLOCKING = ("drop", "quarantine", "fail")
META_COLUMNS = frozenset(
    {
        *LINEAGE,
        "_source_sha256",
        "_malformed",
        "_raw",
        "_action",
        "_status",
        "_reasons",
        "_quarantined_at",
        "_reviewed_by",
        "_reviewed_at",
        "_refined_at",
    }
)


class GateOutcome:
    """The report, plus silver and quarantine rows read lazily from the gate's tables.

    Silver is streamed (``silver()`` returns a fresh reader each call, so a retried Delta commit
    can read it again) instead of being held in memory; ``close()`` drops the tables.
    """

    def __init__(
        self,
        report: GateReport,
        runner: SqlRunner | None = None,
        silver_sql: str | None = None,
        quarantine_sql: str | None = None,
        cleanup: Callable[[], None] | None = None,
    ) -> None:
        self.report = report
        self._runner = runner
        self._silver_sql = silver_sql
        self._quarantine_sql = quarantine_sql
        self._cleanup = cleanup

    def silver(self) -> pa.RecordBatchReader:
        """Rows for silver, in bronze order, as a stream."""
        if self._runner is None or self._silver_sql is None:
            return pa.RecordBatchReader.from_batches(pa.schema([]), [])
        return self._runner.reader(self._silver_sql)

    def silver_table(self) -> pa.Table:
        return self.silver().read_all()

    def quarantine(self) -> pa.Table:
        """Rows for quarantine with raw values, lineage and every reason."""
        if self._runner is None or self._quarantine_sql is None:
            return pa.table({})
        return self._runner.table(self._quarantine_sql)

    def close(self) -> None:
        if self._cleanup is not None:
            self._cleanup()
            self._cleanup = None

    def __enter__(self) -> GateOutcome:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def arrow_types(table: pa.Table) -> dict[str, str]:
    """DuckDB's type name for each column of an Arrow table (the plan is written for DuckDB)."""
    con = connect()
    try:
        con.register("__types", table.slice(0, 0))
        described = con.execute("DESCRIBE SELECT * FROM __types").fetchall()
        return {str(name): str(kind) for name, kind, *_ in described}
    finally:
        con.close()


class _Plan:
    """Names of the generated columns for one contract and batch."""

    def __init__(self, contract: CompiledContract, bronze_columns: list[str]) -> None:
        self.contract = contract
        self.columns = {c.name: c for c in contract.columns}
        self.bronze = [c for c in bronze_columns if c not in META_COLUMNS]
        self.raw = {c.name: f"__t{i}" for i, c in enumerate(contract.columns)}
        self.std = {c.name: f"__s{i}" for i, c in enumerate(contract.columns)}
        self.ok = {c.name: f"__ok{i}" for i, c in enumerate(contract.columns)}
        self.flag = {r.id: f"__r{i}" for i, r in enumerate(contract.rules)}
        self.row_rules = [r for r in contract.rules if r.row_level]
        self.readable: set[str] = set()
        self.single_batch = True
        self.refs: dict[str, str] = {}
        """Relationship rule id → its violation predicate (set when the reference is readable)."""
        self.typed_input: dict[str, str] = {}
        """Contract columns whose input is already typed (gold models): column → DuckDB type."""

    def texts(self) -> dict[str, str]:
        return {name: self.raw_text(name) for name in self.raw}

    def raw_text(self, name: str) -> str:
        """The column's value as text (for missing-value markers and messages)."""
        t = self.raw[name]
        return f"CAST({t} AS VARCHAR)" if name in self.typed_input else t

    def type_ok(self, rule: Rule) -> str:
        return " AND ".join(self.ok[c] for c in rule.columns if c in self.ok) or "TRUE"


def _stage_src(plan: _Plan, present: set[str]) -> str:
    """Trimmed contract columns plus ``__ord``: bronze order across batches (rank << 32 | row)."""
    cols = ["b._source_row", "b._malformed IS NOT NULL AS __malformed"]
    for c in plan.contract.columns:
        source = f"b.{ident(c.name)}" if c.name in present else "CAST(NULL AS VARCHAR)"
        value = source if c.name in plan.typed_input else f"trim({source})"
        cols.append(f"{value} AS {plan.raw[c.name]}")
    if plan.single_batch:
        return "SELECT " + ", ".join([*cols, "b._source_row AS __ord"]) + " FROM __batch b"
    cols.append("(r.__rank << 32) + b._source_row AS __ord")
    return "SELECT " + ", ".join(cols) + " FROM __batch b JOIN __ranks r USING (_batch_id)"


def _stage_std(plan: _Plan) -> str:
    """Empty text and the column's missing-value tokens become NULL before any type check."""
    cols = []
    for c in plan.contract.columns:
        t = plan.raw[c.name]
        if c.name in plan.typed_input:
            value = t
        elif c.missing:
            tokens = ", ".join(lit(v) for v in c.missing)
            value = f"CASE WHEN {t} IN ({tokens}) THEN NULL ELSE nullif({t}, '') END"
        else:
            value = f"nullif({t}, '')"
        cols.append(f"{value} AS {plan.std[c.name]}")
    return "SELECT *, " + ", ".join(cols) + " FROM src"


def _stage_typed(plan: _Plan) -> str:
    cols = []
    for c in plan.contract.columns:
        s = plan.std[c.name]
        source_type = plan.typed_input.get(c.name)
        if source_type is None:
            ok = cast_ok(c, s)
        elif _same_type(source_type, c.sql_type) or c.family in ("string", "json"):
            ok = "TRUE"
        else:  # typed input: exact only if the value survives the round trip unchanged
            ok = f"CAST(TRY_CAST({s} AS {c.sql_type}) AS {source_type}) = {s}"
        cols.append(f"({s} IS NULL OR coalesce({ok}, FALSE)) AS {plan.ok[c.name]}")
    return "SELECT *, " + ", ".join(cols) + " FROM std"


def _stage_values(plan: _Plan) -> str:
    cols = [
        f"CASE WHEN {plan.ok[c.name]} THEN {_typed_value(plan, c)} END AS {ident(c.name)}"
        for c in plan.contract.columns
    ]
    return "SELECT *, " + ", ".join(cols) + " FROM typed"


def _same_type(a: str, b: str) -> bool:
    def norm(t: str) -> str:
        return exp.DataType.build(t, dialect="duckdb").sql("duckdb")

    return norm(a) == norm(b)


def _typed_value(plan: _Plan, c: Column) -> str:
    s = plan.std[c.name]
    if c.name not in plan.typed_input:
        return cast_value(c, s)
    return (
        f"CAST({s} AS VARCHAR)"
        if c.family in ("string", "json")
        else f"TRY_CAST({s} AS {c.sql_type})"
    )


def _stage_linked(plan: _Plan) -> str:
    """One anti-join per relationship: ``__miss_<flag>`` is true when the value is not a key of
    the referenced silver table (a join, so the flags stage needs no subquery)."""
    if not plan.refs:
        return "SELECT * FROM vals"
    cols, joins = [], []
    for i, (rule_id, view) in enumerate(plan.refs.items()):
        rule = next(r for r in plan.row_rules if r.id == rule_id)
        col, ref = ident(rule.columns[0]), ident(rule.params["column"])
        keys = f"__k{i}"
        joins.append(
            f"LEFT JOIN (SELECT DISTINCT CAST({ref} AS VARCHAR) AS k FROM {view}) {keys} "
            f"ON {keys}.k = CAST(v.{col} AS VARCHAR)"
        )
        cols.append(f"(v.{col} IS NOT NULL AND {keys}.k IS NULL) AS __miss_{plan.flag[rule_id]}")
    return "SELECT v.*, " + ", ".join(cols) + " FROM vals v " + " ".join(joins)


def _stage_flags(plan: _Plan) -> str:
    cols = []
    for rule in plan.row_rules:
        if rule.kind == "unique":
            continue
        if rule.kind == "type":
            pred = f"NOT {plan.ok[rule.columns[0]]}"
        elif rule.kind == "relationship":
            pred = f"__miss_{plan.flag[rule.id]}" if rule.id in plan.refs else "FALSE"
        elif rule.kind == "missing_values":
            pred = violation(rule, plan.columns, plan.texts())
        else:
            pred = f"({plan.type_ok(rule)}) AND {violation(rule, plan.columns, plan.texts())}"
        cols.append(f"(NOT __malformed AND ({pred})) AS {plan.flag[rule.id]}")
    blocking = [
        plan.flag[r.id] for r in plan.row_rules if r.kind != "unique" and r.action in BLOCKING
    ]
    cols.append(f"(__malformed OR {' OR '.join(blocking) or 'FALSE'}) AS __blocked")
    return "SELECT *, " + ", ".join(cols) + " FROM linked"


def _stage_base(plan: _Plan) -> str:
    """The narrow table that is materialised: order, typed values and flags only.

    Batch-level lineage (batch id, file, ingest time) lives in ``__ranks``; raw text and record
    hashes are joined back from bronze for the quarantined rows only.
    """
    flags = [plan.flag[r.id] for r in plan.row_rules if r.kind != "unique"]
    cols = [
        "__ord",
        "_source_row",
        "__malformed",
        *(ident(c.name) for c in plan.contract.columns),
        *flags,
        *(f"{pred} AS {name}" for name, pred in _zoneless(plan).values()),
        "__blocked",
    ]
    return "SELECT " + ", ".join(cols) + " FROM flags"


_ZONE = r"([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$"


def _zoneless(plan: _Plan) -> dict[str, tuple[str, str]]:
    """Timestamp column → (flag name, predicate): a valid value written without a time zone.

    Such values are read as UTC; the report says how many there were, so nobody learns it late.
    """
    out = {}
    for i, c in enumerate(plan.contract.columns):
        if c.family == "timestamp" and c.name not in plan.typed_input:
            if c.format is not None and "zone" in c.format.fields:
                continue  # the pattern itself requires a zone
            s = plan.std[c.name]
            zoned = "FALSE" if c.format is not None else f"regexp_matches({s}, {lit(_ZONE)})"
            pred = f"({s} IS NOT NULL AND {plan.ok[c.name]} AND NOT {zoned})"
            out[c.name] = (f"__nz{i}", pred)
    return out


def _unique_flags(plan: _Plan, mode: Mode, has_silver: bool) -> tuple[str, str, list[str]]:
    """Duplicate flags: first occurrence (bronze order) among otherwise-passing rows wins.

    A hash GROUP BY finds each key's first ordinal; a join marks every other eligible row. This
    avoids sorting the whole batch in a window. A row quarantined for another rule also gets the
    duplicate flag when its key occurs more than once in the batch (or is already in silver), so
    its reasons name every rule it fails. A broken first copy does not keep a valid later copy
    out of silver: the later copy is the first one that passes. Returns (extra CTEs, final
    SELECT, conflict flags).
    """
    ctes: list[str] = []
    cols: list[str] = []
    joins: list[str] = []
    extra: list[str] = []
    content = ", ".join(ident(c.name) for c in plan.contract.columns)
    for i, rule in enumerate(r for r in plan.row_rules if r.kind == "unique"):
        keys = ", ".join(ident(k) for k in rule.columns)
        eligible = "NOT f.__blocked AND " + " AND ".join(
            f"f.{ident(k)} IS NOT NULL" for k in rule.columns
        )
        ctes.append(
            f"__first{i} AS (SELECT min(__ord) AS __o{i} FROM base f WHERE {eligible} "
            f"GROUP BY {keys})"
        )
        joins.append(f"LEFT JOIN __first{i} ON f.__ord = __first{i}.__o{i}")
        keyed = " AND ".join(f"f.{ident(k)} IS NOT NULL" for k in rule.columns)
        ctes.append(
            f"__many{i} AS (SELECT {keys}, TRUE AS __m{i} FROM base f WHERE {keyed} "
            f"GROUP BY {keys} HAVING count(*) > 1)"
        )
        on_many = " AND ".join(f"f.{ident(k)} = __many{i}.{ident(k)}" for k in rule.columns)
        joins.append(f"LEFT JOIN __many{i} ON {on_many}")
        later = f"__first{i}.__o{i} IS NULL"
        is_pk = rule.columns == plan.contract.primary_key
        flag = plan.flag[rule.id]
        if mode == "merge" and is_pk:
            ctes.append(
                f"__conf{i} AS (SELECT {keys}, TRUE AS __hit{i} FROM base f WHERE "
                f"{eligible} GROUP BY {keys} HAVING min(hash({content})) <> "
                f"max(hash({content})))"
            )
            on = " AND ".join(f"f.{ident(k)} = __conf{i}.{ident(k)}" for k in rule.columns)
            joins.append(f"LEFT JOIN __conf{i} ON {on}")
            cols.append(f"coalesce(({eligible}) AND __conf{i}.__hit{i}, FALSE) AS {flag}_c")
            cols.append(
                f"coalesce((({eligible}) AND __conf{i}.__hit{i} IS NULL AND {later}) "
                f"OR (f.__blocked AND {keyed} AND __many{i}.__m{i}), FALSE) AS {flag}"
            )
            extra.append(f"{flag}_c")
            continue
        in_silver = "FALSE"
        if has_silver:
            match = " AND ".join(f"s.{ident(k)} = f.{ident(k)}" for k in rule.columns)
            if mode == "merge" and plan.contract.primary_key:
                same = " AND ".join(
                    f"s.{ident(k)} = f.{ident(k)}" for k in plan.contract.primary_key
                )
                match += f" AND NOT ({same})"
            in_silver = f"EXISTS (SELECT 1 FROM __silver s WHERE {match})"
        also = f"f.__blocked AND {keyed} AND (__many{i}.__m{i} OR {in_silver})"
        cols.append(
            f"coalesce((({eligible}) AND ({later} OR {in_silver})) OR ({also}), FALSE) AS {flag}"
        )
    select = "SELECT f.*" + "".join(f", {c}" for c in cols) + " FROM base f " + " ".join(joins)
    return "".join(f", {c}" for c in ctes), select, extra


def _reason(
    plan: _Plan, rule: Rule, flag: str, raw: dict[str, str], code: ReasonCode | None = None
) -> str:
    """A ``{code, rule, column, message}`` struct when ``flag`` is set, else NULL."""
    column = rule.columns[0] if len(rule.columns) == 1 else ",".join(rule.columns)
    code = code or rule.reason
    return (
        f"CASE WHEN {flag} THEN {{'code': {lit(code.value)}, 'rule': {lit(rule.id)}, "
        f"'column': {lit(column) if rule.columns else 'NULL'}, "
        f"'message': {_message(plan, rule, raw, code)}}} END"
    )


def _message(plan: _Plan, rule: Rule, raw: dict[str, str], code: ReasonCode) -> str:
    """SQL for what was found and what was expected, e.g. ``'2.5' is not an integer (BIGINT)``.

    A quality item's own description is the expectation when the contract gives one.
    """
    single = rule.columns[0] if len(rule.columns) == 1 and rule.columns[0] in raw else None
    found = f"'''' || left({raw[single]}, 80) || ''''" if single else None
    expected = lit(rule.description or rule.id)
    if code == ReasonCode.CONFLICTING_DUPLICATE:
        return lit(
            f"rows with the same primary key ({', '.join(rule.columns)}) but different values "
            "in one batch: which one is current cannot be told"
        )
    if found is None and rule.kind == "unique":
        return lit(
            f"duplicate ({', '.join(rule.columns)}): another row (in this batch or in silver) "
            "has this key"
        )
    if found is None:
        return lit(f"expected: {rule.description or rule.id}")
    col = plan.columns.get(single or "")
    text = {
        "type": f"{found} || ' is not ' || {lit(_kind_phrase(col))} || "
        f"{_missing_hint(raw, single)}",
        "not_null": lit(f"{single} is empty; it is required"),
        "unique": f"{found} || ' is also the key of another row (this batch or silver): "
        f"duplicate {single}'",
        "missing_values": f"{found} || ' is a missing-value token (counted, kept as null)'",
    }.get(rule.kind)
    if text is not None:
        return text
    return f"'found ' || coalesce({found}, 'null') || '; expected: ' || {expected}"


_MISSING_LOOKALIKES = ("NA", "N/A", "NAN", "NULL", "NONE", "NIL", "-", "?", "#N/A")


def _missing_hint(raw: dict[str, str], column: str | None) -> str:
    """A value that looks like a missing-value marker gets told how to declare it one."""
    if column is None:
        return "''"
    listed = ", ".join(lit(v) for v in _MISSING_LOOKALIKES)
    return (
        f'CASE WHEN upper({raw[column]}) IN ({listed}) THEN \'; if it means "no value", '
        f"declare it in null_values (aiready.yaml) or missingValues (contract)' ELSE '' END"
    )


def _int_digits(col: Column) -> int:
    """Digits a DECIMAL(p,s) holds before the point: p - s."""
    found = re.search(r"\((\d+)\s*,\s*(\d+)\)", col.sql_type)
    return int(found.group(1)) - int(found.group(2)) if found else 18


def _kind_phrase(col: Column | None) -> str:
    if col is None:
        return "of the contract's type"
    names = {
        "integer": "an integer",
        "decimal": f"a decimal with at most {_int_digits(col)} digits before the point and "
        f"{col.scale or 0} after it",
        "float": "a finite number",
        "boolean": "a boolean (true/false/1/0)",
        "date": f"a date ({col.format.jdk if col.format else 'YYYY-MM-DD'})",
        "timestamp": f"a timestamp ({col.format.jdk if col.format else 'ISO 8601'}) "
        "to the microsecond at most",
        "json": "strict JSON",
    }
    phrase = f"{names.get(col.family, col.family)} ({col.sql_type})"
    if col.family == "integer" and not col.integral_floats:
        phrase += "; integral floats such as 517.0 are refused (integral_floats: false)"
    return phrase


class SqlGate:
    """Gates a batch with one SQL pass; ``runner`` decides which engine executes it."""

    def __init__(self, runner: SqlRunner) -> None:
        self.runner = runner
        self.name = runner.name

    def check(
        self,
        contract: CompiledContract,
        batch: pa.Table | Snapshot,
        batch_id: str,
        present: list[str],
        silver: Snapshot | None,
        mode: Mode,
        dataset: str,
        source_file: str,
        references: dict[str, Snapshot | None] | None = None,
    ) -> GateOutcome:
        """Check one batch; ``present`` are the data columns its source file actually had.

        ``references`` are the current silver snapshots of the datasets the contract's
        relationships point at (None: that dataset has no silver yet, so the rule is not run).
        """
        r = self.runner
        plan = _Plan(contract, _columns(batch))
        report = GateReport(
            dataset, "silver", batch_id, source_file, contract.id, contract.version, contract.sha256
        )
        report.unknown_columns = [c for c in present if c not in plan.columns]
        report.not_executed = [item.asdict() for item in contract.not_executed]
        self._missing_columns(contract, set(present), report)

        refs = _relationship_views(contract)

        def cleanup() -> None:
            r.drop("__checked", "__ranks", "__silver", "__object__", "__batch", *refs.values())

        try:
            if isinstance(batch, Snapshot):  # read the snapshot's files, pruned by batch id
                r.files_view("__batch", list(batch.files), f"_batch_id = {lit(batch_id)}")
                r.materialize(
                    "__ranks",
                    "SELECT _batch_id, _source_file, _ingested_at, CAST(0 AS BIGINT) AS __rank "
                    "FROM __batch LIMIT 1",
                )
            else:
                r.table_view("__batch", batch)
                r.materialize(
                    "__ranks",
                    "SELECT _batch_id, any_value(_source_file) AS _source_file, "
                    "any_value(_ingested_at) AS _ingested_at, "
                    "row_number() OVER (ORDER BY _batch_id) - 1 AS __rank "
                    "FROM __batch GROUP BY _batch_id",
                )
                plan.single_batch = r.one("SELECT count(*) FROM __ranks")[0] <= 1
            if silver is not None:
                r.files_view("__silver", list(silver.files), f"_batch_id <> {lit(batch_id)}")
            self._references(plan, refs, references or {}, report)
            plan.readable = set(present) & set(_columns(batch))
            if not isinstance(batch, Snapshot):
                plan.typed_input = {
                    name: kind
                    for name, kind in arrow_types(batch).items()
                    if name in plan.columns and name in plan.readable and kind != "VARCHAR"
                }
            unique_ctes, unique_sql, conflict_flags = _unique_flags(plan, mode, silver is not None)
            query = (
                f"WITH src AS ({_stage_src(plan, plan.readable)}), std AS ({_stage_std(plan)}), "
                f"typed AS ({_stage_typed(plan)}), vals AS ({_stage_values(plan)}), "
                f"linked AS ({_stage_linked(plan)}), "
                f"flags AS ({_stage_flags(plan)}), base AS MATERIALIZED ({_stage_base(plan)})"
                f"{unique_ctes} {unique_sql}"
            )
            r.materialize("__checked", query)
            return self._outcome(plan, report, conflict_flags, cleanup)
        except r.errors as exc:
            cleanup()
            raise ContractError(
                f"a rule could not be evaluated on {r.name}: {exc}",
                contract=contract.path,
                dataset=dataset,
            ) from exc
        except BaseException:
            cleanup()
            raise

    def query(self, sql: str, tables: dict[str, list[str] | pa.Table]) -> pa.Table:
        """Run a model's SELECT; ``tables`` maps each ``layer.name`` it reads to files or a table.

        The qualified names become temporary relations (``__layer__name``, aliased back to the
        bare name), so every engine sees the same query whatever its catalog looks like.
        """
        tree = sqlglot.parse_one(sql, read="duckdb")
        views: dict[str, str] = {}
        for table in list(tree.find_all(exp.Table)):
            key = f"{table.db}.{table.name}"
            if not table.db or key not in tables:
                continue
            view = views.setdefault(key, f"__{table.db}__{table.name}")
            alias = table.args.get("alias") or exp.TableAlias(this=exp.to_identifier(table.name))
            table.replace(exp.Table(this=exp.to_identifier(view), alias=alias))
        r = self.runner
        try:
            for key, view in views.items():
                source = tables[key]
                if isinstance(source, pa.Table):
                    r.table_view(view, source)
                else:
                    r.files_view(view, source)
            return r.table(tree.sql("duckdb"))
        except r.errors as exc:
            raise ConfigError(f"SQL failed on {r.name}: {exc}") from exc
        finally:
            r.drop(*views.values())

    def _references(
        self,
        plan: _Plan,
        views: dict[str, str],
        references: dict[str, Snapshot | None],
        report: GateReport,
    ) -> None:
        """Register each referenced silver table and set its rule's anti-join predicate."""
        for rule in plan.contract.rules:
            if rule.kind != "relationship":
                continue
            target = references.get(rule.params["dataset"])
            if target is None:
                report.warnings.append(
                    f"relationship {rule.id} not checked: {rule.params['dataset']} has no "
                    "silver rows yet (refine it first)"
                )
                continue
            view = views[rule.id]
            self.runner.files_view(view, list(target.files))
            plan.refs[rule.id] = view

    @staticmethod
    def _missing_columns(contract: CompiledContract, present: set[str], report: GateReport) -> None:
        required = {c for r in contract.rules if r.kind == "not_null" for c in r.columns}
        for column in contract.columns:
            if column.name in present:
                continue
            message = f"contract column {column.name!r} is absent from {report.source_file}"
            if column.name in required:
                report.failures.append(f"{ReasonCode.MISSING_COLUMN.value}: {message}")
            else:
                report.warnings.append(f"{message}; filled with nulls")

    def _outcome(
        self,
        plan: _Plan,
        report: GateReport,
        conflict_flags: list[str],
        cleanup: Callable[[], None],
    ) -> GateOutcome:
        r = self.runner
        rules = plan.row_rules
        flags = [plan.flag[r.id] for r in rules]
        sums = ", ".join(f"count(*) FILTER (WHERE {f})" for f in flags + conflict_flags)
        row = r.one(
            f"SELECT count(*), count(*) FILTER (WHERE __malformed)"
            f"{', ' + sums if sums else ''} FROM __checked",
        )
        report.rows_in, report.rows_malformed = int(row[0]), int(row[1])
        counts = dict(zip(flags + conflict_flags, (int(v) for v in row[2:]), strict=True))
        for rule in rules:
            failed = counts[plan.flag[rule.id]] + counts.get(plan.flag[rule.id] + "_c", 0)
            result = self._rule_result(rule, failed, report.rows_in, report)
            if rule.kind == "relationship" and failed:
                result.examples = self._examples(plan, rule)
            report.rules.append(result)
        for rule in (r for r in plan.contract.rules if not r.row_level):
            report.rules.append(self._dataset_rule(plan, rule, report))
        self._zone_warnings(plan, report)
        quarantine_flags = [plan.flag[r.id] for r in rules if r.action in ("quarantine", "fail")]
        quarantine_flags += conflict_flags
        drop_flags = [plan.flag[r.id] for r in rules if r.action == "drop"]
        out_pred = " OR ".join(["__malformed", *quarantine_flags, *drop_flags])
        warn_pred = " OR ".join(plan.flag[r.id] for r in rules if r.action == "warn") or "FALSE"
        row = r.one(
            f"SELECT count(*) FILTER (WHERE ({out_pred}) AND NOT (__malformed OR "
            f"{' OR '.join(quarantine_flags) or 'FALSE'})), "
            f"count(*) FILTER (WHERE ({out_pred})), "
            f"count(*) FILTER (WHERE NOT ({out_pred}) AND ({warn_pred})) FROM __checked",
        )
        report.rows_dropped, out, report.rows_warned = int(row[0]), int(row[1]), int(row[2])
        report.rows_quarantined = out - report.rows_dropped
        report.rows_out = report.rows_in - out
        if report.failures:
            cleanup()
            return GateOutcome(report)
        silver = self._silver(plan, out_pred)
        quarantine = self._quarantine(plan, out_pred, quarantine_flags, conflict_flags)
        return GateOutcome(report, r, silver, quarantine, cleanup)

    def _zone_warnings(self, plan: _Plan, report: GateReport) -> None:
        zoneless = _zoneless(plan)
        if not zoneless:
            return
        sums = ", ".join(f"count(*) FILTER (WHERE {flag})" for flag, _ in zoneless.values())
        counts = self.runner.one(f"SELECT {sums} FROM __checked")
        for column, n in zip(zoneless, counts, strict=True):
            if n:
                report.warnings.append(
                    f"{int(n)} values of {column} have no time zone (e.g. 2013-01-01 05:00): "
                    "read as UTC; write the offset (Z, +01:00) in the source if they are local time"
                )

    def _examples(self, plan: _Plan, rule: Rule, n: int = 5) -> list[str]:
        col = ident(rule.columns[0])
        rows = self.runner.table(
            f"SELECT DISTINCT CAST({col} AS VARCHAR) AS v FROM __checked "
            f"WHERE {plan.flag[rule.id]} ORDER BY v LIMIT {n}"
        )
        return [str(v) for v in rows.column("v").to_pylist()]

    @staticmethod
    def _rule_result(rule: Rule, failed: int, rows: int, report: GateReport) -> RuleResult:
        result = RuleResult(
            rule.id,
            rule.kind,
            rule.reason.value,
            rule.reason.category.value,
            rule.action,
            list(rule.columns),
            failed,
        )
        if rule.action == "fail" and failed:
            report.failures.append(f"rule {rule.id} (onFail: fail) has {failed} violating rows")
        if rule.limit is not None:
            metric = (
                100.0 * failed / rows if rule.limit.unit == "percent" and rows else float(failed)
            )
            result.metric, result.limit = metric, rule.limit.describe()
            result.limit_ok = rule.limit.holds(metric)
            if not result.limit_ok:
                report.failures.append(
                    f"rule {rule.id}: {failed} violating rows ({metric:.4g}"
                    f"{' %' if rule.limit.unit == 'percent' else ''}) breaks the batch limit "
                    f"{rule.limit.describe()}"
                )
        return result

    def _dataset_rule(self, plan: _Plan, rule: Rule, report: GateReport) -> RuleResult:
        if rule.kind == "row_count":
            metric = float(report.rows_in)
        elif rule.kind == "freshness":
            col = ident(rule.columns[0])
            newest = self.runner.one(
                f"SELECT epoch(now()) - epoch(CAST(max({col}) AS TIMESTAMPTZ)) FROM __checked "
                "WHERE NOT __blocked"  # rows bound for quarantine do not make a batch fresh
            )
            if newest is None or newest[0] is None:
                report.warnings.append(f"{rule.id}: no value of {rule.columns[0]} to measure")
                return self._rule_result(rule, 0, report.rows_in, report)
            metric = float(newest[0])
        else:
            cols = ", ".join(ident(c.name) for c in plan.contract.columns)
            self.runner.view("__object__", f"SELECT {cols} FROM __checked WHERE NOT __malformed")
            try:
                value = self.runner.one(rule.params["query"])
            except self.runner.errors as exc:
                raise ContractError(f"SQL rule {rule.id} failed: {exc}", rule=rule.id) from exc
            metric = float(value[0]) if value and value[0] is not None else 0.0
        ok = rule.limit.holds(metric) if rule.limit is not None else True
        result = RuleResult(
            rule.id,
            rule.kind,
            rule.reason.value,
            rule.reason.category.value,
            rule.action,
            list(rule.columns),
            0 if ok else 1,
            metric,
            rule.limit.describe() if rule.limit else None,
            ok,
        )
        if not ok:
            message = f"dataset rule {rule.id}: value {metric:g} breaks {result.limit}"
            if rule.kind == "freshness":
                message = (
                    f"stale: newest {rule.columns[0]} is {metric / 86400:.1f} d old; the "
                    f"contract's SLA allows {rule.params['seconds'] / 86400:g} d ({rule.id})"
                )
            (report.warnings if rule.action == "warn" else report.failures).append(message)
        return result

    @staticmethod
    def _silver(plan: _Plan, out_pred: str) -> str:
        cols = ", ".join(f"c.{ident(c.name)}" for c in plan.contract.columns)
        lineage = "r._batch_id, r._source_file, c._source_row, r._ingested_at"
        return (
            f"SELECT {cols}, {lineage}, now() AS _refined_at FROM __checked c "
            f"JOIN __ranks r ON r.__rank = (c.__ord >> 32) WHERE NOT ({out_pred}) ORDER BY __ord"
        )

    @staticmethod
    def _quarantine(
        plan: _Plan, out_pred: str, quarantine_flags: list[str], conflict_flags: list[str]
    ) -> str:
        raw = {
            c: f"CAST(b.{ident(c)} AS VARCHAR)" if c in plan.typed_input else f"trim(b.{ident(c)})"
            for c in plan.readable
            if c in plan.columns
        }
        reasons = [
            "CASE WHEN c.__malformed THEN {'code': 'malformed_record', 'rule': 'record.parse', "
            "'column': NULL, 'message': b._malformed} END"
        ]
        for rule in plan.row_rules:
            reasons.append(_reason(plan, rule, plan.flag[rule.id], raw))
            if plan.flag[rule.id] + "_c" in conflict_flags:
                reasons.append(
                    _reason(
                        plan,
                        rule,
                        plan.flag[rule.id] + "_c",
                        raw,
                        ReasonCode.CONFLICTING_DUPLICATE,
                    )
                )
        values = "".join(f"b.{ident(col)}, " for col in plan.bronze)
        lineage = "b._batch_id, b._source_file, b._source_row, b._ingested_at, b._record_hash"
        action = (
            f"CASE WHEN c.__malformed OR {' OR '.join(quarantine_flags) or 'FALSE'} "
            f"THEN 'quarantine' ELSE 'drop' END"
        )
        return (
            f"SELECT {values}{lineage}, b._raw, {action} AS _action, "
            f"'open' AS _status, list_filter([{', '.join(reasons)}], lambda x: x IS NOT NULL) "
            f"AS _reasons, now() AS _quarantined_at, CAST(NULL AS VARCHAR) AS _reviewed_by, "
            f"CAST(NULL AS TIMESTAMPTZ) AS _reviewed_at FROM __checked c "
            f"JOIN __ranks r ON r.__rank = (c.__ord >> 32) JOIN __batch b "
            f"ON b._batch_id = r._batch_id AND b._source_row = c._source_row "
            f"WHERE {out_pred.replace('__malformed', 'c.__malformed')} ORDER BY c.__ord"
        )


class DuckDBGate(SqlGate):
    """The default engine: the plan runs in an embedded, in-memory DuckDB."""

    def __init__(
        self,
        runner: SqlRunner | None = None,
        memory_limit: str | None = None,
        temp_directory: str | None = None,
    ) -> None:
        super().__init__(runner or DuckDBRunner(connect(memory_limit, temp_directory)))


def _relationship_views(contract: CompiledContract) -> dict[str, str]:
    rules = [r for r in contract.rules if r.kind == "relationship"]
    return {r.id: f"__ref{i}" for i, r in enumerate(rules)}


def _columns(batch: pa.Table | Snapshot) -> list[str]:
    return list(batch.columns) if isinstance(batch, Snapshot) else list(batch.schema.names)
