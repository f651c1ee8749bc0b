"""MLflow evidence: runs, metrics, dataset inputs and gate-report artifacts."""

from aiready.tracking.mlflow_tracker import Tracker, metric_key, tracking_uri

__all__ = ["Tracker", "metric_key", "tracking_uri"]
