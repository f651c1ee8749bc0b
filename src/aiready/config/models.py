"""Typed, validated view of ``aiready.yaml``: one pydantic model per section.

Every section forbids keys it does not know, so a typo (``modles:``) is an error naming the key,
the file and the closest valid key instead of a silently empty workspace.
"""

from __future__ import annotations

import difflib
import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from aiready.errors import ConfigError

ENGINE_NAMES = ("duckdb", "spark")
"""The engines aiready.yaml may name (the registry in ``aiready.engines`` maps each to code)."""

DatasetKind = Literal["operational", "strategic"]
SourceFormat = Literal["csv", "jsonl", "parquet"]
OnChangedFile = Literal["refuse", "supersede", "append"]
SchemaMode = Literal["lenient", "strict"]
EngineName = Literal["duckdb", "spark"]

CONFIG_FILE = "aiready.yaml"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_MEMORY = re.compile(r"[0-9]+(\.[0-9]+)? ?([KMGT]i?B|%)")
_FORMATS: dict[str, SourceFormat] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_UNKNOWN = "unknown_key"
_OURS = "aiready"


def _says(message: str) -> WrapValidator:
    """Report any failure of this value as ``message`` (unknown keys inside keep their own)."""

    def check(value: Any, handler: Any) -> Any:
        try:
            return handler(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            if first["type"] == _UNKNOWN and not first["loc"]:
                raise PydanticCustomError(_UNKNOWN, "unknown key", first.get("ctx")) from None
            raise PydanticCustomError(_OURS, message) from None

    return WrapValidator(check)


def _fail(message: str) -> PydanticCustomError:
    return PydanticCustomError(_OURS, message)


def _filled(value: str) -> str:
    if not value.strip():
        raise _fail("empty")
    return value


def _columns(value: Any) -> Any:
    """One column may be written without the list brackets; an absent list is empty."""
    return [value] if isinstance(value, str) else (value or [])


def _aware(value: Any) -> datetime:
    """An ISO 8601 time with its zone (``2013-12-31T23:59:59Z``); a zoneless one is refused."""
    try:
        when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise _fail("as_of must be an ISO 8601 time with a zone, e.g. 2013-12-31T23:59:59Z")
    return when


def _identifier(what: str) -> BeforeValidator:
    def check(value: Any) -> str:
        if not _NAME.match(str(value)):
            raise _fail(f"{what} names are letters, digits and _")
        return str(value)

    return BeforeValidator(check)


_OR_EMPTY = BeforeValidator(lambda value: {} if value is None else value)
"""An empty YAML section (``lineage:`` with nothing under it) is the section's defaults."""
Text = Annotated[str, AfterValidator(_filled)]
Columns = Annotated[tuple[Annotated[str, Field(min_length=1)], ...], BeforeValidator(_columns)]


class _Named(NamedTuple):
    """An entry of ``datasets:`` or ``models:``: its name is the mapping key, not a key inside."""

    name: str
    fields: Any


def _named(value: Any) -> Any:
    if not value:
        return {}
    if isinstance(value, dict):
        return {k: _Named(str(k), v) for k, v in value.items()}
    return value


class _Section(BaseModel):
    """A mapping in aiready.yaml: frozen, and every key it does not declare is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        keys = {f.alias or name: f for name, f in cls.model_fields.items()}
        if isinstance(data, _Named):
            keys.pop("name", None)
            if isinstance(data.fields, dict):
                _refuse_unknown(data.fields, keys)
                return cls._defaults({**data.fields, "name": data.name})
            return data.fields
        if isinstance(data, dict):
            _refuse_unknown(data, keys)
            return cls._defaults(data)
        return data

    @classmethod
    def _defaults(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Defaults that depend on other keys (a dataset's format follows its source)."""
        return data


def _refuse_unknown(data: dict[Any, Any], known: dict[str, Any]) -> None:
    for key in data:
        if str(key) not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            context = {"key": str(key), "close": close[0] if close else "", "known": sorted(known)}
            raise PydanticCustomError(_UNKNOWN, "unknown key", context)


class DatasetConfig(_Section):
    """One dataset declared under ``datasets:``."""

    name: str
    """Dataset name; also its table name in every layer (letters, digits, underscore)."""
    kind: Annotated[DatasetKind, _says("kind must be operational or strategic")] = "operational"
    """operational (events, logs, transactions: append) or strategic (master data: merge by key)."""
    source: Annotated[Text, _says("`source` is required")]
    """A file or glob, relative to the workspace (csv, jsonl or parquet)."""
    contract: Annotated[Text, _says("`contract` is required")]
    """Path of the ODCS v3 contract, relative to the workspace."""
    format: Annotated[
        SourceFormat, _says("cannot tell the source format: set `format: csv|jsonl|parquet`")
    ]
    """Source format; inferred from the source's extension unless given."""
    delimiter: Annotated[
        str, Field(min_length=1, max_length=1), _says("delimiter must be one character")
    ] = ","
    """CSV field delimiter (``\\t`` for .tsv)."""
    null_values: Annotated[
        tuple[str, ...], _says('null_values must be a list of strings, e.g. ["NA", "n/a"]')
    ] = ()
    """Tokens meaning "no value" in every column (``[NA, "n/a"]``): NULL before type checks."""
    integral_floats: Annotated[
        bool, Field(strict=True), _says("integral_floats must be true or false")
    ] = True
    """Integers written as floats (``517.0``, ``1e3``) are accepted exactly; false refuses them."""
    on_changed_file: Annotated[
        OnChangedFile, _says("on_changed_file is refuse, supersede or append")
    ] = "refuse"
    """A file seen before under the same name with other content: refuse it (until
    ``ingest --supersede``), supersede its earlier batch, or append it as one more batch."""
    schema_mode: Annotated[
        SchemaMode, Field(alias="schema"), _says("schema must be lenient or strict")
    ] = "lenient"
    """``schema:`` in YAML; ``strict`` fails a batch whose file has columns the contract lacks
    or lacks optional ones (pydantic reserves the attribute name ``schema``)."""

    @classmethod
    def _defaults(cls, data: dict[str, Any]) -> dict[str, Any]:
        source = data.get("source")
        if not isinstance(source, str):
            return data
        suffix = Path(source).suffix.lower()
        out = {**data, "format": data.get("format") or _FORMATS.get(suffix)}
        if suffix == ".tsv":
            out.setdefault("delimiter", "\t")
        return out


class RetrievalConfig(_Section):
    """How a gold model is indexed for ``/retrieve`` (``retrieval:`` under a model)."""

    id: Annotated[Text, _says("retrieval needs `id: <column>`")]
    """The column that identifies a record (cited back to the caller)."""
    text: Annotated[
        Columns, Field(min_length=1, validate_default=True), _says("retrieval needs text columns")
    ] = ()
    """Columns whose text is searched."""
    filters: Annotated[Columns, _says("filters is a list of columns")] = ()
    """Columns a caller may filter on (exact match); row filters may use them too."""
    semantic: Annotated[bool, Field(strict=True), _says("semantic is true or false")] = False
    """Also rank by sentence embeddings and fuse with BM25 (needs the ``semantic`` extra)."""


class ModelConfig(_Section):
    """One gold model declared under ``models:``."""

    name: str
    """Model name; also its gold table name."""
    sql: Annotated[Text, _says("`sql` is required")]
    """Path of the DuckDB SQL file; it reads ``silver.<dataset>`` and ``gold.<model>``."""
    contract: Annotated[Text, _says("`contract` is required")]
    """Path of the model's ODCS v3 contract (its gate and its SLA)."""
    primary_key: Annotated[Columns, _says("primary_key is a column or a list of columns")] = ()
    """Optional key: publish MERGEs by it (rows gone from the result are deleted)."""
    strategic: Annotated[bool, Field(strict=True), _says("strategic is true or false")] = False
    """Decision-grade: may read operational data only through an aggregation."""
    retrieval: RetrievalConfig | None = None
    """Index this model for AI retrieval (certified versions only)."""
    as_of: Annotated[datetime | None, BeforeValidator(_aware)] = None
    """Historic data: freshness is measured at this time instead of now (it never goes stale)."""


class LineageConfig(_Section):
    """Where OpenLineage events go (``lineage:`` in aiready.yaml)."""

    transport: Annotated[
        Literal["file", "http", "none"], _says("transport is file, http or none")
    ] = "file"
    """file: ``.aiready/lineage/`` (read by ``aiready lineage``); http: also POST them."""
    url: Annotated[str | None, Field(validate_default=True)] = None
    """Base URL of an OpenLineage HTTP endpoint (e.g. Marquez), for transport http."""
    endpoint: Annotated[str, _says("endpoint must be a string")] = "api/v1/lineage"
    """Path of the lineage resource under ``url``."""
    api_key_env: Annotated[str | None, _says("api_key_env must be a string")] = None
    """Name of the environment variable holding the API key (the key itself never goes in YAML)."""

    @field_validator("url")
    @classmethod
    def _http_needs_url(cls, url: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("transport") == "http" and not (url or "").startswith(
            ("http://", "https://")
        ):
            raise _fail("transport http needs `url: http(s)://…`")
        return url


class EngineConfig(BaseModel):
    """Which engine runs gates and gold models (``engine:``, ``spark:`` and ``duckdb:``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    name: str = "duckdb"
    """duckdb (embedded) or spark (``--engine`` may name another: the registry refuses it)."""
    master: str = "local[2]"
    """Spark master URL (``spark: {master: …}``), for engine spark."""
    conf: dict[str, str] = Field(default_factory=dict)
    """Extra Spark configuration (``spark: {conf: {key: value}}``)."""
    memory_limit: str = "1GB"
    """DuckDB's memory for one gate or model (``duckdb: {memory_limit: …}``); beyond it, DuckDB
    spills to ``.aiready/tmp``. Its own default, 80 % of RAM, let a 5M-row refine reach 4.5 GB."""

    def options(self, temp_directory: Path) -> dict[str, Any]:
        """Constructor options for the engine registry (spill files go to ``temp_directory``)."""
        if self.name == "spark":
            return {"master": self.master, "conf": dict(self.conf)}
        return {"memory_limit": self.memory_limit, "temp_directory": str(temp_directory)}


class _Spark(_Section):
    """``spark:``: where the Spark engine runs."""

    master: str = "local[2]"
    """Spark master URL."""
    conf: Annotated[dict[str, Annotated[str, BeforeValidator(str)]], _OR_EMPTY] = Field(
        default_factory=dict
    )
    """Extra Spark configuration; values are passed to Spark as text."""


def _memory(value: str) -> str:
    if not _MEMORY.fullmatch(value.strip()):
        raise _fail("not a size")
    return value.strip()


class _Duckdb(_Section):
    """``duckdb:``: limits of the embedded engine."""

    memory_limit: Annotated[str, AfterValidator(_memory)] = "1GB"
    """Memory for one gate or model, e.g. ``2GB``, ``512MiB`` or ``50%``."""


class _Query(_Section):
    """``query:``: limits of one governed query."""

    timeout_seconds: Annotated[
        float,
        Field(strict=True, gt=0, le=3600),
        _says("timeout_seconds is a number of seconds in (0, 3600]"),
    ] = 30.0
    """Time limit, after which the query is stopped."""


class _File(_Section):
    """``aiready.yaml`` as written; :class:`WorkspaceConfig` is what the rest of aiready reads."""

    name: Annotated[str, Field(pattern=_NAME.pattern), _says("`name` must be a short identifier")]
    """Workspace name; also the MLflow experiment name."""
    datasets: Annotated[
        dict[Annotated[str, _identifier("dataset")], DatasetConfig], BeforeValidator(_named)
    ] = Field(default_factory=dict)
    """Declared datasets, in file order."""
    models: Annotated[
        dict[Annotated[str, _identifier("model")], ModelConfig], BeforeValidator(_named)
    ] = Field(default_factory=dict)
    """Declared gold models, in file order."""
    lineage: Annotated[LineageConfig, _OR_EMPTY] = Field(default_factory=LineageConfig)
    """Where lineage events are sent."""
    engine: Annotated[EngineName, _says(f"engine is one of {sorted(ENGINE_NAMES)}")] = "duckdb"
    """Which engine runs gates and models."""
    spark: Annotated[_Spark | None, _says("`spark` is a mapping with `master` and `conf`")] = None
    """Spark settings, for engine spark."""
    duckdb: Annotated[
        _Duckdb | None,
        _says("`duckdb` is a mapping with `memory_limit`, e.g. {memory_limit: 2GB}"),
    ] = None
    """DuckDB settings."""
    query: _Query | None = None
    """Governed query settings."""

    @field_validator("models")
    @classmethod
    def _distinct_names(cls, models: dict[str, ModelConfig], info: ValidationInfo) -> Any:
        clash = set(models) & set(info.data.get("datasets", {}))
        if clash:
            raise _fail(f"names used by both a dataset and a model: {sorted(clash)}")
        return models

    def workspace(self, root: Path) -> WorkspaceConfig:
        spark, duck = self.spark or _Spark(), self.duckdb or _Duckdb()
        engine = EngineConfig(
            name=self.engine, master=spark.master, conf=spark.conf, memory_limit=duck.memory_limit
        )
        return WorkspaceConfig(
            name=self.name,
            root=root.resolve(),
            datasets=self.datasets,
            models=self.models,
            lineage=self.lineage,
            engine=engine,
            query_timeout_s=(self.query or _Query()).timeout_seconds,
        )


class WorkspaceConfig(BaseModel):
    """The whole ``aiready.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    name: str
    """Workspace name; also the MLflow experiment name."""
    root: Path
    """Directory holding ``aiready.yaml``; relative paths resolve against it."""
    datasets: dict[str, DatasetConfig] = Field(default_factory=dict)
    """Declared datasets, in file order."""
    models: dict[str, ModelConfig] = Field(default_factory=dict)
    """Declared gold models, in file order."""
    lineage: LineageConfig = Field(default_factory=LineageConfig)
    """Where lineage events are sent."""
    engine: EngineConfig = Field(default_factory=EngineConfig)
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
    try:
        return _File.model_validate(raw).workspace(root)
    except ValidationError as exc:
        raise _config_error(exc, path) from None


def _config_error(exc: ValidationError, path: Path) -> ConfigError:
    """The first problem, as a ConfigError naming the file and the dotted key."""
    first = exc.errors()[0]
    parts = [str(p) for p in first["loc"] if p != "[key]"]
    key = ".".join(parts) or None
    kind, context = first["type"], first.get("ctx") or {}
    if kind == _UNKNOWN:
        where = ".".join([*parts, context["key"]])
        hint = (
            f"did you mean {'.'.join([*parts, context['close']])!r}?"
            if context["close"]
            else f"valid keys: {', '.join(context['known'])}"
        )
        message = f"unknown key {where!r} in {CONFIG_FILE}; {hint}"
    elif kind == "missing":
        message = f"`{parts[-1]}` is required"
    elif kind in ("model_type", "dict_type"):
        message = f"`{key}` must be a mapping"
    else:
        message = first["msg"]
    return ConfigError(message, file=str(path), key=key)
