"""Typed, validated view of ``aiready.yaml``; errors name the file and the key."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import yaml

from aiready.errors import ConfigError

DatasetKind = Literal["operational", "strategic"]
SourceFormat = Literal["csv", "jsonl", "parquet"]

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


@dataclass(frozen=True)
class WorkspaceConfig:
    """The whole ``aiready.yaml``."""

    name: str
    """Workspace name; also the MLflow experiment name."""
    root: Path
    """Directory holding ``aiready.yaml``; relative paths resolve against it."""
    datasets: dict[str, DatasetConfig] = field(default_factory=dict)
    """Declared datasets, in file order."""


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
    return WorkspaceConfig(name=name, root=root.resolve(), datasets=datasets)


def _dataset(path: Path, name: str, raw: Any) -> DatasetConfig:
    key = f"datasets.{name}"
    if not _NAME.match(name):
        raise ConfigError("dataset names are letters, digits and _", file=str(path), key=key)
    if not isinstance(raw, dict):
        raise ConfigError("a dataset must be a mapping", file=str(path), key=key)
    unknown = set(raw) - {"kind", "source", "contract", "format", "delimiter"}
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
    return DatasetConfig(
        name=name,
        kind=cast(DatasetKind, kind),
        source=source,
        contract=str(raw["contract"]),
        format=cast(SourceFormat, fmt),
        delimiter=delimiter,
    )
