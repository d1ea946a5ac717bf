"""The kit's pytest plugin stays out of the way of unrelated test suites."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

from apscheduler._clock import FakeClock, get_clock


def test_fake_clock_fixture(fake_clock: FakeClock) -> None:
    """The ``fake_clock`` fixture installs a FakeClock as the source of "now"."""
    assert get_clock() is fake_clock
    before = fake_clock.now()
    fake_clock.advance(5)
    assert get_clock().now() == before + timedelta(seconds=5)


def test_real_clock_without_the_fixture() -> None:
    assert not isinstance(get_clock(), FakeClock)


def test_loading_the_plugin_imports_no_kit_class() -> None:
    """Every pytest run with apscheduler installed loads the plugin; it must not import
    the kit's test classes (nor register anything in the plugin registry)."""
    code = (
        "import sys, apscheduler.testing.plugin, apscheduler._registry as r\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('apscheduler.testing.'))\n"
        "print(loaded, r._registry is None)\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert output == "['apscheduler.testing.plugin'] True"
