"""Delta Lake storage: snapshot reads, retried writes, per-dataset locks."""

from aiready.storage import delta
from aiready.storage.locks import dataset_lock

__all__ = ["dataset_lock", "delta"]
