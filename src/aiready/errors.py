"""The aiready exception tree.

Every error carries the identifiers it concerns (dataset, file, contract, rule, row …) as
attributes; ``attrs()`` returns them so the CLI, the HTTP service and MLflow report the same
fields. Catch at the edges (CLI, HTTP), nowhere else.

    AireadyError                 root of everything aiready raises
    ├── ConfigError              aiready.yaml missing, unparsable or invalid (exit 2)
    ├── ContractError            contract missing, unparsable or failing the ODCS schema (exit 2)
    ├── SourceError              source missing, empty glob, or file unreadable (exit 2)
    ├── GateFailedError          a quality gate rejected a batch as a whole (exit 1)
    ├── StorageError             a Delta read/write failed (not a conflict)
    │   └── CommitConflictError  a Delta commit lost a race; transient, retried with backoff
    ├── NotFoundError            a dataset, batch or row named by the caller does not exist (exit 2)
    └── BatchStateError          a batch is in a state that forbids the step asked for (exit 2)

``TransientError`` marks errors that a retry may cure; ``TerminalError`` those it cannot.
"""

from __future__ import annotations

from typing import Any


class TransientError:
    """Mixin: retrying the same operation may succeed (Delta commit races)."""


class TerminalError:
    """Mixin: retrying cannot succeed until a person changes data, contract or config."""


class AireadyError(Exception):
    """Root of all aiready errors; ``attrs()`` gives the identifiers for reports."""

    exit_code = 3

    def __init__(self, message: str, **attrs: Any) -> None:
        self._attrs = {k: v for k, v in attrs.items() if v is not None}
        where = ", ".join(f"{k}={v}" for k, v in self._attrs.items())
        super().__init__(f"{message} ({where})" if where else message)
        self.message = message
        for key, value in self._attrs.items():
            setattr(self, key, value)

    def attrs(self) -> dict[str, Any]:
        """The identifiers this error concerns plus its message and type."""
        return {"error": type(self).__name__, "message": self.message, **self._attrs}


class ConfigError(AireadyError, TerminalError):
    """``aiready.yaml`` is missing, unparsable or invalid; names the file and key."""

    exit_code = 2


class ContractError(AireadyError, TerminalError):
    """A data contract is missing, unparsable or invalid; names the file and YAML path."""

    exit_code = 2


class SourceError(AireadyError, TerminalError):
    """A source is missing, matches no file, or a file cannot be read; names the file."""

    exit_code = 2


class GateFailedError(AireadyError, TerminalError):
    """A quality gate rejected a batch as a whole; nothing of it was published."""

    exit_code = 1


class StorageError(AireadyError):
    """A Delta table could not be read or written."""

    exit_code = 3


class CommitConflictError(StorageError, TransientError):
    """A Delta commit lost a race with another writer; retried with backoff."""


class NotFoundError(AireadyError, TerminalError):
    """A dataset, batch or quarantined row named by the caller does not exist."""

    exit_code = 2


class BatchStateError(AireadyError, TerminalError):
    """A batch cannot take this step in its state (e.g. abandon a refined batch: retract it)."""

    exit_code = 2
