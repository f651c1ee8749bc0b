"""Typed, validated view of ``aiready.yaml``; errors name the file and the key."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, cast

import yaml

from aiready.errors import ConfigError

ENGINE_NAMES = ("duckdb", "spark")
"""The engines aiready.yaml may name (the registry in ``aiready.engines`` maps each to code)."""

DatasetKind = Literal["operational", "strategic"]
SourceFormat = Literal["csv", "jsonl", "parquet"]
OnChangedFile = Literal["refuse", "supersede", "append"]
SchemaMode = Literal["lenient", "strict"]

CONFIG_FILE = "aiready.yaml"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_FORMATS: dict[str, SourceFormat] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}


@dataclass(frozen=True)
class DatasetConfig:
    """One dataset declared under ``datasets:``."""

    name: str
    """Dataset name; also its table name in every layer (letters, digits, underscore)."""
    kind: DatasetKind
    """operational (events, logs, transactions: append) or strategic (master data: merge by key)."""
    source: str
    """A file or glob, relative to the workspace (csv, jsonl or parquet)."""
    contract: str
    """Path of the ODCS v3 contract, relative to the workspace."""
    format: SourceFormat
    """Source format; inferred from the source's extension unless given."""
    delimiter: str = ","
    """CSV field delimiter (``\\t`` for .tsv)."""
    null_values: tuple[str, ...] = ()
    """Tokens meaning "no value" in every column (``[NA, "n/a"]``): NULL before type checks."""
    integral_floats: bool = True
    """Integers written as floats (``517.0``, ``1e3``) are accepted exactly; false refuses them."""
    on_changed_file: OnChangedFile = "refuse"
    """A file seen before under the same name with other content: refuse it (until
    ``ingest --supersede``), supersede its earlier batch, or append it as one more batch."""
    schema: SchemaMode = "lenient"
    """``strict`` fails a batch whose file has columns the contract lacks or lacks optional ones."""


@dataclass(frozen=True)
class RetrievalConfig:
    """How a gold model is indexed for ``/retrieve`` (``retrieval:`` under a model)."""

    id: str
    """The column that identifies a record (cited back to the caller)."""
    text: tuple[str, ...]
    """Columns whose text is searched."""
    filters: tuple[str, ...] = ()
    """Columns a caller may filter on (exact match); row filters may use them too."""
    semantic: bool = False
    """Also rank by sentence embeddings and fuse with BM25 (needs the ``semantic`` extra)."""


@dataclass(frozen=True)
class ModelConfig:
    """One gold model declared under ``models:``."""

    name: str
    """Model name; also its gold table name."""
    sql: str
    """Path of the DuckDB SQL file; it reads ``silver.<dataset>`` and ``gold.<model>``."""
    contract: str
    """Path of the model's ODCS v3 contract (its gate and its SLA)."""
    primary_key: tuple[str, ...] = ()
    """Optional key: publish MERGEs by it (rows gone from the result are deleted)."""
    strategic: bool = False
    """Decision-grade: may read operational data only through an aggregation."""
    retrieval: RetrievalConfig | None = None
    """Index this model for AI retrieval (certified versions only)."""
    as_of: datetime | None = None
    """Historic data: freshness is measured at this time instead of now (it never goes stale)."""


@dataclass(frozen=True)
class LineageConfig:
    """Where OpenLineage events go (``lineage:`` in aiready.yaml)."""

    transport: Literal["file", "http", "none"] = "file"
    """file: ``.aiready/lineage/`` (read by ``aiready lineage``); http: also POST them."""
    url: str | None = None
    """Base URL of an OpenLineage HTTP endpoint (e.g. Marquez), for transport http."""
    endpoint: str = "api/v1/lineage"
    api_key_env: str | None = None
    """Name of the environment variable holding the API key (the key itself never goes in YAML)."""


