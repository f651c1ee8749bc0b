"""API keys: shown once, stored as a salted hash, each bound to one principal.

A key is ``ark_<id>_<secret>`` with a 256-bit random secret. ``.aiready/keys.json`` keeps the id,
principal, salt and ``sha256(salt + secret)``; a random 256-bit secret needs no slow KDF (there is
nothing to brute-force offline), and the id lets a lookup compare one hash in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiready.config.paths import Paths
from aiready.errors import NotFoundError
from aiready.storage import dataset_lock

PREFIX = "ark"


@dataclass(frozen=True)
class KeyRecord:
    id: str
    principal: str
    salt: str
    hash: str
    created_at: str
    revoked: bool = False

    def public(self) -> dict[str, Any]:
        """What may be shown: never the salt or the hash."""
        return {k: v for k, v in asdict(self).items() if k not in ("salt", "hash")}


def _file(paths: Paths) -> Path:
    return paths.state / "keys.json"


def _load(paths: Paths) -> list[KeyRecord]:
    path = _file(paths)
    if not path.is_file():
        return []
    return [KeyRecord(**r) for r in json.loads(path.read_text(encoding="utf-8"))]


def _save(paths: Paths, records: list[KeyRecord]) -> None:
    path = _file(paths)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([asdict(r) for r in records], indent=2), encoding="utf-8")
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode()).hexdigest()


def create(paths: Paths, principal: str) -> tuple[str, KeyRecord]:
    """A new key for ``principal``: returns (the key, shown only now; its record)."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    record = KeyRecord(
        key_id, principal, salt, _digest(salt, secret), datetime.now(UTC).isoformat()
    )
    with dataset_lock(paths.locks, "_keys"):
        _save(paths, [*_load(paths), record])
    return f"{PREFIX}_{key_id}_{secret}", record


def revoke(paths: Paths, key_id: str) -> KeyRecord:
    with dataset_lock(paths.locks, "_keys"):
        records = _load(paths)
        found = [r for r in records if r.id == key_id]
        if not found:
            raise NotFoundError(f"no API key with id {key_id!r}", key=key_id)
        records = [
            KeyRecord(**{**asdict(r), "revoked": True}) if r.id == key_id else r for r in records
        ]
        _save(paths, records)
    return KeyRecord(**{**asdict(found[0]), "revoked": True})


def listing(paths: Paths) -> list[KeyRecord]:
    return _load(paths)


@dataclass(frozen=True)
class Identity:
    """Who a presented key proves to be, and what the audit may say about it."""

    principal: str | None
    """The key's principal; None when the key is refused."""
    key_id: str | None
    """The id of the stored key it names (refused or not); None for a key naming none."""
    reason: str

    def audited_as(self) -> str:
        """The principal the audit names: never text the caller chose, never a secret."""
        return self.principal or (f"key:{self.key_id}" if self.key_id else "anonymous")


def authenticate(paths: Paths, key: str) -> Identity:
    """Check ``key``: malformed, unknown, revoked or wrong keys are refused with a reason."""
    parts = key.split("_", 2)
    if not key:
        return Identity(None, None, "no API key")
    if len(parts) != 3 or parts[0] != PREFIX:
        return Identity(None, None, "malformed API key")
    _, key_id, secret = parts
    for record in _load(paths):
        if record.id != key_id:
            continue
        if not hmac.compare_digest(record.hash, _digest(record.salt, secret)):
            return Identity(None, record.id, "wrong API key secret")
        if record.revoked:
            return Identity(None, record.id, "revoked API key")
        return Identity(record.principal, record.id, "valid API key")
    return Identity(None, None, "unknown API key")


def live(paths: Paths, key_id: str) -> bool:
    """Whether the key with ``key_id`` exists and is not revoked (checked on every session use)."""
    return any(r.id == key_id and not r.revoked for r in _load(paths))


def verify(paths: Paths, key: str) -> str | None:
    """The principal a key belongs to, or None (malformed, unknown, revoked or wrong)."""
    return authenticate(paths, key).principal
