"""What users and outcomes say about AI answers: one validated payload per kind.

The same models validate HTTP bodies (a 422 names the field), CLI input and Python calls.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Short = Annotated[str, Field(min_length=1, max_length=512)]
Text = Annotated[str, Field(min_length=1, max_length=20_000)]
Name = Annotated[str, Field(min_length=1, max_length=63, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    purpose: Short
    """Why the caller acts (authorised like every other request)."""
    idempotency_key: Short | None = None
    """A retried POST with the same key is stored once (default: a hash of the payload)."""
    trace_id: Short | None = None
    """The MLflow trace of the answer this is about; the feedback is attached to it."""
    model_version: Short | None = None
    prompt_version: Short | None = None


class Correction(_Base):
    kind: Literal["correction"] = "correction"
    dataset: Name
    record_key: Short
    column: Name
    current_value: Text | None = None
    proposed_value: Text
    evidence: Text | None = None


class Hallucination(_Base):
    kind: Literal["hallucination"] = "hallucination"
    answer: Text
    claim: Text
    dataset: Name | None = None
    cited: list[Short] = Field(default_factory=list, max_length=100)


class RetrievalFailure(_Base):
    kind: Literal["retrieval_failure"] = "retrieval_failure"
    query: Text
    expected: Short | None = None
    """The record key that should have come back, or None for "nothing relevant"."""
    dataset: Name | None = None


class Rating(_Base):
    kind: Literal["rating"] = "rating"
    score: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    thumbs: Literal["up", "down"] | None = None
    comment: Text | None = None
    dataset: Name | None = None


class DecisionRecord(_Base):
    kind: Literal["decision"] = "decision"
    recommendation: Text
    action: Literal["accepted", "overridden"]
    dataset: Name | None = None
    gold_version: Annotated[int, Field(ge=0)] | None = None
    note: Text | None = None


class Outcome(_Base):
    kind: Literal["outcome"] = "outcome"
    decision_id: Short
    result: Short
    value: float | None = None
    observed_at: datetime | None = None


Feedback = Correction | Hallucination | RetrievalFailure | Rating | DecisionRecord | Outcome
KINDS: dict[str, type[_Base]] = {
    "correction": Correction,
    "hallucination": Hallucination,
    "retrieval_failure": RetrievalFailure,
    "rating": Rating,
    "decision": DecisionRecord,
    "outcome": Outcome,
}
