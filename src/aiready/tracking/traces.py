"""MLflow traces for AI-facing requests (``/retrieve``, ``/query``) and feedback as assessments.

Traces go to the workspace's own store (the fluent API is pointed at it once per process) and are
tagged ``aiready.principal``, ``aiready.purpose``, ``aiready.datasets``, ``aiready.decision``, so a
governance reader can filter them in the MLflow UI or with ``mlflow.search_traces``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiready import _env
from aiready.config.paths import Paths
from aiready.tracking.mlflow_tracker import enabled, tracking_uri

_setup = threading.Lock()


class Span:
    """What a traced request may add to its span (a no-op when MLflow is off)."""

    def __init__(self, live: Any | None) -> None:
        self._live = live
        self.trace_id: str | None = live.trace_id if live is not None else None

    def outputs(self, outputs: dict[str, Any], tags: dict[str, str], **attributes: Any) -> None:
        if self._live is not None:
            import mlflow

            self._live.set_outputs(outputs)
            self._live.set_attributes(attributes)
            mlflow.update_current_trace(tags=tags)


class Tracer:
    """One per workspace and process."""

    def __init__(self, experiment: str, paths: Paths) -> None:
        self.experiment = experiment
        self.paths = paths
        self.enabled = enabled()
        self._ready = False

    def _ensure(self) -> None:
        with _setup:
            if self._ready:
                return
            os.environ[_env.MLFLOW_DISABLE_TELEMETRY] = "true"
            for noisy in ("mlflow", "alembic"):
                logging.getLogger(noisy).setLevel(logging.WARNING)
            import mlflow

            self.paths.state.mkdir(parents=True, exist_ok=True)
            mlflow.set_tracking_uri(tracking_uri(self.paths))
            mlflow.set_experiment(self.experiment)
            self._ready = True

    @contextmanager
    def span(
        self, name: str, kind: str, inputs: dict[str, Any], tags: dict[str, str]
    ) -> Iterator[Span]:
        if not self.enabled:
            yield Span(None)
            return
        self._ensure()
        import mlflow

        with mlflow.start_span(name=name, span_type=kind) as live:
            live.set_inputs(inputs)
            mlflow.update_current_trace(tags=tags)
            yield Span(live)

    def feedback(
        self, trace_id: str, name: str, value: Any, principal: str, rationale: str | None
    ) -> None:
        """Attach a human assessment to a trace (after the trace is persisted)."""
        if not self.enabled:
            return
        self._ensure()
        import mlflow
        from mlflow.entities import AssessmentSource

        mlflow.flush_trace_async_logging()
        mlflow.log_feedback(
            trace_id=trace_id,
            name=name,
            value=value,
            source=AssessmentSource(source_type="HUMAN", source_id=principal),
            rationale=rationale,
        )
