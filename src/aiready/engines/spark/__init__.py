"""Spark engine: the same gate plan and model SQL, transpiled by sqlglot to Spark SQL.

Imported only through the engine registry, so the core never imports pyspark.
"""

from aiready.engines.spark.gate import SparkGate, SparkRunner, spark_session
from aiready.engines.spark.transpile import to_spark

__all__ = ["SparkGate", "SparkRunner", "spark_session", "to_spark"]
