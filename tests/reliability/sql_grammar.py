"""A hypothesis strategy for governed SQL that parses and reads tables, with hostile bits mixed in.

Random fragments joined together almost never parse, so a fuzz built from them only tests the
parser. This grammar builds structurally valid SELECTs over the hostile workspace's tables
(``gold.kb`` and ``silver.docs``, both holding the PII column ``author_email``): select lists
with expressions, aggregates, CASE, casts and string functions; FROM with CTEs, subqueries,
joins, LATERAL subqueries and UNIONs; WHERE, GROUP BY, HAVING, ORDER BY and LIMIT. Columns are
tracked per source with their type, so most queries also resolve and run. At a low rate a hostile
piece replaces a legitimate one: table functions, file paths as identifiers, other layers, CTEs
named like bronze/quarantine/_audit, settings, time travel and comments.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

COLUMNS = ("doc_id", "region", "topic", "title", "body", "author_email")
TABLES = ("gold.kb", "kb", "silver.docs", "docs")
HOSTILE_PERCENT = 3
"""Chance (in percent) that one choice point emits a hostile piece instead of a legitimate one;
a query has a dozen or more choice points, so about a quarter of the queries carry one."""

HOSTILE_SOURCES = (
    "read_parquet('.aiready/lake/bronze/docs/*.parquet')",
    "read_csv('/etc/passwd')",
    "query('SELECT * FROM kb')",
    "query_table('kb')",
    "glob('/etc/*')",
    "read_text('.aiready/state/keys.json')",
    '"/etc/passwd"',
    "'.aiready/lake/silver/docs/part-0.parquet'",
    "bronze.docs",
    "quarantine.docs",
    "_audit",
    "main.kb",
    "information_schema.tables",
    "duckdb_settings()",
    "kb AT (VERSION => 0)",
    "LATERAL read_parquet('x.parquet')",
)
HOSTILE_EXPRS = (
    "getenv('HOME')",
    "current_setting('enable_external_access')",
    "(SELECT count(*) FROM read_parquet('x.parquet'))",
    "(SELECT max(author_email) FROM bronze.docs)",
    "(SELECT count(*) FROM query('SELECT author_email FROM kb'))",
)
HOSTILE_TAILS = (
    "; SET enable_external_access = true",
    "; DROP TABLE kb",
    "; COPY kb TO 'out.csv'",
    "; ATTACH 'x.db'",
    " -- trailing comment",
    " /* unterminated",
)
SHADOWED = ("bronze", "quarantine", "_audit", "silver", "gold", "keys")
LITERALS = ("'EU'", "'refund'", "'x'", "'How'", "''", "'@'")


@dataclass(frozen=True)
class Source:
    """A FROM item: its SQL, alias, and columns → type (``str`` or ``int``)."""

    sql: str
    alias: str
    columns: tuple[tuple[str, str], ...]
    reads_kb: bool
    reads_docs: bool


@dataclass(frozen=True)
class Query:
    """A generated query and which governed tables it reads (for the row oracle)."""

    sql: str
    reads_kb: bool
    reads_docs: bool
    hostile: bool


class _Gen:
    """One query's worth of drawing: fresh aliases, and whether anything hostile went in."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw
        self.n = 0
        self.hostile = False
        self.ctes: list[str] = []

    def alias(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def evil(self) -> bool:
        # the benign branch is the simplest value (0), so shrinking heads away from hostility
        hit = self.draw(st.integers(0, 99)) >= 100 - HOSTILE_PERCENT
        self.hostile |= hit
        return hit

    def pick(self, options: tuple[str, ...] | list[str]) -> str:
        return self.draw(st.sampled_from(list(options)))

    # -- expressions -------------------------------------------------------------------------

    def column(self, src: Source, kind: str | None = None) -> tuple[str, str]:
        cols = [c for c in src.columns if kind is None or c[1] == kind] or list(src.columns)
        name, typ = self.draw(st.sampled_from(cols))
        return f"{src.alias}.{name}", typ

    def scalar(self, src: Source, depth: int = 0) -> tuple[str, str]:
        """A non-aggregate expression over ``src`` and its type."""
        if self.evil():
            return self.pick(HOSTILE_EXPRS), "str"
        col, typ = self.column(src)
        if depth > 1 or self.draw(st.booleans()):
            return col, typ
        if typ == "int":
            return self.pick([f"{col} + 1", f"abs({col})", f"CAST({col} AS VARCHAR)"]), "int"
        shape = self.draw(st.integers(0, 11))
        lit = self.pick(LITERALS)
        return [
            (f"lower({col})", "str"),
            (f"upper({col})", "str"),
            (f"length({col})", "int"),
            (f"substr({col}, 1, 3)", "str"),
            (f"{col} || {lit}", "str"),
            (f"concat({col}, '-', {lit})", "str"),
            (f"replace({col}, 'a', 'b')", "str"),
            (f"CAST({col} AS VARCHAR)", "str"),
            (f"CAST(length({col}) AS BIGINT)", "int"),
            (f"CASE WHEN {col} = {lit} THEN {col} ELSE 'other' END", "str"),
            (f"coalesce({col}, 'none')", "str"),
            (f"trim(reverse({col}))", "str"),
        ][shape]

    def aggregate(self, src: Source) -> tuple[str, str]:
        col, typ = self.column(src)
        shape = self.draw(st.integers(0, 6))
        return [
            ("count(*)", "int"),
            (f"count({col})", "int"),
            (f"count(DISTINCT {col})", "int"),
            (f"min({col})", typ),
            (f"max({col})", typ),
            (f"string_agg(CAST({col} AS VARCHAR), ',')", "str"),
            (f"sum(length(CAST({col} AS VARCHAR)))", "int"),
        ][shape]

    def condition(self, src: Source) -> str:
        col, typ = self.column(src)
        if self.evil():
            return f"{self.pick(HOSTILE_EXPRS)} IS NOT NULL"
        if typ == "int":
            return self.pick([f"{col} >= 0", f"{col} > 1", f"{col} IS NOT NULL"])
        base = self.pick(
            [
                f"{col} IS NOT NULL",
                f"{col} <> 'zzz'",
                f"length({col}) > 1",
                f"{col} LIKE '%o%'",
                f"{col} IN ('EU', 'refund', 'delivery')",
                f"{col} = {self.pick(LITERALS)}",
                f"lower({col}) >= 'a'",
            ]
        )
        if self.draw(st.integers(0, 4)) == 0:
            return f"NOT ({base}) OR {self.condition(src)}"
        return base

    # -- sources and selects -----------------------------------------------------------------

    def table(self) -> Source:
        alias = self.alias("t")
        if self.evil():
            return Source(f"{self.pick(HOSTILE_SOURCES)} AS {alias}", alias,
                          tuple((c, "str") for c in COLUMNS), True, True)  # fmt: skip
        name = self.pick(TABLES)
        is_kb = name.endswith("kb")
        return Source(f"{name} AS {alias}", alias, tuple((c, "str") for c in COLUMNS),
                      is_kb, not is_kb)  # fmt: skip

    def source(self, depth: int) -> Source:
        kind = self.draw(st.integers(0, 9)) if depth < 2 else 0
        if kind <= 4:
            return self.table()
        if kind <= 6 and self.ctes is not None:  # a CTE defined at the top
            inner = self.select(depth + 1)
            name = self.pick(SHADOWED) if self.evil() else self.alias("c")
            if name in [c.split(" ")[0] for c in self.ctes]:
                name = self.alias("c")
            self.ctes.append(f"{name} AS ({inner.sql})")
            alias = self.alias("r")
            return Source(f"{name} AS {alias}", alias, inner.columns, inner.reads_kb,
                          inner.reads_docs)  # fmt: skip
        inner = self.select(depth + 1)
        alias = self.alias("s")
        return Source(f"({inner.sql}) AS {alias}", alias, inner.columns, inner.reads_kb,
                      inner.reads_docs)  # fmt: skip

    def from_clause(self, depth: int) -> tuple[str, list[Source]]:
        first = self.source(depth)
        shape = self.draw(st.integers(0, 5)) if depth < 2 else 0
        if shape <= 2:
            return first.sql, [first]
        if shape <= 4:  # join
            second = self.source(depth + 1)
            left, ltyp = self.column(first)
            right, rtyp = self.column(second, ltyp)
            if ltyp != rtyp:
                left, right = f"CAST({left} AS VARCHAR)", f"CAST({right} AS VARCHAR)"
            how = self.pick(["JOIN", "LEFT JOIN", "INNER JOIN"])
            on = self.pick([f"{left} = {right}", "true", f"{left} <> {right}"])
            return f"{first.sql} {how} {second.sql} ON {on}", [first, second]
        # LATERAL subquery correlated with the first source
        alias, inner_t = self.alias("l"), self.table()
        outer, typ = self.column(first)
        inner_col, _ = self.column(inner_t)
        if typ != "str":
            outer = f"CAST({outer} AS VARCHAR)"
        pick, _ = self.column(inner_t)
        body = f"SELECT {pick} AS v FROM {inner_t.sql} WHERE {inner_col} = {outer} LIMIT 2"
        lateral = Source(f"LATERAL ({body}) AS {alias}", alias, (("v", "str"),),
                         inner_t.reads_kb, inner_t.reads_docs)  # fmt: skip
        return f"{first.sql}, {lateral.sql}", [first, lateral]

    def select(self, depth: int = 0) -> Source:
        """A SELECT (maybe a UNION of two) whose output columns are named ``a0``, ``a1``…"""
        body, sources = self.from_clause(depth)
        grouped = self.draw(st.integers(0, 3)) == 0
        width = self.draw(st.integers(1, 3))
        items: list[tuple[str, str]] = []
        keys: list[str] = []
        for i in range(width):
            src = self.draw(st.sampled_from(sources))
            if grouped and i > 0:
                items.append(self.aggregate(src))
            else:
                expr = self.scalar(src, depth)
                items.append(expr)
                keys.append(expr[0])
        select_list = ", ".join(f"{e} AS a{i}" for i, (e, _) in enumerate(items))
        sql = f"SELECT {self.pick(['', 'DISTINCT '])}{select_list} FROM {body}"
        if self.draw(st.booleans()):
            sql += f" WHERE {self.condition(self.draw(st.sampled_from(sources)))}"
        if grouped:
            sql += f" GROUP BY {', '.join(keys)}"
            if self.draw(st.booleans()):
                sql += f" HAVING count(*) {self.pick(['> 0', '>= 1', '< 1000'])}"
        columns = tuple((f"a{i}", t) for i, (_, t) in enumerate(items))
        reads_kb = any(s.reads_kb for s in sources)
        reads_docs = any(s.reads_docs for s in sources)
        if depth < 2 and self.draw(st.integers(0, 5)) == 0:
            other = self.select_like(columns, depth + 1)
            sql = f"{sql} {self.pick(['UNION ALL', 'UNION', 'EXCEPT', 'INTERSECT'])} {other.sql}"
            reads_kb |= other.reads_kb
            reads_docs |= other.reads_docs
        return Source(sql, "", columns, reads_kb, reads_docs)

    def select_like(self, columns: tuple[tuple[str, str], ...], depth: int) -> Source:
        """A second UNION arm with the same number and types of columns."""
        src = self.table()
        items = [
            f"length({self.column(src)[0]})" if typ == "int" else self.column(src)[0]
            for _, typ in columns
        ]
        sql = f"SELECT {', '.join(items)} FROM {src.sql}"
        return Source(sql, "", columns, src.reads_kb, src.reads_docs)


def _comment(gen: _Gen, sql: str) -> str:
    """Comments between tokens (a quote or parenthesis inside them) change nothing."""
    if not gen.evil():
        return sql
    word = gen.pick(["/* ') */ ", "-- ' ;\n", "/* FROM bronze.docs */ "])
    head, _, tail = sql.partition(" FROM ")
    return f"{head} {word}FROM {tail}" if tail else word + sql


@st.composite
def queries(draw: st.DrawFn) -> Query:
    """A governed-SQL query: mostly valid and runnable, sometimes hostile."""
    gen = _Gen(draw)
    top = gen.select()
    sql = top.sql
    if gen.ctes:
        sql = f"WITH {', '.join(gen.ctes)} {sql}"
    if draw(st.booleans()):
        sql += f" ORDER BY {draw(st.integers(1, len(top.columns)))}"
    if draw(st.booleans()):
        sql += f" LIMIT {draw(st.integers(1, 50))}"
    sql = _comment(gen, sql)
    if gen.evil():
        sql += gen.pick(HOSTILE_TAILS)
    return Query(sql, top.reads_kb, top.reads_docs, gen.hostile)
