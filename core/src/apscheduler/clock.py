"""The clock every component reads "now" from, public for plugin authors and tests.

Data stores, triggers and schedulers call :func:`get_clock` instead of
``datetime.now()``, so that tests can install a :class:`FakeClock` with
:func:`use_clock` and move time forward explicitly instead of sleeping.
"""

from ._clock import Clock, FakeClock, get_clock, set_clock, use_clock

__all__ = ["Clock", "FakeClock", "get_clock", "set_clock", "use_clock"]
