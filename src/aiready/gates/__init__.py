"""Quality gates: results of running contract rules on a batch."""

from aiready.gates.report import GateReport, RuleResult

__all__ = ["GateReport", "RuleResult"]