@dataclass(frozen=True)
class EngineConfig:
    """Which engine runs gates and gold models (``engine:`` and ``spark:`` in aiready.yaml)."""

    name: str = "duckdb"
    """duckdb (embedded default) or spark."""
    master: str = "local[2]"
    """Spark master URL (``spark: {master: …}``), for engine spark."""
    conf: dict[str, str] = field(default_factory=dict)
    """Extra Spark configuration (``spark: {conf: {key: value}}``)."""
    memory_limit: str = "1GB"
    """DuckDB's memory for one gate or model (``duckdb: {memory_limit: …}``); beyond it, DuckDB
    spills to ``.aiready/tmp``. Its own default, 80 % of RAM, let a 5M-row refine reach 4.5 GB."""

    def options(self, temp_directory: Path) -> dict[str, Any]:
        """Constructor options for the engine registry (spill files go to ``temp_directory``)."""
        if self.name == "spark":
            return {"master": self.master, "conf": dict(self.conf)}
        return {"memory_limit": self.memory_limit, "temp_directory": str(temp_directory)}


@dataclass(frozen=True)
class WorkspaceConfig:
    """The whole ``aiready.yaml``."""

    name: str
    """Workspace name; also the MLflow experiment name."""
    root: Path
    """Directory holding ``aiready.yaml``; relative paths resolve against it."""
    datasets: dict[str, DatasetConfig] = field(default_factory=dict)
    """Declared datasets, in file order."""
    models: dict[str, ModelConfig] = field(default_factory=dict)
    """Declared gold models, in file order."""
    lineage: LineageConfig = field(default_factory=LineageConfig)
    """Where lineage events are sent."""
    engine: EngineConfig = field(default_factory=EngineConfig)
    """Which engine runs gates and models."""
    query_timeout_s: float = 30.0
    """Time limit of one governed query (``query: {timeout_seconds: …}``); it is then stopped."""


def load_config(root: Path) -> WorkspaceConfig:
    """Read and validate ``<root>/aiready.yaml``."""
    path = root / CONFIG_FILE
    if not path.is_file():
        raise ConfigError("no aiready.yaml here: run `aiready init DIR` first", file=str(path))
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"aiready.yaml is not valid YAML: {exc}", file=str(path)) from exc
    if not isinstance(raw, dict):
        raise ConfigError(
            "aiready.yaml must be a mapping with `name` and `datasets`", file=str(path)
        )
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError("`name` must be a short identifier", file=str(path), key="name")
    datasets_raw = raw.get("datasets") or {}
    if not isinstance(datasets_raw, dict):
        raise ConfigError("`datasets` must be a mapping", file=str(path), key="datasets")
    datasets = {str(k): _dataset(path, str(k), v) for k, v in datasets_raw.items()}
    models_raw = raw.get("models") or {}
    if not isinstance(models_raw, dict):
        raise ConfigError("`models` must be a mapping", file=str(path), key="models")
    models = {str(k): _model(path, str(k), v) for k, v in models_raw.items()}
    clash = set(models) & set(datasets)
    if clash:
        raise ConfigError(
            f"names used by both a dataset and a model: {sorted(clash)}",
            file=str(path),
            key="models",
        )
    lineage = _lineage(path, raw.get("lineage"))
    return WorkspaceConfig(
        name=name,
        root=root.resolve(),
        datasets=datasets,
        models=models,
        lineage=lineage,
        engine=_engine(path, raw.get("engine", "duckdb"), raw.get("spark"), raw.get("duckdb")),
        query_timeout_s=_query_timeout(path, raw.get("query")),
    )


