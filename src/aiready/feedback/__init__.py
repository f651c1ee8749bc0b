"""Feedback loops: corrections, hallucinations, retrieval failures, ratings, decisions, outcomes."""

from aiready.feedback.models import (
    KINDS,
    Correction,
    DecisionRecord,
    Feedback,
    Hallucination,
    Outcome,
    Rating,
    RetrievalFailure,
)
from aiready.feedback.store import FeedbackStore, Stored

__all__ = [
    "KINDS",
    "Correction",
    "DecisionRecord",
    "Feedback",
    "FeedbackStore",
    "Hallucination",
    "Outcome",
    "Rating",
    "RetrievalFailure",
    "Stored",
]
