"""aiready: make an organisation's data AI-ready and keep it that way.

Bronze (raw, append-only) → silver (validated against an ODCS v3 data contract, failing rows
quarantined with reasons) on Delta Lake, with every step recorded as evidence in MLflow.

    >>> import aiready
    >>> ws = aiready.Workspace.load("shop")          # doctest: +SKIP
    >>> ws.run().raise_on_failure()                  # doctest: +SKIP
"""

from aiready.config.models import LineageConfig, RetrievalConfig
from aiready.contracts import (
    Column,
    CompiledContract,
    Limit,
    LoadedContract,
    NotExecuted,
    Rule,
    compile_contract,
    load_contract,
)
from aiready.contracts.diff import ContractChange, ContractDiff, diff_contracts
from aiready.contracts.export import export_contract
from aiready.contracts.importer import import_sql
from aiready.contracts.lint import ContractProblem, lint_contract
from aiready.drift import ColumnDrift, DriftReport, DriftResult
from aiready.errors import (
    AireadyError,
    BatchStateError,
    CommitConflictError,
    ConfigError,
    ContractError,
    GateFailedError,
    NotFoundError,
    SourceError,
    StorageError,
    TerminalError,
    TransientError,
)
from aiready.feedback import (
    Correction,
    DecisionRecord,
    Hallucination,
    Outcome,
    Rating,
    RetrievalFailure,
)
from aiready.gates import GateReport, RuleResult
from aiready.layers.batches import BatchChange, BatchInfo
from aiready.layers.gold import PublishResult
from aiready.layers.results import (
    FileIngest,
    IngestResult,
    RefineResult,
    ReplayResult,
    RunResult,
)
from aiready.policy import AccessDenied, AuditTampered, Decision, PolicyError
from aiready.reasons import Category, ReasonCode
from aiready.retrieval import Hit, RetrieveResult
from aiready.workspace import DatasetConfig, ModelConfig, Workspace, WorkspaceConfig

__version__ = "0.1.0"


def track_training(
    target: str, datasets: list[str], workspace: str | None = None, context: str = "training"
) -> dict[str, int]:
    """Record on an MLflow run or registered model which certified gold versions it used.

    ``target`` is a run id, ``runs:/<run_id>/…`` or ``models:/<name>/<version>`` (or ``@alias``)
    in the workspace's MLflow store. Returns ``{model: gold version}``.
    """
    return Workspace.load(workspace).track_training(target, datasets, context)


def read_certified(model: str, workspace: str | None = None) -> object:
    """The newest certified, fresh version of gold ``model`` as an Arrow table (time travel).

    Never an uncertified newer version; raises NotFoundError when no version qualifies.
    """
    return Workspace.load(workspace).read_certified(model)


__all__ = [
    "AccessDenied",
    "AireadyError",
    "AuditTampered",
    "BatchChange",
    "BatchInfo",
    "BatchStateError",
    "Category",
    "Column",
    "ColumnDrift",
    "CommitConflictError",
    "CompiledContract",
    "ConfigError",
    "ContractChange",
    "ContractDiff",
    "ContractError",
    "ContractProblem",
    "Correction",
    "DatasetConfig",
    "Decision",
    "DecisionRecord",
    "DriftReport",
    "DriftResult",
    "FileIngest",
    "GateFailedError",
    "GateReport",
    "Hallucination",
    "Hit",
    "IngestResult",
    "Limit",
    "LineageConfig",
    "LoadedContract",
    "ModelConfig",
    "NotExecuted",
    "NotFoundError",
    "Outcome",
    "PolicyError",
    "PublishResult",
    "Rating",
    "ReasonCode",
    "RefineResult",
    "ReplayResult",
    "RetrievalConfig",
    "RetrievalFailure",
    "RetrieveResult",
    "Rule",
    "RuleResult",
    "RunResult",
    "SourceError",
    "StorageError",
    "TerminalError",
    "TransientError",
    "Workspace",
    "WorkspaceConfig",
    "compile_contract",
    "diff_contracts",
    "export_contract",
    "import_sql",
    "lint_contract",
    "load_contract",
    "read_certified",
    "track_training",
]
