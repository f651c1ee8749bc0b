"""aiready.yaml validation: unknown keys at every level name the key, the file and a suggestion."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from aiready.config import load_config
from aiready.demo.generate import write_workspace
from aiready.errors import ConfigError

BASE = "name: w\ndatasets:\n  pay:\n    source: data/a.csv\n    contract: c.yaml\n"
MODEL = "models:\n  top:\n    sql: m.sql\n    contract: m.yaml\n"
NYC = Path(__file__).parents[1] / "data" / "nycflights13"


def _error(root: Path, text: str) -> ConfigError:
    (root / "aiready.yaml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(root)
    assert info.value.attrs()["file"] == str(root / "aiready.yaml")
    return info.value


@pytest.mark.parametrize(
    ("text", "unknown", "suggestion", "key"),
    [
        (BASE + "modles: {}\n", "modles", "models", None),
        (
            BASE.replace("source:", "sorce:"),
            "datasets.pay.sorce",
            "datasets.pay.source",
            "datasets.pay",
        ),
        (
            BASE + MODEL + "    primary_kye: id\n",
            "models.top.primary_kye",
            "models.top.primary_key",
            "models.top",
        ),
        (
            BASE + MODEL + "    retrieval: {id: x, text: t, filtres: [a]}\n",
            "models.top.retrieval.filtres",
            "models.top.retrieval.filters",
            "models.top.retrieval",
        ),
        (BASE + "lineage: {tranport: file}\n", "lineage.tranport", "lineage.transport", "lineage"),
        (BASE + "spark: {mastr: local}\n", "spark.mastr", "spark.master", "spark"),
        (
            BASE + "duckdb: {memroy_limit: 2GB}\n",
            "duckdb.memroy_limit",
            "duckdb.memory_limit",
            "duckdb",
        ),
        (BASE + "query: {timeout: 3}\n", "query.timeout", "query.timeout_seconds", "query"),
    ],
)
def test_unknown_key_names_the_key_the_file_and_the_closest_valid_key(
    tmp_path: Path, text: str, unknown: str, suggestion: str, key: str | None
) -> None:
    error = _error(tmp_path, text)
    assert error.message == f"unknown key {unknown!r} in aiready.yaml; did you mean {suggestion!r}?"
    assert error.attrs().get("key") == key


def test_unknown_key_without_a_close_match_lists_the_valid_ones(tmp_path: Path) -> None:
    error = _error(tmp_path, BASE + "zzz: 1\n")
    assert error.message.startswith("unknown key 'zzz' in aiready.yaml; valid keys: datasets,")


def test_a_name_inside_an_entry_is_unknown_its_name_is_the_mapping_key(tmp_path: Path) -> None:
    error = _error(tmp_path, BASE + "    name: other\n")
    assert "unknown key 'datasets.pay.name'" in error.message
    assert error.attrs()["key"] == "datasets.pay"


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("name: 3x\n", "name", "`name` must be a short identifier"),
        (BASE + "    integral_floats: 1\n", "datasets.pay.integral_floats", "true or false"),
        (BASE + "    null_values: NA\n", "datasets.pay.null_values", "list of strings"),
        (BASE + "    delimiter: ';;'\n", "datasets.pay.delimiter", "one character"),
        (BASE + MODEL + "    strategic: yes please\n", "models.top.strategic", "true or false"),
        (BASE + MODEL + "    primary_key: [id, '']\n", "models.top.primary_key", "a column or"),
        (BASE + MODEL + "    retrieval: {id: x}\n", "models.top.retrieval.text", "text columns"),
        (BASE + MODEL.replace("    sql: m.sql\n", ""), "models.top.sql", "`sql` is required"),
        (BASE + "models:\n  top: 3\n", "models.top", "`models.top` must be a mapping"),
        (BASE + "lineage: [file]\n", "lineage", "`lineage` must be a mapping"),
        (BASE + "query: {timeout_seconds: '30'}\n", "query.timeout_seconds", "(0, 3600]"),
        (BASE + "query: {timeout_seconds: true}\n", "query.timeout_seconds", "(0, 3600]"),
        (BASE + "spark: {conf: [a]}\n", "spark", "`spark` is a mapping"),
        (BASE + "models:\n  pay:\n    sql: m.sql\n    contract: m.yaml\n", "models", "both"),
    ],
)
def test_wrong_values_name_the_key_path(tmp_path: Path, text: str, key: str, message: str) -> None:
    error = _error(tmp_path, text)
    assert error.attrs()["key"] == key
    assert message in error.message


def test_defaults_and_inferred_values(tmp_path: Path) -> None:
    (tmp_path / "aiready.yaml").write_text(
        "name: w\ndatasets:\n  t:\n    source: data/a.tsv\n    contract: c.yaml\n"
        "lineage:\nengine: spark\nspark: {conf: {spark.sql.shuffle.partitions: 4}}\n"
    )
    config = load_config(tmp_path)
    ds = config.datasets["t"]
    assert (ds.name, ds.format, ds.delimiter, ds.kind, ds.schema_mode) == (
        "t",
        "csv",
        "\t",
        "operational",
        "lenient",
    )
    assert config.lineage.transport == "file" and config.query_timeout_s == 30.0
    assert config.engine.options(tmp_path) == {
        "master": "local[2]",
        "conf": {"spark.sql.shuffle.partitions": "4"},
    }
    assert config.root == tmp_path.resolve()


def test_sections_are_frozen_and_copied_with_model_copy(tmp_path: Path) -> None:
    (tmp_path / "aiready.yaml").write_text(BASE)
    ds = load_config(tmp_path).datasets["pay"]
    with pytest.raises(ValueError, match="frozen"):
        ds.kind = "strategic"  # type: ignore[misc]
    assert ds.model_copy(update={"on_changed_file": "append"}).on_changed_file == "append"
    assert ds.on_changed_file == "refuse"


def test_the_demo_workspace_loads(tmp_path: Path) -> None:
    write_workspace(tmp_path, "demo", payments=5, customers=3)
    config = load_config(tmp_path)
    assert list(config.datasets) == ["payments", "customers"]
    assert config.datasets["customers"].format == "jsonl"
    model = config.models["customer_value"]
    assert model.primary_key == ("customer_id",) and model.strategic


def test_a_full_nycflights13_workspace_loads(tmp_path: Path) -> None:
    for contract in ("flights", "planes"):
        shutil.copy(NYC / f"{contract}.odcs.yaml", tmp_path / f"{contract}.odcs.yaml")
    (tmp_path / "aiready.yaml").write_text(
        "name: nyc\n"
        "datasets:\n"
        "  flights:\n"
        "    kind: operational\n"
        "    source: data/flights_*.csv\n"
        "    contract: flights.odcs.yaml\n"
        '    null_values: ["NA"]\n'
        "    integral_floats: true\n"
        "    on_changed_file: supersede\n"
        "    schema: strict\n"
        "  planes:\n"
        "    kind: strategic\n"
        "    source: data/planes.csv\n"
        "    contract: planes.odcs.yaml\n"
        "models:\n"
        "  delays:\n"
        "    sql: models/delays.sql\n"
        "    contract: delays.odcs.yaml\n"
        "    primary_key: [carrier, month]\n"
        "    strategic: true\n"
        "    as_of: 2013-12-31T23:59:59Z\n"
        "    retrieval: {id: carrier, text: [carrier], filters: month, semantic: false}\n"
        "lineage: {transport: http, url: 'http://127.0.0.1:5000', api_key_env: MARQUEZ_KEY}\n"
        "engine: duckdb\n"
        "duckdb: {memory_limit: 512MiB}\n"
        "query: {timeout_seconds: 5}\n"
    )
    config = load_config(tmp_path)
    flights = config.datasets["flights"]
    assert flights.null_values == ("NA",) and flights.schema_mode == "strict"
    assert config.datasets["planes"].kind == "strategic"
    delays = config.models["delays"]
    assert delays.as_of is not None and delays.as_of.year == 2013
    assert delays.retrieval is not None and delays.retrieval.filters == ("month",)
    assert config.lineage.url == "http://127.0.0.1:5000"
    assert config.engine.options(tmp_path / "tmp")["memory_limit"] == "512MiB"
    assert config.query_timeout_s == 5.0


def test_config_is_the_bottom_layer() -> None:
    """aiready.config imports nothing of aiready but its errors."""
    package = Path(__file__).parents[2] / "src" / "aiready" / "config"
    imported = set()
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    ours = {name for name in imported if name.split(".")[0] == "aiready"}
    assert ours <= {"aiready.errors", "aiready.config.models", "aiready.config.paths"}
