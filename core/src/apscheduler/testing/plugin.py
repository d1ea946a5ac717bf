"""pytest plugin of the conformance kit (entry point ``pytest11: apscheduler``).

It changes nothing for tests that do not ask for it: it only

* makes pytest rewrite the ``assert`` statements of the kit's modules (so a failing kit
  test shows the compared values), and
* provides the opt-in ``fake_clock`` fixture.

The kit's test classes are imported by the test modules that subclass them; see
``docs/plugins/conformance-kit.md``. Async kit tests run under the anyio pytest plugin,
whose ``anyio_backend`` fixture defaults to ``"asyncio"``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .._clock import FakeClock, use_clock

pytest.register_assert_rewrite(
    "apscheduler.testing.datastore",
    "apscheduler.testing.eventbroker",
    "apscheduler.testing.executor",
    "apscheduler.testing.serializer",
    "apscheduler.testing.trigger",
)


@pytest.fixture
def fake_clock() -> Iterator[FakeClock]:
    """Install a :class:`~apscheduler._clock.FakeClock` (starting 2030-01-01 UTC) as the
    source of "now" for the test; move time with ``fake_clock.advance(seconds)``."""
    clock = FakeClock()
    with use_clock(clock):
        yield clock
