"""Map a file's header onto the names bronze uses: the contract's, then bronze's own.

Tools export headers as ``Email`` or `` email ``; a contract says ``email``. A source column that
equals a contract column except for case and surrounding spaces is read under the contract's
name when exactly one contract column matches; otherwise under the name bronze already holds for
it. Two source columns landing on one name (``Email`` and ``email``) are an ambiguity: the file
is refused, naming both, and the other files of the ingest still land.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from aiready.errors import SourceError


def _key(name: str) -> str:
    return name.strip().casefold()


def _by_key(names: Iterable[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name in names:
        out.setdefault(_key(name), []).append(name)
    return out


def bronze_names(
    path: Path, header: list[str], contract: Iterable[str], bronze: Iterable[str]
) -> dict[str, str]:
    """Source column → the name it is stored under; raises SourceError on an ambiguity."""
    declared, held = set(contract), _by_key(bronze)
    candidates = _by_key(declared)
    out: dict[str, str] = {}
    for name in header:
        matches = [name] if name in declared else candidates.get(_key(name), [])
        if len(matches) > 1:
            raise SourceError(
                f"column {name!r} matches contract columns {sorted(matches)} "
                "except for case: rename it",
                file=str(path),
            )
        out[name] = matches[0] if matches else (held.get(_key(name)) or [name])[0]
    targets: dict[str, list[str]] = {}
    for source, target in out.items():
        targets.setdefault(_key(target), []).append(source)
    for key, sources in targets.items():
        if len(sources) > 1:
            raise SourceError(
                f"columns {sources} differ only in case or spaces and would all be read as "
                f"{out[sources[0]]!r}: rename or drop one",
                file=str(path),
            )
        stored = held.get(key, [])
        if stored and out[sources[0]] not in stored:
            raise SourceError(
                f"column {sources[0]!r} would be read as {out[sources[0]]!r}, but bronze "
                f"already holds it as {stored[0]!r} (Delta names ignore case): name the contract "
                f"column {stored[0]!r}",
                file=str(path),
            )
    return out
