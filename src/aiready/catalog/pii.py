"""A PII scanner that validates, not just matches: checksums and numbering plans, not regex alone.

Detectors: e-mail addresses, phone numbers (libphonenumber via ``phonenumbers``), IBANs,
payment card numbers (Luhn and a card-number prefix), and national ids (US SSN in its dashed
form, Dutch BSN, Spanish DNI, French NIR, via ``python-stdnum``). A column holds PII when at
least ``THRESHOLD`` of its sampled non-null values pass one detector. The sample is drawn from
the whole table (seeded, so a rerun sees the same rows), not its first rows: PII that only starts
after the head, or sits in a regular stride, is still found.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import phonenumbers
import pyarrow as pa
import pyarrow.dataset as pads
from stdnum import iban, luhn
from stdnum.es import dni
from stdnum.fr import nir
from stdnum.nl import bsn
from stdnum.us import ssn

THRESHOLD = 0.3
SAMPLE = 2000
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_CARD_PREFIX = re.compile(r"(4|5[1-5]|2[2-7]|3[47]|6(011|5))")
_SSN = re.compile(r"\d{3}-\d{2}-\d{4}")


def _email(v: str) -> bool:
    return bool(_EMAIL.fullmatch(v))


def _phone(v: str) -> bool:
    if sum(ch.isdigit() for ch in v) < 7 or not re.fullmatch(r"[+\d\s().\-/]+", v):
        return False
    try:
        number = phonenumbers.parse(v, None if v.startswith("+") else "US")
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(number))


def _card(v: str) -> bool:
    digits = re.sub(r"[\s\-]", "", v)
    return (
        digits.isdigit()
        and 13 <= len(digits) <= 19
        and bool(_CARD_PREFIX.match(digits))
        and bool(luhn.is_valid(digits))
    )


def _national_id(v: str) -> bool:
    if _SSN.fullmatch(v):
        return bool(ssn.is_valid(v))
    compact = v.replace(" ", "").replace(".", "")
    return any(check(compact) for check in (bsn.is_valid, dni.is_valid, nir.is_valid))


DETECTORS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("email", _email),
    ("iban", lambda v: bool(iban.is_valid(v))),
    ("card_number", _card),
    ("national_id", _national_id),
    ("phone", _phone),
)


def detect(value: str) -> str | None:
    """The kind of PII ``value`` is, or None."""
    v = value.strip()
    if not v or len(v) > 64:
        return None
    return next((kind for kind, check in DETECTORS if check(v)), None)


@dataclass
class Finding:
    """A column whose sampled values are mostly one kind of PII."""

    dataset: str
    column: str
    kind: str
    share: float
    sampled: int
    classified: bool
    """Whether the contract tags it pii/pii:* or gives it a classification."""

    def asdict(self) -> dict[str, Any]:
        return asdict(self)


def sample(dataset: pads.Dataset, n: int = SAMPLE, seed: int = 0) -> pa.Table:
    """``n`` string columns' rows drawn uniformly from the whole of ``dataset`` (all if fewer)."""
    columns = [f.name for f in dataset.schema if pa.types.is_string(f.type)]
    total = dataset.count_rows()
    if total <= n:
        return dataset.to_table(columns=columns)
    rows = sorted(random.Random(f"{seed}:{total}").sample(range(total), n))
    return dataset.take(pa.array(rows, pa.int64()), columns=columns)


def scan_table(name: str, table: pa.Table, contract_raw: dict[str, Any]) -> list[Finding]:
    """Findings for every string column of ``table`` (a sample)."""
    props = {
        str(p["name"]): p
        for obj in contract_raw.get("schema") or []
        for p in obj.get("properties") or []
    }
    findings = []
    for column in table.column_names:
        if column.startswith("_") or not pa.types.is_string(table.schema.field(column).type):
            continue
        values = [v for v in table.column(column).to_pylist() if v]
        kinds = Counter(k for k in (detect(str(v)) for v in values) if k)
        if not values or not kinds:
            continue
        kind, hits = kinds.most_common(1)[0]
        if hits / len(values) >= THRESHOLD:
            prop = props.get(column, {})
            tags = [str(t).lower() for t in prop.get("tags") or []]
            classified = bool(prop.get("classification")) or any(
                t == "pii" or t.startswith("pii:") for t in tags
            )
            findings.append(
                Finding(name, column, kind, round(hits / len(values), 3), len(values), classified)
            )
    return findings
