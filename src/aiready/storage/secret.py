"""The workspace secret: the key behind the audit chain's HMAC and ``hash`` masks.

It lives in ``.aiready/secret.json``, outside the lake (whoever can read the lake's tables
cannot read it through any table), created with mode 0600 and never logged or returned by
any API. It is a key ring: ``current`` names the key new MACs use, and older keys stay so that
what they signed still verifies after a rotation (``aiready secret rotate``).
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from aiready.errors import ConfigError

FILE = "secret.json"


@dataclass(frozen=True)
class KeyRing:
    """Key ids to key bytes; ``current`` is the id new MACs are made with."""

    current: str
    keys: dict[str, bytes]

    @property
    def key(self) -> bytes:
        return self.keys[self.current]

    def __repr__(self) -> str:  # never print key material
        return f"KeyRing(current={self.current!r}, ids={sorted(self.keys)!r})"


def secret_path(state: Path) -> Path:
    """``<workspace>/.aiready/secret.json``."""
    return state / FILE


def _write(path: Path, ring: KeyRing) -> None:
    body = {"current": ring.current, "keys": {k: v.hex() for k, v in ring.keys.items()}}
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(body, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _new_id(existing: dict[str, bytes]) -> str:
    return f"k{len(existing) + 1}-{secrets.token_hex(3)}"


def _read(path: Path) -> KeyRing:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"the workspace secret is readable by others (mode {mode:o}); run chmod 600",
            file=str(path),
        )
    try:
        body = json.loads(path.read_text())
        keys = {str(k): bytes.fromhex(v) for k, v in body["keys"].items()}
        current = str(body["current"])
        if current not in keys or any(len(v) < 32 for v in keys.values()):
            raise ValueError("current key missing or a key shorter than 32 bytes")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"the workspace secret is unreadable: {exc}", file=str(path)) from None
    return KeyRing(current, keys)


def load_secret(state: Path) -> KeyRing:
    """The workspace's key ring, created on first use (mode 0600)."""
    path = secret_path(state)
    if not path.exists():
        state.mkdir(parents=True, exist_ok=True)
        fresh = KeyRing("k1", {"k1": secrets.token_bytes(32)})
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            return _read(path)
        with os.fdopen(fd, "w") as f:
            json.dump({"current": fresh.current, "keys": {"k1": fresh.key.hex()}}, f)
            f.flush()
            os.fsync(f.fileno())
        return fresh
    return _read(path)


def rotate_secret(state: Path) -> KeyRing:
    """Add a new current key; older keys stay for verifying what they signed."""
    ring = load_secret(state)
    new_id = _new_id(ring.keys)
    rotated = KeyRing(new_id, {**ring.keys, new_id: secrets.token_bytes(32)})
    _write(secret_path(state), rotated)
    return rotated
