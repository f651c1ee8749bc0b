"""Data contracts: ODCS v3 loading, JSON-Schema validation, compilation to Rules."""

from aiready.contracts.loader import LoadedContract, load_contract, load_yaml
from aiready.contracts.rules import Column, CompiledContract, Limit, Rule, compile_contract

__all__ = [
    "Column",
    "CompiledContract",
    "Limit",
    "LoadedContract",
    "Rule",
    "compile_contract",
    "load_contract",
    "load_yaml",
]
