"""Why a row or batch failed: a closed set of reason codes, each with a category."""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    """The data-quality dimension a reason belongs to."""

    SCHEMA = "schema"
    COMPLETENESS = "completeness"
    VALIDITY = "validity"
    UNIQUENESS = "uniqueness"
    FRESHNESS = "freshness"
    POLICY = "policy"


class ReasonCode(StrEnum):
    """Reason codes written to ``_reasons[].code`` in quarantine and to gate reports."""

    MALFORMED_RECORD = "malformed_record"
    TYPE_MISMATCH = "type_mismatch"
    MISSING_COLUMN = "missing_column"
    NULL_VALUE = "null_value"
    MISSING_VALUE = "missing_value"
    ROW_COUNT = "row_count"
    OUT_OF_RANGE = "out_of_range"
    INVALID_VALUE = "invalid_value"
    SQL_RULE = "sql_rule"
    DUPLICATE_KEY = "duplicate_key"
    CONFLICTING_DUPLICATE = "conflicting_duplicate"
    MISSING_REFERENCE = "missing_reference"
    STALE_DATA = "stale_data"

    @property
    def category(self) -> Category:
        return _CATEGORY[self]


_CATEGORY = {
    ReasonCode.MALFORMED_RECORD: Category.SCHEMA,
    ReasonCode.TYPE_MISMATCH: Category.SCHEMA,
    ReasonCode.MISSING_COLUMN: Category.SCHEMA,
    ReasonCode.NULL_VALUE: Category.COMPLETENESS,
    ReasonCode.MISSING_VALUE: Category.COMPLETENESS,
    ReasonCode.ROW_COUNT: Category.COMPLETENESS,
    ReasonCode.OUT_OF_RANGE: Category.VALIDITY,
    ReasonCode.INVALID_VALUE: Category.VALIDITY,
    ReasonCode.SQL_RULE: Category.VALIDITY,
    ReasonCode.DUPLICATE_KEY: Category.UNIQUENESS,
    ReasonCode.CONFLICTING_DUPLICATE: Category.UNIQUENESS,
    ReasonCode.MISSING_REFERENCE: Category.VALIDITY,
    ReasonCode.STALE_DATA: Category.FRESHNESS,
}
