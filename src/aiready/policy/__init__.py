"""Policy-based access (Cedar) and the hash-chained audit log."""

from aiready.policy.engine import ACTIONS, Decision, PolicyEngine
from aiready.policy.errors import AccessDenied, AuditTampered, PolicyError

__all__ = ["ACTIONS", "AccessDenied", "AuditTampered", "Decision", "PolicyEngine", "PolicyError"]
