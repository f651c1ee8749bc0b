"""Audit heads anchored in MLflow: a second copy of the head, outside the lake and the head file.

``aiready audit verify`` records the head it has just verified as a small run (step
``audit-anchor``: the MAC'd head as a tag, its ``seq`` as a metric), and checks the newest such
run on the next verify. Anchoring at verify rather than at every fold keeps MLflow (an import of
seconds and ~25 ms a run) out of every process that decides, and means MLflow only ever holds
heads that were verified whole. The head holds MACs and ids, never the secret.
"""

from __future__ import annotations

import json
from typing import Any

from aiready.tracking.mlflow_tracker import Tracker, tracking_uri

STEP = "audit-anchor"
HEAD_TAG = "aiready.audit.head"


def newest(tracker: Tracker) -> tuple[str, dict[str, Any]] | None:
    """The newest anchor as (where, head body), or None when none was recorded (or MLflow is off).

    A body that is not JSON is returned as an empty dict, so verify names the run as altered.
    """
    if not tracker.enabled:
        return None
    local = tracking_uri(tracker.paths) == f"sqlite:///{tracker.paths.mlflow_db}"
    if local and not tracker.paths.mlflow_db.is_file():  # no store yet: nothing was anchored
        return None
    runs = tracker.client.search_runs(
        [tracker.experiment_id],
        filter_string=f"tags.`aiready.step` = '{STEP}'",
        order_by=["metrics.audit_seq DESC", "attributes.start_time DESC"],
        max_results=1,
    )
    if not runs:
        return None
    run = runs[0]
    try:
        body = json.loads(run.data.tags.get(HEAD_TAG, ""))
    except ValueError:
        body = {}
    return f"MLflow anchor run {run.info.run_id}", body if isinstance(body, dict) else {}


def record(tracker: Tracker, head: dict[str, Any], records: int) -> str | None:
    """Record a verified head as one finished run (one ``log_batch``); returns its run id."""
    run_id = tracker.start(STEP)
    tracker.log(
        run_id,
        metrics={"audit_seq": head["seq"], "audit_version": head["version"], "records": records},
        tags={HEAD_TAG: json.dumps(head, sort_keys=True)},
    )
    tracker.finish(run_id, ok=True)
    return run_id