def _query_timeout(path: Path, raw: Any) -> float:
    if raw is None:
        return 30.0
    if not isinstance(raw, dict) or set(raw) - {"timeout_seconds"}:
        raise ConfigError("`query` takes only `timeout_seconds`", file=str(path), key="query")
    value = raw.get("timeout_seconds", 30.0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 3600:
        raise ConfigError(
            "timeout_seconds is a number of seconds in (0, 3600]",
            file=str(path),
            key="query.timeout_seconds",
        )
    return float(value)


def _engine(path: Path, name: Any, spark: Any, duck: Any = None) -> EngineConfig:
    if name not in ENGINE_NAMES:
        raise ConfigError(f"engine is one of {sorted(ENGINE_NAMES)}", file=str(path), key="engine")
    limit = _memory_limit(path, duck)
    if spark is None:
        return EngineConfig(name=name, memory_limit=limit)
    if not isinstance(spark, dict) or set(spark) - {"master", "conf"}:
        raise ConfigError(
            "`spark` is a mapping with `master` and `conf`", file=str(path), key="spark"
        )
    master = spark.get("master", "local[2]")
    conf = spark.get("conf") or {}
    if not isinstance(master, str) or not isinstance(conf, dict):
        raise ConfigError(
            "spark.master is a string and spark.conf a mapping", file=str(path), key="spark"
        )
    return EngineConfig(name, master, {str(k): str(v) for k, v in conf.items()}, limit)


def _memory_limit(path: Path, duck: Any) -> str:
    if duck is None:
        return EngineConfig.memory_limit
    limit = duck.get("memory_limit") if isinstance(duck, dict) else None
    if (
        not isinstance(duck, dict)
        or set(duck) - {"memory_limit"}
        or not isinstance(limit, str)
        or not re.fullmatch(r"[0-9]+(\.[0-9]+)? ?([KMGT]i?B|%)", limit.strip())
    ):
        raise ConfigError(
            "`duckdb` is a mapping with `memory_limit`, e.g. {memory_limit: 2GB}",
            file=str(path),
            key="duckdb",
        )
    return limit.strip()


def _lineage(path: Path, raw: Any) -> LineageConfig:
    if raw is None:
        return LineageConfig()
    if not isinstance(raw, dict):
        raise ConfigError("`lineage` must be a mapping", file=str(path), key="lineage")
    unknown = set(raw) - {"transport", "url", "endpoint", "api_key_env"}
    if unknown:
        raise ConfigError(f"unknown keys {sorted(unknown)}", file=str(path), key="lineage")
    transport = raw.get("transport", "file")
    if transport not in ("file", "http", "none"):
        raise ConfigError(
            "transport is file, http or none", file=str(path), key="lineage.transport"
        )
    url = raw.get("url")
    if transport == "http" and not (
        isinstance(url, str) and url.startswith(("http://", "https://"))
    ):
        raise ConfigError(
            "transport http needs `url: http(s)://…`", file=str(path), key="lineage.url"
        )
    for key in ("endpoint", "api_key_env"):
        if key in raw and not isinstance(raw[key], str):
            raise ConfigError(f"{key} must be a string", file=str(path), key=f"lineage.{key}")
    return LineageConfig(
        transport=cast(Literal["file", "http", "none"], transport),
        url=url,
        endpoint=str(raw.get("endpoint", "api/v1/lineage")),
        api_key_env=raw.get("api_key_env"),
    )


def _model(path: Path, name: str, raw: Any) -> ModelConfig:
    key = f"models.{name}"
    if not _NAME.match(name):
        raise ConfigError("model names are letters, digits and _", file=str(path), key=key)
    if not isinstance(raw, dict):
        raise ConfigError("a model must be a mapping", file=str(path), key=key)
    unknown = set(raw) - {"sql", "contract", "primary_key", "strategic", "retrieval", "as_of"}
    if unknown:
        raise ConfigError(f"unknown keys {sorted(unknown)}", file=str(path), key=key)
    for required in ("sql", "contract"):
        if not isinstance(raw.get(required), str) or not raw[required].strip():
            raise ConfigError(f"`{required}` is required", file=str(path), key=f"{key}.{required}")
    pk = raw.get("primary_key") or ()
    keys = (pk,) if isinstance(pk, str) else tuple(pk)
    if not all(isinstance(k, str) and k for k in keys):
        raise ConfigError(
            "primary_key is a column or a list of columns", file=str(path), key=f"{key}.primary_key"
        )
    strategic = raw.get("strategic", False)
    if not isinstance(strategic, bool):
        raise ConfigError("strategic is true or false", file=str(path), key=f"{key}.strategic")
    retrieval = _retrieval(path, f"{key}.retrieval", raw.get("retrieval"))
    return ModelConfig(
        name,
        str(raw["sql"]),
        str(raw["contract"]),
        keys,
        strategic,
        retrieval,
        _as_of(path, key, raw.get("as_of")),
    )


def _as_of(path: Path, key: str, value: Any) -> datetime | None:
    """An ISO 8601 time with its zone (``2013-12-31T23:59:59Z``); a zoneless one is refused."""
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise ConfigError(
            "as_of must be an ISO 8601 time with a zone, e.g. 2013-12-31T23:59:59Z",
            file=str(path),
            key=f"{key}.as_of",
        )
    return when


def _retrieval(path: Path, key: str, raw: Any) -> RetrievalConfig | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - {"id", "text", "filters", "semantic"}:
        raise ConfigError(
            "retrieval is a mapping of id, text, filters and semantic", file=str(path), key=key
        )
    if not isinstance(raw.get("id"), str) or not raw["id"]:
        raise ConfigError("retrieval needs `id: <column>`", file=str(path), key=f"{key}.id")
    lists: dict[str, tuple[str, ...]] = {}
    for part in ("text", "filters"):
        value = raw.get(part) or []
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{part} is a list of columns", file=str(path), key=f"{key}.{part}")
        lists[part] = tuple(value)
    if not lists["text"]:
        raise ConfigError("retrieval needs text columns", file=str(path), key=f"{key}.text")
    semantic = raw.get("semantic", False)
    if not isinstance(semantic, bool):
        raise ConfigError("semantic is true or false", file=str(path), key=f"{key}.semantic")
    return RetrievalConfig(raw["id"], lists["text"], lists["filters"], semantic)


def _dataset(path: Path, name: str, raw: Any) -> DatasetConfig:
    key = f"datasets.{name}"
    if not _NAME.match(name):
        raise ConfigError("dataset names are letters, digits and _", file=str(path), key=key)
    if not isinstance(raw, dict):
        raise ConfigError("a dataset must be a mapping", file=str(path), key=key)
    unknown = set(raw) - {
        "kind",
        "source",
        "contract",
        "format",
        "delimiter",
        "null_values",
        "integral_floats",
        "on_changed_file",
        "schema",
    }
    if unknown:
        raise ConfigError(f"unknown keys {sorted(unknown)}", file=str(path), key=key)
    kind = raw.get("kind", "operational")
    if kind not in ("operational", "strategic"):
        raise ConfigError(
            "kind must be operational or strategic", file=str(path), key=f"{key}.kind"
        )
    for required in ("source", "contract"):
        if not isinstance(raw.get(required), str) or not raw[required].strip():
            raise ConfigError(f"`{required}` is required", file=str(path), key=f"{key}.{required}")
    source = str(raw["source"])
    fmt = raw.get("format") or _FORMATS.get(Path(source).suffix.lower())
    if fmt not in ("csv", "jsonl", "parquet"):
        raise ConfigError(
            "cannot tell the source format: set `format: csv|jsonl|parquet`",
            file=str(path),
            key=f"{key}.format",
        )
    delimiter = raw.get("delimiter", "\t" if source.lower().endswith(".tsv") else ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ConfigError("delimiter must be one character", file=str(path), key=f"{key}.delimiter")
    nulls = raw.get("null_values", [])
    if not isinstance(nulls, list) or not all(isinstance(v, str) for v in nulls):
        raise ConfigError(
            'null_values must be a list of strings, e.g. ["NA", "n/a"]',
            file=str(path),
            key=f"{key}.null_values",
        )
    integral = raw.get("integral_floats", True)
    if not isinstance(integral, bool):
        raise ConfigError(
            "integral_floats must be true or false", file=str(path), key=f"{key}.integral_floats"
        )
    on_changed = raw.get("on_changed_file", "refuse")
    if on_changed not in ("refuse", "supersede", "append"):
        raise ConfigError(
            "on_changed_file is refuse, supersede or append",
            file=str(path),
            key=f"{key}.on_changed_file",
        )
    schema = raw.get("schema", "lenient")
    if schema not in ("lenient", "strict"):
        raise ConfigError("schema must be lenient or strict", file=str(path), key=f"{key}.schema")
    return DatasetConfig(
        name=name,
        kind=cast(DatasetKind, kind),
        schema=cast(SchemaMode, schema),
        source=source,
        contract=str(raw["contract"]),
        format=cast(SourceFormat, fmt),
        delimiter=delimiter,
        null_values=tuple(nulls),
        integral_floats=integral,
        on_changed_file=cast(OnChangedFile, on_changed),
    )
