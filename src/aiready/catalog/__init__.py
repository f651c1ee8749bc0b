"""Catalog, glossary and AI-readable context."""

from aiready.catalog.catalog import catalog, entry, load_glossary, search
from aiready.catalog.context import context, to_markdown

__all__ = ["catalog", "context", "entry", "load_glossary", "search", "to_markdown"]
