"""A tantivy index per certified gold version, built incrementally from the previous one.

``.aiready/index/<model>/v<version>/`` holds the index and ``digests.parquet`` (record id → hash of
its indexed values), and for ``semantic: true`` models ``vectors.parquet`` (each record's sentence
embeddings, one per text column, and filter values). A new version starts from a copy of the newest
older index of the same layout and re-indexes (and re-embeds) only records that were added, changed
or removed; the folder appears by an atomic rename, so a reader never sees a half-built index.

Every text column has its own index field (``t_<column>``) and its own embedding, and a search
names the columns it may use: a caller who sees a column only masked cannot hit it, by any query
text, because no part of the query reaches that field. Query text is never parsed as index syntax:
it is cut into tokens by the fields' own analyzer and each token becomes a term query.
"""

from __future__ import annotations

import hashlib
import math
import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq
import tantivy

from aiready.config.models import ModelConfig, RetrievalConfig
from aiready.config.paths import Paths
from aiready.errors import ConfigError, NotFoundError
from aiready.retrieval import semantic
from aiready.storage import delta

ID = "_id"
OVERFETCH_MAX = 200  # hits fetched to find k permitted ones before the id set goes into the index
DIGESTS = "digests.parquet"
LAYOUT = "per-column/1"  # recorded in digests.parquet: an index of another layout is rebuilt
TOKENIZER = "aiready_text"
MAX_TERMS = 64  # distinct query tokens used (the rest of a very long query adds nothing)


def filter_field(column: str) -> str:
    return f"f_{column}"


def text_field(column: str) -> str:
    return f"t_{column}"


@lru_cache(maxsize=1)
def analyzer() -> tantivy.TextAnalyzer:
    """The one analyzer of text fields and query text (tantivy's default: split on anything not
    alphanumeric, drop tokens over 40 bytes, lowercase), so query tokens are index terms."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .build()
    )


def _schema(cfg: RetrievalConfig) -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field(ID, stored=True, tokenizer_name="raw")
    for column in cfg.text:
        builder.add_text_field(text_field(column), stored=False, tokenizer_name=TOKENIZER)
    for column in cfg.filters:
        builder.add_text_field(filter_field(column), stored=False, tokenizer_name="raw")
    return builder.build()


def _layout(cfg: RetrievalConfig) -> str:
    """The layout and the fields of an index: equal only if the index can be reused as is."""
    return f"{LAYOUT} text={','.join(cfg.text)} filters={','.join(cfg.filters)}"


def _open(cfg: RetrievalConfig, path: Path) -> tantivy.Index:
    index = tantivy.Index(_schema(cfg), path=str(path))
    index.register_tokenizer(TOKENIZER, analyzer())
    return index


def _reusable(cfg: RetrievalConfig, target: Path) -> bool:
    if not (target / DIGESTS).is_file():
        return False
    meta = pq.read_schema(target / DIGESTS).metadata or {}
    return meta.get(b"layout") == _layout(cfg).encode()


def terms(text: str) -> list[str]:
    """Query text as plain tokens: ``field:"x"``, ``*``, ``+``/``-``, ranges and parentheses are
    characters like any other, so the tokens of ``email:x*`` are ``email`` and ``x``."""
    return list(dict.fromkeys(analyzer().analyze(text)))[:MAX_TERMS]


def text_query(schema: tantivy.Schema, columns: Sequence[str], text: str) -> tantivy.Query | None:
    """Any token of ``text`` in any of ``columns`` (BM25, summed); None when nothing to match.
    Built from term queries over the named fields only: no other field can be reached."""
    clauses = [
        (tantivy.Occur.Should, tantivy.Query.term_query(schema, text_field(c), token, "freq"))
        for token in terms(text)
        for c in columns
    ]
    return tantivy.Query.boolean_query(clauses) if clauses else None


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
    embedded: int = 0
    """Records embedded for semantic ranking (0 when not semantic, or all were reused)."""


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


def _document(cfg: RetrievalConfig, row: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    """A record's key, the digest of what is indexed of it, and its index fields."""
    key = str(row[cfg.id])
    doc: dict[str, str] = {ID: key}
    for column in cfg.text:
        doc[text_field(column)] = "" if row[column] is None else str(row[column])
    for column in cfg.filters:
        doc[filter_field(column)] = "" if row[column] is None else str(row[column])
    digest = hashlib.sha256(repr(sorted(doc.items())).encode()).hexdigest()
    return key, digest, doc


