"""The AI-readiness scorecard: trusted, controlled, contextual, actionable, self-improving."""

from aiready.scorecard.score import PROPERTIES, score

__all__ = ["PROPERTIES", "score"]
