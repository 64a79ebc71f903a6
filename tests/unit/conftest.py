"""Unit fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.shared import settings


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Settings are read once per process: a test that changes the environment reloads them,
    and every test ends with them read again from the restored environment."""
    yield
    settings.reload()