def _previous(paths: Paths, model: ModelConfig, version: int) -> int | None:
    """The newest older version whose index has this layout (the base of an incremental build)."""
    assert model.retrieval is not None
    base = paths.state / "index" / model.name
    older = [
        int(p.name[1:])
        for p in base.glob("v*")
        if p.name[1:].isdigit() and int(p.name[1:]) < version and _reusable(model.retrieval, p)
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
        if _reusable(cfg, target):
            embedded = 0
            if cfg.semantic and not _vectors_reusable(cfg, target):  # switched on later
                docs = _documents(cfg, _records(paths, model, version))
                embedded = _write_vectors(target, cfg, docs)
            return BuildResult(model.name, version, _count(target), 0, 0, 0, None, embedded)
        docs = _documents(cfg, _records(paths, model, version))
        base = _previous(paths, model, version)
        tmp = target.with_name(f".{target.name}.building")
        shutil.rmtree(tmp, ignore_errors=True)
        old: dict[str, str] = {}
        if base is not None:
            shutil.copytree(folder(paths, model.name, base), tmp)
            digests = pq.read_table(tmp / DIGESTS).to_pydict()
            old = dict(zip(digests["id"], digests["digest"], strict=True))
        tmp.mkdir(parents=True, exist_ok=True)
        index = _open(cfg, tmp)
        writer = index.writer()
        removed = [k for k in old if k not in docs]
        changed = [k for k, (d, _) in docs.items() if k in old and old[k] != d]
        added = [k for k in docs if k not in old]
        for key in removed + changed:
            writer.delete_documents_by_term(ID, key)
        for key in changed + added:
            writer.add_document(tantivy.Document(**docs[key][1]))
        writer.commit()
        writer.wait_merging_threads()
        ids = list(docs)
        digests = pa.table({"id": ids, "digest": [docs[k][0] for k in ids]})
        pq.write_table(digests.replace_schema_metadata({"layout": _layout(cfg)}), tmp / DIGESTS)
        embedded = _write_vectors(tmp, cfg, docs) if cfg.semantic else 0
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
    counts = len(added), len(changed), len(removed)
    return BuildResult(model.name, version, len(docs), *counts, base, embedded)


def _documents(cfg: RetrievalConfig, table: pa.Table) -> dict[str, tuple[str, dict[str, str]]]:
    docs = {}
    for row in table.to_pylist():
        key, digest, doc = _document(cfg, row)
        docs[key] = (digest, doc)
    return docs


def vector_field(column: str) -> str:
    return f"v_{column}"


def _vectors_reusable(cfg: RetrievalConfig, target: Path) -> bool:
    """Vectors of this embedding model with one embedding per text column of ``cfg``."""
    path = target / semantic.VECTORS
    if not path.is_file():
        return False
    schema = pq.read_schema(path)
    wanted = {vector_field(c) for c in cfg.text} | {filter_field(c) for c in cfg.filters}
    meta = schema.metadata or {}
    return meta.get(b"model") == semantic.MODEL.encode() and wanted <= set(schema.names)


def _write_vectors(
    target: Path, cfg: RetrievalConfig, docs: dict[str, tuple[str, dict[str, str]]]
) -> int:
    """Embeddings of every record beside the index in ``target``, one per text column (so a
    caller is only ever ranked by the columns they may see); records whose indexed values are
    unchanged since the vectors already there (copied from the previous version) keep theirs.
    Returns how many records were embedded."""
    reuse: dict[str, list[npt.NDArray[np.float32]]] = {}
    if _vectors_reusable(cfg, target):
        names = ["id", "digest", *(vector_field(c) for c in cfg.text)]
        prior = pq.read_table(target / semantic.VECTORS, columns=names)
        matrices = [_matrix(prior, vector_field(c)) for c in cfg.text]
        for i, (key, digest) in enumerate(
            zip(prior.column("id").to_pylist(), prior.column("digest").to_pylist(), strict=True)
        ):
            if key in docs and docs[key][0] == digest:
                reuse[key] = [m[i] for m in matrices]
    ids = list(docs)
    fresh = [k for k in ids if k not in reuse]
    embedded = [_embed([docs[k][1][text_field(c)] for k in fresh]) for c in cfg.text]
    for row, key in enumerate(fresh):
        reuse[key] = [m[row] for m in embedded]
    columns: dict[str, Any] = {"id": ids, "digest": [docs[k][0] for k in ids]}
    for column in cfg.filters:
        field = filter_field(column)
        columns[field] = [docs[k][1][field] for k in ids]
    for n, column in enumerate(cfg.text):
        matrix = (
            np.stack([reuse[k][n] for k in ids]) if ids else np.zeros((0, semantic.DIM), np.float32)
        )
        flat = pa.array(matrix.reshape(-1), pa.float32())
        columns[vector_field(column)] = pa.FixedSizeListArray.from_arrays(flat, semantic.DIM)
    table = pa.table(columns).replace_schema_metadata({"model": semantic.MODEL})
    partial = target / f".{semantic.VECTORS}.tmp"
    pq.write_table(table, partial)
    partial.replace(target / semantic.VECTORS)
    return len(fresh)


def _embed(texts: list[str]) -> npt.NDArray[np.float32]:
    """Embeddings of non-empty texts; an empty text gets the zero vector (it resembles nothing)."""
    out = np.zeros((len(texts), semantic.DIM), np.float32)
    full = [i for i, t in enumerate(texts) if t.strip()]
    if full:
        out[full] = semantic.embed([texts[i] for i in full])
    return out


def _matrix(table: pa.Table, name: str) -> npt.NDArray[np.float32]:
    column = table.column(name).combine_chunks()
    values = column.flatten().to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.float32).reshape(len(table), semantic.DIM)


