"""A tantivy index per certified gold version, built incrementally from the previous one.

``.aiready/index/<model>/v<version>/`` holds the index and ``digests.parquet`` (record id → hash of
its indexed values). A new version starts from a copy of the newest older index and re-indexes only
records that were added, changed or removed; the folder appears by an atomic rename, so a reader
never sees a half-built index.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import tantivy

from aiready.errors import ConfigError, NotFoundError
from aiready.storage import delta
from aiready.workspace.config import ModelConfig, RetrievalConfig
from aiready.workspace.paths import Paths

ID, TEXT = "_id", "_text"
DIGESTS = "digests.parquet"


def filter_field(column: str) -> str:
    return f"f_{column}"


def _schema(cfg: RetrievalConfig) -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field(ID, stored=True, tokenizer_name="raw")
    builder.add_text_field(TEXT, stored=False)
    for column in cfg.filters:
        builder.add_text_field(filter_field(column), stored=False, tokenizer_name="raw")
    return builder.build()


def folder(paths: Paths, model: str, version: int) -> Path:
    return paths.state / "index" / model / f"v{version}"


@dataclass
class BuildResult:
    model: str
    version: int
    documents: int
    added: int
    changed: int
    removed: int
    based_on: int | None


def _records(paths: Paths, model: ModelConfig, version: int) -> pa.Table:
    cfg = model.retrieval
    assert cfg is not None
    dt = delta.table(paths.table("gold", model.name), version)
    if dt is None:
        raise NotFoundError(f"gold {model.name} has no version {version}", model=model.name)
    wanted = list(dict.fromkeys([cfg.id, *cfg.text, *cfg.filters]))
    names = set(pa.schema(dt.schema().to_arrow()).names)
    missing = [c for c in wanted if c not in names]
    if missing:
        raise ConfigError(
            f"retrieval columns {missing} are not in gold {model.name}", model=model.name
        )
    return dt.to_pyarrow_dataset().to_table(columns=wanted)


def _document(cfg: RetrievalConfig, row: dict[str, Any]) -> tuple[str, str, tantivy.Document]:
    key = str(row[cfg.id])
    text = "\n".join(str(row[c]) for c in cfg.text if row[c] is not None)
    doc: dict[str, Any] = {ID: key, TEXT: text}
    for column in cfg.filters:
        doc[filter_field(column)] = "" if row[column] is None else str(row[column])
    digest = hashlib.sha256(repr(sorted(doc.items())).encode()).hexdigest()
    return key, digest, tantivy.Document(**doc)


def _previous(paths: Paths, model: str, version: int) -> int | None:
    base = paths.state / "index" / model
    older = [
        int(p.name[1:])
        for p in base.glob("v*")
        if p.name[1:].isdigit() and int(p.name[1:]) < version and (p / DIGESTS).is_file()
    ]
    return max(older) if older else None


_build_lock = threading.Lock()


def build(paths: Paths, model: ModelConfig, version: int) -> BuildResult:
    """Index ``model`` at ``version`` (a no-op when that index already exists)."""
    cfg = model.retrieval
    if cfg is None:
        raise ConfigError(f"model {model.name} declares no `retrieval:`", model=model.name)
    target = folder(paths, model.name, version)
    with _build_lock:
        if (target / DIGESTS).is_file():
            return BuildResult(model.name, version, _count(target), 0, 0, 0, None)
        table = _records(paths, model, version)
        docs = {}
        for row in table.to_pylist():
            key, digest, doc = _document(cfg, row)
            docs[key] = (digest, doc)
        base = _previous(paths, model.name, version)
        tmp = target.with_name(f".{target.name}.building")
        shutil.rmtree(tmp, ignore_errors=True)
        old: dict[str, str] = {}
        if base is not None:
            shutil.copytree(folder(paths, model.name, base), tmp)
            digests = pq.read_table(tmp / DIGESTS).to_pydict()
            old = dict(zip(digests["id"], digests["digest"], strict=True))
        tmp.mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(_schema(cfg), path=str(tmp))
        writer = index.writer()
        removed = [k for k in old if k not in docs]
        changed = [k for k, (d, _) in docs.items() if k in old and old[k] != d]
        added = [k for k in docs if k not in old]
        for key in removed + changed:
            writer.delete_documents_by_term(ID, key)
        for key in changed + added:
            writer.add_document(docs[key][1])
        writer.commit()
        writer.wait_merging_threads()
        ids = list(docs)
        pq.write_table(pa.table({"id": ids, "digest": [docs[k][0] for k in ids]}), tmp / DIGESTS)
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
    return BuildResult(model.name, version, len(docs), len(added), len(changed), len(removed), base)


def _count(target: Path) -> int:
    return int(pq.read_metadata(target / DIGESTS).num_rows)


class Searcher:
    """Open indexes, one per (model, version), reused across requests."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, int], tantivy.Index] = {}
        self._id_sets: dict[tuple[str, int, frozenset[str]], tantivy.Query] = {}
        self._lock = threading.Lock()

    def index(self, paths: Paths, model: ModelConfig, version: int) -> tantivy.Index:
        key = (model.name, version)
        with self._lock:
            if key not in self._open:
                build(paths, model, version)
                assert model.retrieval is not None
                idx = tantivy.Index(
                    _schema(model.retrieval), path=str(folder(paths, model.name, version))
                )
                self._open[key] = idx
            return self._open[key]

    def _id_set(
        self, model: str, version: int, schema: tantivy.Schema, ids: frozenset[str]
    ) -> tantivy.Query:
        """The id restriction of a row filter, built once per (version, id set)."""
        key = (model, version, ids)
        with self._lock:
            query = self._id_sets.get(key)
            if query is None:
                if len(self._id_sets) > 256:
                    self._id_sets.clear()
                query = tantivy.Query.term_set_query(schema, ID, sorted(ids))
                self._id_sets[key] = query
            return query

    def search(
        self,
        paths: Paths,
        model: ModelConfig,
        version: int,
        text: str,
        k: int,
        allowed: frozenset[str] | set[str] | None,
        filters: dict[str, str],
    ) -> list[tuple[str, float]]:
        """Top ``k`` (id, score); ``allowed`` and ``filters`` restrict before ranking."""
        idx = self.index(paths, model, version)
        schema = idx.schema
        query, _errors = idx.parse_query_lenient(text, [TEXT])
        must: list[Any] = []
        if allowed is not None:
            if not allowed:
                return []
            must.append(self._id_set(model.name, version, schema, frozenset(allowed)))
        for column, value in filters.items():
            must.append(tantivy.Query.term_query(schema, filter_field(column), value))
        if must:
            # Filters restrict, never score: ranking among permitted records is unchanged.
            restriction = tantivy.Query.const_score_query(
                tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in must]), 0.0
            )
            query = tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, query), (tantivy.Occur.Must, restriction)]
            )
        searcher = idx.searcher()
        hits = searcher.search(query, k).hits
        return [(str(searcher.doc(addr)[ID][0]), float(score)) for score, addr in hits]
