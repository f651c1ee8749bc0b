"""A misspelt contract key is named with the key it was probably meant to be, not a symptom."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiready.contracts import load_contract
from aiready.errors import ContractError

DATA = Path(__file__).parents[1] / "data" / "nycflights13" / "flights.odcs.yaml"


@pytest.mark.parametrize(
    ("good", "bad", "where"),
    [
        ("logicalType: timestamp", "logicalTyp: timestamp", "schema[0].properties[18].logicalTyp"),
        ("required: true}", "requierd: true}", "schema[0].properties[0].requierd"),
        ("    quality:\n", "    qualty:\n", "schema[0].properties[12].qualty"),
        ("version: 1.0.0", "verison: 1.0.0", "verison"),
        ("logicalTypeOptions: {minimum: 1", "logicalTypeOption: {minimum: 1", None),
    ],
)
def test_typo_is_named_with_the_closest_key(
    tmp_path: Path, good: str, bad: str, where: str | None
) -> None:
    text = DATA.read_text()
    assert good in text
    path = tmp_path / "c.yaml"
    path.write_text(text.replace(good, bad, 1))
    with pytest.raises(ContractError) as err:
        load_contract(path)
    key = bad.split(":")[0].strip()
    assert err.value.message.startswith(f"unknown key {key!r}; did you mean")
    assert err.value.attrs()["file"] == str(path)
    if where:
        assert err.value.attrs()["path"] == where


def test_user_keys_in_free_form_places_are_not_typos(tmp_path: Path) -> None:
    text = DATA.read_text() + (
        "customProperties:\n  - property: allowedPurposes\n    value: {logicalTyp: x}\n"
    )
    path = tmp_path / "c.yaml"
    path.write_text(text)
    load_contract(path)  # a custom property's value is the user's: no typo check inside it
