"""Every environment variable aiready reads, one documented constant each."""

from __future__ import annotations

AIREADY_WORKSPACE = "AIREADY_WORKSPACE"
"""Default workspace directory when ``-w`` is not given (else the current directory)."""

AIREADY_MLFLOW__TRACKING_URI = "AIREADY_MLFLOW__TRACKING_URI"
"""Override the MLflow tracking URI (default ``sqlite:///<workspace>/.aiready/mlflow.db``)."""

AIREADY_MLFLOW__ENABLED = "AIREADY_MLFLOW__ENABLED"
"""Set to ``false`` to skip MLflow evidence (benchmarks only; evidence is on by default)."""

AIREADY_LOCK_TIMEOUT_S = "AIREADY_LOCK_TIMEOUT_S"
"""Seconds to wait for another aiready process holding a dataset's lock (default 600)."""

MLFLOW_DISABLE_TELEMETRY = "MLFLOW_DISABLE_TELEMETRY"
"""MLflow's own switch; set to ``true`` before MLflow is imported (telemetry calls out)."""

AIREADY_SERVICE__TRUSTED_PROXIES = "AIREADY_SERVICE__TRUSTED_PROXIES"
"""Comma-separated proxy addresses whose ``X-Forwarded-For`` the service believes (default none)."""
