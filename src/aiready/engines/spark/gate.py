"""Run the gate plan and gold models on PySpark (``engine: spark``).

Delta snapshots are read as their exact Parquet files (``DeltaTable.file_uris()``), so no
Delta-Spark jar is needed here; results come back as Arrow and are committed by delta-rs like the
DuckDB engine's. On a cluster, the same files can be read through delta-spark instead (README).
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from py4j.protocol import Py4JError
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession
from sqlglot.errors import SqlglotError

from aiready.engines.duckdb.gate import SqlGate
from aiready.engines.spark.transpile import to_spark
from aiready.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_MASTER = "local[2]"
_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # JSON validity as DuckDB checks it: duplicate object keys are allowed (RFC 8259: SHOULD).
    "spark.sql.variant.allowDuplicateKeys": "true",
    "spark.driver.extraJavaOptions": "-Dlog4j2.level=ERROR",
}
_lock = threading.Lock()


def spark_session(master: str = DEFAULT_MASTER, conf: Mapping[str, str] | None = None) -> Any:
    """The process's Spark session (started once: 6–9 s on ``local[2]``)."""
    with _lock:
        active = SparkSession.getActiveSession()
        if active is not None:
            return active
        if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
            raise ConfigError("engine spark needs Java 17 or later (java on PATH or JAVA_HOME)")
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        builder = SparkSession.builder.master(master).appName("aiready")
        for key, value in {**_CONF, **(conf or {})}.items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        return session


class SparkRunner:
    """Executes the DuckDB-dialect plan on Spark after transpiling each statement."""

    name = "spark"
    errors: tuple[type[BaseException], ...] = (PySparkException, Py4JError, SqlglotError)

    def __init__(self, session: Any | None = None) -> None:
        self.spark = session or spark_session()
        self._cached: dict[str, DataFrame] = {}

    def _df(self, select: str) -> DataFrame:
        df: DataFrame = self.spark.sql(to_spark(select))
        return df

    def files_view(self, name: str, files: list[str], where: str | None = None) -> None:
        df = self.spark.read.option("mergeSchema", "true").parquet(*files)
        if where:
            df = df.where(to_spark(where))
        df.createOrReplaceTempView(name)

    def table_view(self, name: str, table: pa.Table) -> None:
        self.spark.createDataFrame(table).createOrReplaceTempView(name)

    def view(self, name: str, select: str) -> None:
        self._df(select).createOrReplaceTempView(name)

    def materialize(self, name: str, select: str) -> None:
        df = self._df(select).cache()
        df.count()  # computed once, here, like a DuckDB temp table
        self._unpersist(name)
        self._cached[name] = df
        df.createOrReplaceTempView(name)

    def one(self, select: str) -> tuple[Any, ...]:
        row = self._df(select).head()
        return tuple(row) if row is not None else ()

    def reader(self, select: str) -> pa.RecordBatchReader:
        return self.table(select).to_reader()

    def table(self, select: str) -> pa.Table:
        return arrow_like_duckdb(self._df(select).toArrow())

    def drop(self, *names: str) -> None:
        for name in names:
            self._unpersist(name)
            self.spark.catalog.dropTempView(name)

    def _unpersist(self, name: str) -> None:
        df = self._cached.pop(name, None)
        if df is not None:
            df.unpersist()


def arrow_like_duckdb(table: pa.Table) -> pa.Table:
    """Spark's Arrow types in DuckDB's spelling, so both engines commit the same Delta schema."""
    schema = pa.schema([pa.field(f.name, _type(f.type)) for f in table.schema])
    return table.cast(schema) if schema != table.schema else table


def _type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_large_string(t):
        return pa.string()
    if pa.types.is_timestamp(t) and t.tz is not None:
        return pa.timestamp("us", tz="UTC")
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return pa.list_(pa.field("item", _type(t.value_type)))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, _type(f.type)) for f in t])
    return t


class SparkGate(SqlGate):
    """``engine: spark``: the gate plan, transpiled, on a Spark session."""

    def __init__(self, master: str = DEFAULT_MASTER, conf: Mapping[str, str] | None = None) -> None:
        super().__init__(SparkRunner(spark_session(master, conf)))
