"""The audit chain's cryptography: keyed record MACs and the MAC'd head anchored outside the table.

A record's ``mac`` is HMAC-SHA256 under the workspace secret (``storage/secret.py``) over the
previous record's ``mac`` and this record's canonical fields, ``key_id`` included: without the
secret nobody can recompute the chain after an edit, forge a record or re-chain a flipped
decision. Records written before the keyed chain (``key_id`` null) carry the old unkeyed sha256
``hash`` (``record_hash``) and are accepted only as a prefix, sealed by the first keyed record.

The head (last folded ``seq``, its ``mac``, the signing key and the Delta version) is written at
every fold to ``.aiready/audit.head`` — beside the secret, outside the lake, mode 0600, itself
MAC'd — so removing records, commits or the whole table back to that head is detected.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aiready.policy.errors import AuditTampered
from aiready.storage.secret import KeyRing

GENESIS = "0" * 64
HEAD_FILE = "audit.head"
FIELDS = (
    "seq",
    "at",
    "principal",
    "action",
    "resource",
    "purpose",
    "decision",
    "policies",
    "reason",
)
_HEAD_DOMAIN = b"aiready-audit-head\x00"  # a record MAC can never pass as a head MAC


def _canonical(record: dict[str, Any], fields: tuple[str, ...]) -> str:
    body = {k: record[k] for k in fields}
    body["at"] = record["at"].isoformat()
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_hash(prev: str, record: dict[str, Any]) -> str:
    """The legacy unkeyed link (aiready before the keyed chain): sha256, anyone can recompute it."""
    return hashlib.sha256((prev + _canonical(record, FIELDS)).encode()).hexdigest()


def record_mac(key: bytes, prev: str, record: dict[str, Any]) -> str:
    """The keyed link: HMAC-SHA256(secret, prev_mac + canonical fields and key_id)."""
    message = (prev + _canonical(record, (*FIELDS, "key_id"))).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def head_path(state: Path) -> Path:
    """``<workspace>/.aiready/audit.head``."""
    return state / HEAD_FILE


@dataclass(frozen=True)
class Head:
    """An anchor of the chain: record ``seq`` had ``mac`` and was in Delta ``version``."""

    seq: int
    mac: str
    key_id: str | None
    version: int
    signed_by: str
    sig: str

    @staticmethod
    def make(ring: KeyRing, seq: int, mac: str, key_id: str | None, version: int) -> Head:
        sig = _head_sig(ring.key, seq, mac, key_id, version)
        return Head(seq, mac, key_id, version, ring.current, sig)

    def asdict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def parse(body: Any, ring: KeyRing, where: str) -> Head:
        """A head from its JSON body, its MAC checked; ``AuditTampered`` naming ``where`` else."""
        try:
            head = Head(
                int(body["seq"]),
                str(body["mac"]),
                None if body["key_id"] is None else str(body["key_id"]),
                int(body["version"]),
                str(body["signed_by"]),
                str(body["sig"]),
            )
        except (KeyError, TypeError, ValueError):
            raise AuditTampered(f"the audit head {where} is unreadable", file=where) from None
        key = ring.keys.get(head.signed_by)
        expected = None if key is None else _head_sig(key, *head.fields())
        if expected is None or not hmac.compare_digest(expected, head.sig):
            raise AuditTampered(f"the audit head {where} was altered (its MAC fails)", file=where)
        return head

    def fields(self) -> tuple[int, str, str | None, int]:
        return self.seq, self.mac, self.key_id, self.version


def _head_sig(key: bytes, seq: int, mac: str, key_id: str | None, version: int) -> str:
    body = json.dumps([seq, mac, key_id, version], separators=(",", ":")).encode()
    return hmac.new(key, _HEAD_DOMAIN + body, hashlib.sha256).hexdigest()


def write_head(state: Path, head: Head) -> None:
    """Atomically replace the head file (0600): a crash leaves the old head or the new one."""
    path = head_path(state)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(head.asdict(), f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(state, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_head(state: Path, ring: KeyRing) -> Head | None:
    """The anchored head, or None before the first keyed fold; altered or garbled → tampered."""
    path = head_path(state)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        body = json.loads(raw)
    except ValueError:
        raise AuditTampered(f"the audit head {path} is unreadable", file=str(path)) from None
    return Head.parse(body, ring, str(path))
