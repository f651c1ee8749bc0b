"""``Configured``: the members every narrow interface of a feature starts from."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from aiready.config.models import WorkspaceConfig
from aiready.config.paths import Paths


class Configured(Protocol):
    """A workspace's configuration, its root and the paths of its state."""

    @property
    def config(self) -> WorkspaceConfig: ...

    @property
    def paths(self) -> Paths: ...

    @property
    def root(self) -> Path: ...
