"""Fixtures for the trigger tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from apscheduler._clock import FakeClock, use_clock

from .helpers import NOW


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    """Install a fake clock at :data:`NOW` for the duration of the test."""
    with use_clock(FakeClock(NOW)) as fake:
        assert isinstance(fake, FakeClock)
        yield fake
