"""Block YAML with a comment on any line, for drafts a person reads and edits.

ruamel.yaml is not a dependency, so the document is laid out here and every scalar (and every
flow list of scalars) is written by PyYAML's own emitter, which quotes and escapes it; only the
indentation and the comments are ours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

_WIDE = 2**30


@dataclass(frozen=True)
class Note:
    """A value with the comment that says what it rests on."""

    value: Any
    comment: str


@dataclass(frozen=True)
class Flow:
    """A list of scalars written on one line (``[EWR, JFK]``)."""

    items: list[Any]


def plain(node: Any) -> Any:
    """The document as data: notes and flow markers removed."""
    if isinstance(node, Note):
        return plain(node.value)
    if isinstance(node, Flow):
        return [plain(v) for v in node.items]
    if isinstance(node, dict):
        return {k: plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    return node


def dump(node: dict[str, Any], header: Sequence[str] = ()) -> str:
    """The YAML text of ``node`` with its notes as comments, after ``header`` comment lines."""
    lines = [f"# {_comment(h)}" if h else "#" for h in header]
    lines += _mapping(node, 0)
    return "\n".join(lines) + "\n"


def _comment(text: str) -> str:
    """One comment line: YAML reads no line break and no unprintable character in a comment."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _emit(value: Any, flow: bool) -> str:
    """One scalar (or a flow list) as PyYAML writes it, on one line."""
    text = yaml.safe_dump(value, default_flow_style=flow, allow_unicode=True, width=_WIDE)
    text = text.removesuffix("\n...\n").rstrip("\n")
    if "\n" in text:  # a value PyYAML would fold over lines: double-quoted escapes instead
        text = yaml.safe_dump(
            value, default_flow_style=flow, allow_unicode=True, width=_WIDE, default_style='"'
        )
        text = text.removesuffix("\n...\n").rstrip("\n")
    return text


def _tail(comment: str | None) -> str:
    return f"  # {_comment(comment)}" if comment else ""


def _unwrap(node: Any) -> tuple[Any, str | None]:
    if isinstance(node, Note):
        return node.value, node.comment
    return node, None


def _mapping(node: dict[str, Any], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for key, raw in node.items():
        value, comment = _unwrap(raw)
        head = f"{pad}{_emit(key, False)}:"
        if isinstance(value, Flow):
            lines.append(f"{head} {_emit(plain(value), True)}{_tail(comment)}")
        elif isinstance(value, dict) and value:
            lines.append(head + _tail(comment))
            lines += _mapping(value, indent + 2)
        elif isinstance(value, list) and value:
            lines.append(head + _tail(comment))
            lines += _sequence(value, indent + 2)
        else:
            lines.append(f"{head} {_emit(plain(value), True)}{_tail(comment)}")
    return lines


def _sequence(items: list[Any], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for raw in items:
        value, comment = _unwrap(raw)
        if isinstance(value, dict) and value:
            if comment:
                lines.append(f"{pad}# {_comment(comment)}")
            inner = _mapping(value, indent + 2)
            lines.append(f"{pad}- {inner[0][indent + 2 :]}")
            lines += inner[1:]
        else:
            lines.append(f"{pad}- {_emit(plain(value), True)}{_tail(comment)}")
    return lines
