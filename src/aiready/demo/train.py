"""The demo's "AI use case": a tiny churn-risk model trained on certified gold only."""

from __future__ import annotations

import os
from typing import Any

from aiready import _env
from aiready.tracking import tracking_uri
from aiready.workspace import Workspace


def train_churn_model(ws: Workspace) -> dict[str, Any]:
    """Train on ``read_certified('customer_value')``, register it, link it to its data."""
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        return {"skipped": "scikit-learn is not installed (pip install scikit-learn)"}
    os.environ[_env.MLFLOW_DISABLE_TELEMETRY] = "true"
    import mlflow
    import mlflow.sklearn
    import numpy as np

    table = ws.read_certified("customer_value")
    columns = [
        table.column(c).to_numpy(zero_copy_only=False).astype(float)
        for c in ("payments", "total_spent", "refunds")
    ]
    features = np.column_stack(columns)
    labels = ((columns[0] < 8) | (columns[2] > 0)).astype(int)  # few payments or a refund
    mlflow.set_tracking_uri(tracking_uri(ws.paths))
    mlflow.set_experiment(ws.config.name)
    with mlflow.start_run(run_name="train:churn_risk"):
        model = LogisticRegression(max_iter=200).fit(features, labels)
        mlflow.log_metric("train_accuracy", float(model.score(features, labels)))
        signature = mlflow.models.infer_signature(features, model.predict(features))
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            registered_model_name="churn_risk",
            signature=signature,
            pip_requirements=["scikit-learn"],
        )
    uri = f"models:/churn_risk/{info.registered_model_version}"
    used = ws.track_training(uri, ["customer_value"])
    check = ws.check_model(uri)
    return {"model_uri": uri, "trained_on": used, "check_model_ok": check.ok}
