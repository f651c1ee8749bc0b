"""Data contracts: ODCS v3 loading, JSON-Schema validation, compilation to Rules."""

from aiready.contracts.loader import (
    LoadedContract,
    SchemaIssue,
    load_contract,
    load_yaml,
    schema_errors,
)
from aiready.contracts.rules import Column, CompiledContract, Limit, Rule, compile_contract
from aiready.contracts.unexecuted import NotExecuted, refuse_if_strict
from aiready.contracts.versions import SUPPORTED_VERSIONS

__all__ = [
    "SUPPORTED_VERSIONS",
    "Column",
    "CompiledContract",
    "Limit",
    "LoadedContract",
    "NotExecuted",
    "Rule",
    "SchemaIssue",
    "compile_contract",
    "load_contract",
    "load_yaml",
    "refuse_if_strict",
    "schema_errors",
]
