"""Retrieval: tantivy indexes of certified gold, searched under policy."""

from aiready.retrieval.index import BuildResult, Searcher, build
from aiready.retrieval.retrieve import Hit, RetrieveResult, retrieve

__all__ = ["BuildResult", "Hit", "RetrieveResult", "Searcher", "build", "retrieve"]
