"""Header mapping: which name each source column is stored under, and every ambiguity refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiready import SourceError
from aiready.sources.headers import bronze_names

F = Path("data/a.csv")


def test_case_and_spaces_map_to_the_contract_name() -> None:
    names = bronze_names(F, ["ID", " Email ", "note"], ["id", "email"], [])
    assert names == {"ID": "id", " Email ": "email", "note": "note"}


def test_exact_contract_name_wins_over_a_case_match() -> None:
    contract = ["email", "Email"]  # a contract may declare both spellings
    assert bronze_names(F, ["Email"], contract, []) == {"Email": "Email"}
    with pytest.raises(SourceError, match="matches contract columns") as info:
        bronze_names(F, ["EMAIL"], contract, [])
    assert info.value.attrs()["file"] == str(F)


def test_two_source_columns_on_one_name_are_refused_naming_both() -> None:
    with pytest.raises(SourceError) as info:
        bronze_names(F, ["email", "Email"], ["email"], [])
    assert "'email'" in info.value.message and "'Email'" in info.value.message
    with pytest.raises(SourceError, match="differ only in case"):  # not in the contract either
        bronze_names(F, ["x", "X "], [], [])


def test_unknown_column_follows_the_spelling_bronze_holds() -> None:
    assert bronze_names(F, ["NOTE"], ["id"], ["id", "Note"]) == {"NOTE": "Note"}


def test_contract_spelling_clashing_with_bronze_is_refused_with_a_way_out() -> None:
    with pytest.raises(SourceError, match="name the contract column 'Note'"):
        bronze_names(F, ["note"], ["note"], ["Note"])
