"""pytest plugin of the conformance kit (entry point ``pytest11: apscheduler``).

Provides only opt-in fixtures: nothing here changes the behaviour of tests that do not
ask for them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .._clock import FakeClock, use_clock


@pytest.fixture
def fake_clock() -> Iterator[FakeClock]:
    """Install a :class:`~apscheduler._clock.FakeClock` as the clock for the test."""
    clock = FakeClock()
    with use_clock(clock):
        yield clock
