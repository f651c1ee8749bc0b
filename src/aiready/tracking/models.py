"""The model ↔ data link: which certified gold versions a model was trained or evaluated on.

``track_training`` records, on the MLflow run (and the registered model version, if given), the
certified gold versions used; ``check_model`` says whether they were certified at training time
and still are.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiready.certification import certify
from aiready.errors import AireadyError, NotFoundError

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from aiready.tracking.source import ModelSource

DATA_TAG = "aiready.data"
_RUN_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass
class ModelCheck:
    """Whether every gold version a model used was, and still is, certified."""

    model_uri: str
    run_id: str
    ok: bool = True
    datasets: list[dict[str, Any]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def asdict(self) -> dict[str, Any]:
        return asdict(self)


def resolve(client: MlflowClient, target: str) -> tuple[str, tuple[str, str] | None]:
    """(run id, registered (name, version) or None) for a run id, runs:/ or models:/ URI."""
    if _RUN_ID.match(target):
        return target, None
    if target.startswith("runs:/"):
        return target.removeprefix("runs:/").split("/", 1)[0], None
    if target.startswith("models:/"):
        ref = target.removeprefix("models:/")
        try:
            if "@" in ref:
                name, alias = ref.split("@", 1)
                mv = client.get_model_version_by_alias(name, alias)
            else:
                name, version = ref.rsplit("/", 1)
                mv = client.get_model_version(name, version)
        except Exception as exc:  # MLflow raises its own RestException for a missing model
            raise NotFoundError(f"no registered model version {target}", model=target) from exc
        if not mv.run_id:
            raise NotFoundError(f"{target} has no MLflow run to read its data from", model=target)
        return str(mv.run_id), (str(mv.name), str(mv.version))
    raise NotFoundError(f"not a run id, runs:/ or models:/ URI: {target}", model=target)


def track_training(
    ws: ModelSource, target: str, datasets: list[str], context: str = "training"
) -> dict[str, int]:
    """Record the certified version of each gold model in ``datasets`` on the model's run."""
    client = ws.tracker.client
    run_id, registered = resolve(client, target)
    used: dict[str, int] = {}
    for name in datasets:
        ws.model(name)
        version = certify.certified_version(ws.paths, name)
        used[name] = version
        columns = [c.name for c in ws.model_contract(name).columns]
        ws.tracker.log_table(
            run_id, f"gold.{name}", str(ws.paths.table("gold", name)), version, context, columns
        )
    value = json.dumps(
        {"datasets": used, "tracked_at": datetime.now(UTC).isoformat(), "workspace": ws.config.name}
    )
    client.set_tag(run_id, DATA_TAG, value)
    for name, version in used.items():
        client.set_tag(run_id, f"{DATA_TAG}.gold.{name}", str(version))
    if registered is not None:
        client.set_model_version_tag(registered[0], registered[1], DATA_TAG, value)
    return used


def check_model(ws: ModelSource, target: str) -> ModelCheck:
    """Fail when a gold version the model used was not certified then, or is not now."""
    client = ws.tracker.client
    run_id, _ = resolve(client, target)
    check = ModelCheck(target, run_id)
    raw = client.get_run(run_id).data.tags.get(DATA_TAG)
    if raw is None:
        check.ok = False
        check.reasons.append("no certified data recorded: call aiready.track_training first")
        return check
    record = json.loads(raw)
    tracked_at = datetime.fromisoformat(record["tracked_at"])
    for name, version in record["datasets"].items():
        check.datasets.append(_dataset_check(ws, name, int(version), tracked_at, check.reasons))
    check.ok = not check.reasons
    return check


def _dataset_check(
    ws: ModelSource, name: str, version: int, tracked_at: datetime, reasons: list[str]
) -> dict[str, Any]:
    try:
        history = [r for r in certify.history(ws.paths, name) if r["gold_version"] == version]
    except AireadyError:
        history = []
    then = [r for r in history if r["evaluated_at"] <= tracked_at]
    at_training = bool(then and then[-1]["certified"])
    now = bool(history and history[-1]["certified"])
    if not at_training:
        reasons.append(f"gold.{name}@v{version} was not certified when the model was trained")
    elif not now:
        why = "; ".join(history[-1]["reasons"])
        reasons.append(f"gold.{name}@v{version} has since been decertified: {why}")
    return {
        "model": name,
        "gold_version": version,
        "certified_at_training": at_training,
        "certified_now": now,
    }
