"""MLflow as the system of record: one run per step, evidence as params, metrics, inputs, artifacts.

Always an explicit ``sqlite:///<workspace>/.aiready/mlflow.db`` store and artifact folder
(MLflow's defaults write into the current directory), telemetry off, and ``log_batch``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from typing import TYPE_CHECKING, Any

from aiready import _env
from aiready.config.paths import Paths

if TYPE_CHECKING:
    from mlflow import MlflowClient

_BAD_KEY = re.compile(r"[^A-Za-z0-9_\-. /:]")


def metric_key(name: str) -> str:
    """MLflow accepts letters, digits and ``_-. /:`` in keys; anything else becomes ``_``."""
    return _BAD_KEY.sub("_", name)


def tracking_uri(paths: Paths) -> str:
    return os.environ.get(_env.AIREADY_MLFLOW__TRACKING_URI) or f"sqlite:///{paths.mlflow_db}"


def enabled() -> bool:
    return os.environ.get(_env.AIREADY_MLFLOW__ENABLED, "true").lower() not in ("0", "false", "no")


class Tracker:
    """Writes aiready evidence into the workspace's MLflow store; a no-op when disabled."""

    def __init__(self, experiment: str, paths: Paths) -> None:
        self.experiment = experiment
        self.paths = paths
        self._client: MlflowClient | None = None
        self._experiment_id: str | None = None
        self.enabled = enabled()

    @property
    def client(self) -> MlflowClient:
        if self._client is None:
            os.environ[_env.MLFLOW_DISABLE_TELEMETRY] = "true"
            from mlflow import MlflowClient

            for noisy in ("mlflow", "alembic"):  # migrations log at INFO on a new store
                logging.getLogger(noisy).setLevel(logging.WARNING)

            self.paths.state.mkdir(parents=True, exist_ok=True)
            uri = tracking_uri(self.paths)  # the registry too: a global default must not leak in
            self._client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        return self._client

    @property
    def experiment_id(self) -> str:
        if self._experiment_id is None:
            found = self.client.get_experiment_by_name(self.experiment)
            if found is not None:
                self._experiment_id = str(found.experiment_id)
            else:
                self.paths.mlflow_artifacts.mkdir(parents=True, exist_ok=True)
                self._experiment_id = str(
                    self.client.create_experiment(
                        self.experiment, artifact_location=self.paths.mlflow_artifacts.as_uri()
                    )
                )
        return self._experiment_id

    def start(
        self,
        step: str,
        dataset: str | None = None,
        layer: str | None = None,
        parent: str | None = None,
    ) -> str | None:
        """Open a run tagged with step/dataset/layer (a child run when ``parent`` is given)."""
        if not self.enabled:
            return None
        tags = {"aiready.step": step}
        if dataset:
            tags["aiready.dataset"] = dataset
        if layer:
            tags["aiready.layer"] = layer
        if parent:
            tags["mlflow.parentRunId"] = parent
        name = f"{step}:{dataset}" if dataset else step
        run = self.client.create_run(self.experiment_id, tags=tags, run_name=name)
        return str(run.info.run_id)

    def log(
        self,
        run_id: str | None,
        params: dict[str, Any] | None = None,
        metrics: dict[str, float] | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        """Log params, metrics and tags in one ``log_batch`` call."""
        if run_id is None:
            return
        from mlflow.entities import Metric, Param, RunTag

        now = int(time.time() * 1000)
        self.client.log_batch(
            run_id,
            metrics=[Metric(metric_key(k), float(v), now, 0) for k, v in (metrics or {}).items()],
            params=[Param(metric_key(k), str(v)[:6000]) for k, v in (params or {}).items()],
            tags=[RunTag(k, str(v)) for k, v in (tags or {}).items()],
        )

    def log_json(self, run_id: str | None, obj: Any, artifact_file: str) -> None:
        if run_id is not None:
            self.client.log_text(run_id, json.dumps(obj, indent=2, default=str), artifact_file)

    def log_text(self, run_id: str | None, text: str, artifact_file: str) -> None:
        if run_id is not None:
            self.client.log_text(run_id, text, artifact_file)

    def log_table(
        self,
        run_id: str | None,
        name: str,
        table_path: str,
        version: int | None,
        context: str,
        schema: list[str] | None = None,
    ) -> None:
        """Record a Delta table version as a run input; the digest is table + version."""
        if run_id is None or version is None:
            return
        from mlflow.entities import Dataset, DatasetInput, InputTag

        digest = hashlib.sha256(f"{table_path}@{version}".encode()).hexdigest()[:16]
        source = json.dumps({"path": table_path, "version": version, "format": "delta"})
        spec = json.dumps({"mlflow_colspec": [{"name": c, "type": "string"} for c in schema or []]})
        dataset = Dataset(
            name=f"{name}@v{version}",
            digest=digest,
            source_type="delta",
            source=source,
            schema=spec if schema else None,
        )
        self.client.log_inputs(
            run_id, [DatasetInput(dataset, [InputTag("mlflow.data.context", context)])]
        )

    def finish(self, run_id: str | None, ok: bool) -> None:
        if run_id is not None:
            self.client.set_terminated(run_id, "FINISHED" if ok else "FAILED")
