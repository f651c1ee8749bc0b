"""Policy errors (part of the tree rooted at AireadyError)."""

from __future__ import annotations

from aiready.errors import AireadyError, TerminalError


class PolicyError(AireadyError, TerminalError):
    """A policy file does not parse, or a request names an unknown principal or no purpose."""

    exit_code = 2


class AccessDenied(AireadyError, TerminalError):
    """Policy denied the request (deny by default; forbid overrides permit)."""

    exit_code = 1


class AuditTampered(AireadyError, TerminalError):
    """The audit log's hash chain is broken: a record was edited, removed or reordered."""

    exit_code = 1
