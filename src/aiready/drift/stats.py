"""Data drift per column with Evidently's default rules, computed with scipy.

* Reference with more than 1,000 rows: numeric columns by the Wasserstein distance normed by the
  reference's standard deviation, categorical columns by the Jensen-Shannon distance; a column
  drifts when the value is at least 0.1.
* Smaller reference: numeric by the two-sample Kolmogorov-Smirnov test, categorical by the
  chi-square goodness-of-fit of current counts against reference proportions; a column drifts
  when p < 0.05.
* The dataset drifts when at least half of its columns drift.

Missing values are dropped per column; numeric columns with at most 5 distinct reference values
are treated as categorical (as Evidently does for low-cardinality numbers).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

LARGE = 1000
DISTANCE_THRESHOLD = 0.1
P_THRESHOLD = 0.05
DATASET_SHARE = 0.5


@dataclass
class ColumnDrift:
    column: str
    kind: str
    """numeric or categorical."""
    method: str
    value: float
    """Distance (large samples) or p-value (small samples)."""
    threshold: float
    drifted: bool
    reference_rows: int
    current_rows: int


@dataclass
class DriftReport:
    columns: list[ColumnDrift] = field(default_factory=list)
    share: float = 0.0
    drifted: bool = False

    def asdict(self) -> dict[str, Any]:
        return asdict(self)


def _numeric(column: pa.ChunkedArray) -> bool:
    return bool(
        pa.types.is_integer(column.type)
        or pa.types.is_floating(column.type)
        or pa.types.is_decimal(column.type)
    )


def _values(column: pa.ChunkedArray, numeric: bool) -> np.ndarray[Any, Any]:
    column = pc.drop_null(column)
    if numeric:
        values = column.cast(pa.float64()).to_numpy()
        return np.asarray(values[~np.isnan(values)])
    return np.asarray(column.cast(pa.string()).to_numpy(zero_copy_only=False), dtype=object)


def _categorical(
    ref: np.ndarray[Any, Any], cur: np.ndarray[Any, Any], large: bool
) -> tuple[str, float, float, bool]:
    ref_seen, cur_seen = Counter(ref.tolist()), Counter(cur.tolist())
    keys = sorted(set(ref_seen) | set(cur_seen), key=str)
    ref_counts = np.array([ref_seen[k] for k in keys], dtype=float)
    cur_counts = np.array([cur_seen[k] for k in keys], dtype=float)
    from scipy.spatial.distance import jensenshannon  # scipy costs ~1 s: load it when used
    from scipy.stats import chisquare

    if large:
        value = float(jensenshannon(ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum()))
        return "jensenshannon", value, DISTANCE_THRESHOLD, value >= DISTANCE_THRESHOLD
    expected = ref_counts / ref_counts.sum() * cur_counts.sum()
    keep = expected > 0
    if (cur_counts[~keep] > 0).any():  # a category the reference never had: drift by itself
        return "chisquare", 0.0, P_THRESHOLD, True
    p = float(chisquare(cur_counts[keep], expected[keep]).pvalue)
    return "chisquare", p, P_THRESHOLD, p < P_THRESHOLD


def _numeric_drift(
    ref: np.ndarray[Any, Any], cur: np.ndarray[Any, Any], large: bool
) -> tuple[str, float, float, bool]:
    from scipy.stats import ks_2samp, wasserstein_distance  # loaded when used (~1 s)

    if large:
        norm = float(np.std(ref)) or 0.001  # Evidently's guard for a constant reference
        value = float(wasserstein_distance(ref, cur) / norm)
        return "wasserstein", value, DISTANCE_THRESHOLD, value >= DISTANCE_THRESHOLD
    p = float(ks_2samp(ref, cur).pvalue)
    return "ks", p, P_THRESHOLD, p < P_THRESHOLD


def column_drift(
    name: str, reference: pa.ChunkedArray, current: pa.ChunkedArray
) -> ColumnDrift | None:
    """Drift of one column, or None when either side has no values."""
    numeric = _numeric(reference) and _numeric(current)
    ref, cur = _values(reference, numeric), _values(current, numeric)
    if len(ref) == 0 or len(cur) == 0:
        return None
    if numeric and len(np.unique(ref)) <= 5:
        numeric = False
        ref, cur = ref.astype(str).astype(object), cur.astype(str).astype(object)
    large = len(ref) > LARGE
    method, value, threshold, drifted = (
        _numeric_drift(ref, cur, large) if numeric else _categorical(ref, cur, large)
    )
    kind = "numeric" if numeric else "categorical"
    return ColumnDrift(name, kind, method, value, threshold, drifted, len(ref), len(cur))


def compare(
    reference: pa.Table, current: pa.Table, columns: list[str] | None = None
) -> DriftReport:
    """Per-column drift of ``current`` against ``reference`` (columns both have, no ``_meta``)."""
    names = columns or [
        c for c in reference.column_names if c in current.column_names and not c.startswith("_")
    ]
    report = DriftReport()
    for name in names:
        result = column_drift(name, reference.column(name), current.column(name))
        if result is not None:
            report.columns.append(result)
    if report.columns:
        report.share = sum(c.drifted for c in report.columns) / len(report.columns)
        report.drifted = report.share >= DATASET_SHARE
    return report
