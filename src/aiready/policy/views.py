"""Governed relations: what one principal may see of a table, computed outside the sandbox.

A relation holds only the columns a query uses, masked and row-filtered; it is read with
DuckDB's own Parquet reader from the table's snapshot files and handed to the sandbox as Arrow.
``hash`` masks are HMAC-SHA256 under the workspace secret, computed once per distinct value
(cheaper than per row, and the same value as ``access.mask_sql`` gives).

Relations are cached per (table, version, columns, masks, filter, key id), bounded by bytes, so a
long-running service answers repeated questions on an unchanged snapshot from memory. Nothing
in a cache key is secret, and a new version, policy or key makes a new key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from collections import OrderedDict
from collections.abc import Hashable

import pyarrow as pa
from deltalake import DeltaTable

from aiready.localdb import connect
from aiready.policy.access import mask_sql
from aiready.policy.errors import PolicyError
from aiready.sqltext import ident, lit
from aiready.storage.secret import KeyRing

CACHE_BYTES = int(os.environ.get("AIREADY_QUERY_CACHE_MB", "256")) * 1024 * 1024


class _Cache:
    """A byte-bounded LRU of Arrow tables, shared by the threads of one process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[Hashable, pa.Table] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> pa.Table | None:
        with self._lock:
            table = self._items.get(key)
            if table is not None:
                self._items.move_to_end(key)
            return table

    def put(self, key: Hashable, table: pa.Table) -> None:
        size = table.nbytes
        if size > self.limit:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = table
            self._bytes += size
            while self._bytes > self.limit:
                _, old = self._items.popitem(last=False)
                self._bytes -= old.nbytes


CACHE = _Cache(CACHE_BYTES)


def _hmac_hex(key: bytes, values: pa.Array) -> pa.Array:
    base = hmac.new(key, digestmod=hashlib.sha256)
    out = []
    for value in values.to_pylist():
        mac = base.copy()
        mac.update(value.encode())
        out.append(mac.hexdigest())
    return pa.array(out, pa.string())


def relation(
    dt: DeltaTable, cols: list[str], masks: dict[str, str], where: str | None, ring: KeyRing
) -> pa.Table:
    """The used ``cols`` of ``dt``'s snapshot, ``masks`` applied, rows kept by ``where``."""
    key = (
        dt.table_uri,
        dt.version(),
        tuple(cols),
        tuple(sorted(masks.items())),
        where,
        ring.current,
    )
    cached = CACHE.get(key)
    if cached is not None:
        return cached
    table = _compute(dt, cols, masks, where, ring.key)
    CACHE.put(key, table)
    return table


def _compute(
    dt: DeltaTable, cols: list[str], masks: dict[str, str], where: str | None, key: bytes
) -> pa.Table:
    files = ", ".join(lit(f) for f in dt.file_uris())
    con = connect()
    try:
        con.execute(
            "CREATE TEMP VIEW __kept AS SELECT * FROM "
            f"read_parquet([{files}], union_by_name = true) WHERE {where or 'TRUE'}"
        )
        joins, projections = [], []
        for i, col in enumerate(cols):
            kind = masks.get(col)
            if kind == "hash":
                text = f"CAST(__kept.{ident(col)} AS VARCHAR)"
                distinct = con.sql(
                    f"SELECT DISTINCT {text} AS v FROM __kept WHERE {text} IS NOT NULL"
                ).to_arrow_table()
                pairs = pa.table({"v": distinct["v"], "h": _hmac_hex(key, distinct["v"])})
                con.register(f"__mask{i}", pairs)
                joins.append(f"LEFT JOIN __mask{i} ON {text} = __mask{i}.v")
                projections.append(f"__mask{i}.h AS {ident(col)}")
            elif kind:
                projections.append(f"{mask_sql(f'__kept.{ident(col)}', kind, key)} AS {ident(col)}")
            else:
                projections.append(f"__kept.{ident(col)} AS {ident(col)}")
        body = ", ".join(projections) or "NULL::BOOLEAN AS __no_columns"
        return con.sql(f"SELECT {body} FROM __kept {' '.join(joins)}").to_arrow_table()
    except Exception as exc:  # a broken row filter, say; the SQL itself is not echoed
        raise PolicyError(
            f"the governed view of {dt.table_uri} could not be computed: "
            f"{type(exc).__name__}; check policies/access.yaml",
            table=dt.table_uri,
        ) from None
    finally:
        con.close()
