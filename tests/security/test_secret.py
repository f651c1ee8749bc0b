"""The workspace secret: created 0600, outside the lake, refused when others can read it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from aiready.errors import ConfigError
from aiready.storage.secret import load_secret, rotate_secret, secret_path


def test_created_private_and_stable(tmp_path: Path) -> None:
    ring = load_secret(tmp_path)
    path = secret_path(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret(tmp_path).key == ring.key
    assert len(ring.key) == 32
    assert ring.key.hex() not in repr(ring)


def test_rotation_keeps_old_keys(tmp_path: Path) -> None:
    first = load_secret(tmp_path)
    rotated = rotate_secret(tmp_path)
    assert rotated.current != first.current
    assert rotated.keys[first.current] == first.key
    assert load_secret(tmp_path).key == rotated.key
    assert stat.S_IMODE(secret_path(tmp_path).stat().st_mode) == 0o600


def test_world_readable_or_corrupt_secret_is_an_error(tmp_path: Path) -> None:
    load_secret(tmp_path)
    path = secret_path(tmp_path)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_secret(tmp_path)
    os.chmod(path, 0o600)
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="unreadable") as err:
        load_secret(tmp_path)
    assert str(path) in str(err.value)
