"""One Spark session (local[2]) for the engine tests; skipped, with the reason, without Java."""

from __future__ import annotations

import shutil
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Any:
    pytest.importorskip(
        "pyspark", reason="engine spark needs pyspark: pip install 'aiready[spark]'"
    )
    if shutil.which("java") is None:
        pytest.skip("engine spark needs Java 17 or later on PATH")
    from aiready.engines.spark import spark_session

    return spark_session("local[2]")
