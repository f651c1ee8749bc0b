"""Source readers: CSV, JSONL and Parquet files to raw all-string Arrow tables."""

from aiready.sources.readers import ParsedFile, read_source

__all__ = ["ParsedFile", "read_source"]
