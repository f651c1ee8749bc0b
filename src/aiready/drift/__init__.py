"""Drift: Evidently's column tests with scipy, for gold versions and silver batches."""

from aiready.drift.monitor import DriftResult, check, latest, render
from aiready.drift.stats import ColumnDrift, DriftReport, compare

__all__ = ["ColumnDrift", "DriftReport", "DriftResult", "check", "compare", "latest", "render"]