def _count(target: Path) -> int:
    return int(pq.read_metadata(target / DIGESTS).num_rows)


class Searcher:
    """Open indexes, one per (model, version), reused across requests."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, int], tantivy.Index] = {}
        self._vectors: dict[tuple[str, int], _Vectors] = {}
        self._masks: dict[tuple[str, int, frozenset[str]], npt.NDArray[np.bool_]] = {}
        self._restrictions: dict[tuple[Any, ...], tantivy.Query | None] = {}
        self._lock = threading.Lock()

    def index(self, paths: Paths, model: ModelConfig, version: int) -> tantivy.Index:
        key = (model.name, version)
        with self._lock:
            if key not in self._open:
                build(paths, model, version)
                assert model.retrieval is not None
                self._open[key] = _open(model.retrieval, folder(paths, model.name, version))
            return self._open[key]

    def _restriction(
        self,
        paths: Paths,
        model: str,
        version: int,
        schema: tantivy.Schema,
        ids: frozenset[str] | None,
        filters: dict[str, str],
    ) -> tantivy.Query | None:
        """What a row filter and request filters admit, as a query that never scores; built once
        per (version, id set, filters). A term set costs per term on every search, so an id set
        larger than half the version is expressed as "all but the others"."""
        key = (model, version, ids, tuple(sorted(filters.items())))
        with self._lock:
            if key in self._restrictions:
                return self._restrictions[key]
        must: list[tuple[tantivy.Occur, tantivy.Query]] = []
        if ids is not None:
            every = pq.read_table(folder(paths, model, version) / DIGESTS, columns=["id"])
            universe = every.column("id").to_pylist()
            if len(ids) * 2 > len(universe):
                others = sorted(set(universe) - ids)
                must.append((tantivy.Occur.Must, tantivy.Query.all_query()))
                if others:
                    others_q = tantivy.Query.term_set_query(schema, ID, others)
                    must.append((tantivy.Occur.MustNot, others_q))
            else:
                must.append(
                    (tantivy.Occur.Must, tantivy.Query.term_set_query(schema, ID, sorted(ids)))
                )
        for column, value in filters.items():
            term = tantivy.Query.term_query(schema, filter_field(column), value)
            must.append((tantivy.Occur.Must, term))
        query = (
            tantivy.Query.const_score_query(tantivy.Query.boolean_query(must), 0.0)
            if must
            else None
        )
        with self._lock:
            if len(self._restrictions) > 256:
                self._restrictions.clear()
            self._restrictions[key] = query
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
        columns: Sequence[str],
    ) -> list[tuple[str, float]]:
        """Top ``k`` (id, score) for ``text`` in the text ``columns`` (those the caller may see
        unmasked, and no other); ``allowed`` and ``filters`` restrict before ranking."""
        _text_columns(model, columns)
        idx = self.index(paths, model, version)
        schema = idx.schema
        wanted = text_query(schema, columns, text)
        if wanted is None or (allowed is not None and not allowed):
            return []
        searcher = idx.searcher()
        if allowed is not None:
            ids = frozenset(allowed)
            found = self._overfetch(paths, model, version, idx, wanted, k, ids, filters)
            if found is not None:
                return found
        else:
            ids = None
        query = self._restricted(paths, model.name, version, schema, wanted, ids, filters)
        return _hits(searcher, query, k)

    def _restricted(
        self,
        paths: Paths,
        model: str,
        version: int,
        schema: tantivy.Schema,
        query: tantivy.Query,
        ids: frozenset[str] | None,
        filters: dict[str, str],
    ) -> tantivy.Query:
        restriction = self._restriction(paths, model, version, schema, ids, filters)
        if restriction is None:
            return query
        # Filters restrict, never score: ranking among permitted records is unchanged.
        return tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, query), (tantivy.Occur.Must, restriction)]
        )

    def _overfetch(
        self,
        paths: Paths,
        model: ModelConfig,
        version: int,
        idx: tantivy.Index,
        query: tantivy.Query,
        k: int,
        ids: frozenset[str],
        filters: dict[str, str],
    ) -> list[tuple[str, float]] | None:
        """The top ``k`` permitted records from a larger unrestricted top list, or None.

        Scores do not depend on the restriction, so the permitted records of the unrestricted
        ranking, in order, *are* the restricted ranking: if the first ``m`` hits hold ``k``
        permitted ones (or are all there is), those are the answer. That is a cheap search for
        a row filter that admits a good share of the records; otherwise the id set is applied
        in the index (a term set, costly per search) by the caller.
        """
        searcher = idx.searcher()
        total = searcher.num_docs
        if not total:
            return []
        m = k + math.ceil(2 * k * total / len(ids))
        if m > OVERFETCH_MAX:
            return None
        query = self._restricted(paths, model.name, version, idx.schema, query, None, filters)
        hits = _hits(searcher, query, m)
        permitted = [(key, score) for key, score in hits if key in ids]
        if len(permitted) >= k or len(hits) < m:
            return permitted[:k]
        return None

    def _vectors_of(self, paths: Paths, model: ModelConfig, version: int) -> _Vectors:
        key = (model.name, version)
        with self._lock:
            if key not in self._vectors:
                build(paths, model, version)
                assert model.retrieval is not None
                table = pq.read_table(folder(paths, model.name, version) / semantic.VECTORS)
                ids = np.asarray(table.column("id").to_pylist(), dtype=object)
                filters = {
                    name: np.asarray(table.column(name).to_pylist(), dtype=object)
                    for name in table.column_names
                    if name.startswith("f_")
                }
                matrices = {c: _matrix(table, vector_field(c)) for c in model.retrieval.text}
                self._vectors[key] = _Vectors(ids, matrices, filters)
            return self._vectors[key]

    def _allowed_mask(
        self, model: str, version: int, vectors: _Vectors, ids: frozenset[str]
    ) -> npt.NDArray[np.bool_]:
        key = (model, version, ids)
        with self._lock:
            mask = self._masks.get(key)
            if mask is None:
                if len(self._masks) > 256:
                    self._masks.clear()
                mask = np.isin(vectors.ids, list(ids))
                self._masks[key] = mask
            return mask

    def nearest(
        self,
        paths: Paths,
        model: ModelConfig,
        version: int,
        text: str,
        k: int,
        allowed: frozenset[str] | set[str] | None,
        filters: dict[str, str],
        columns: Sequence[str],
    ) -> list[tuple[str, float]]:
        """Top ``k`` (id, cosine) by sentence embedding, restricted like ``search``: a record's
        similarity is that of its closest column among ``columns``, so the embedding of a
        column the caller may not see never takes part."""
        if not _text_columns(model, columns):
            return []
        vectors = self._vectors_of(paths, model, version)
        candidates: npt.NDArray[np.bool_] | None = None
        if allowed is not None:
            if not allowed:
                return []
            candidates = self._allowed_mask(model.name, version, vectors, frozenset(allowed))
        for column, value in filters.items():
            match = vectors.filters[filter_field(column)] == value
            candidates = match if candidates is None else candidates & match
        query = semantic.query_vector(text)
        scores = vectors.matrices[columns[0]] @ query
        for column in columns[1:]:
            scores = np.maximum(scores, vectors.matrices[column] @ query)
        hits = semantic.nearest(scores, candidates, k)
        return [(str(vectors.ids[row]), score) for row, score in hits]


def _text_columns(model: ModelConfig, columns: Sequence[str]) -> Sequence[str]:
    assert model.retrieval is not None
    unknown = [c for c in columns if c not in model.retrieval.text]
    if unknown:
        raise ConfigError(f"{unknown} are not text columns of {model.name}", model=model.name)
    return columns


@dataclass(frozen=True)
class _Vectors:
    ids: npt.NDArray[np.object_]
    matrices: dict[str, npt.NDArray[np.float32]]
    """One embedding matrix per text column (rows aligned with ``ids``)."""
    filters: dict[str, npt.NDArray[np.object_]]


def _hits(searcher: tantivy.Searcher, query: tantivy.Query, k: int) -> list[tuple[str, float]]:
    return [
        (str(searcher.doc(addr)[ID][0]), float(score))
        for score, addr in searcher.search(query, k).hits
    ]
