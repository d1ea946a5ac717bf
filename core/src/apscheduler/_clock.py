"""The source of "now" for the whole core, replaceable for tests.

All code that needs the current time (trigger defaults, data stores' due and lease
checks, the scheduler's waits) asks :func:`get_clock`. Tests install a controllable clock
with :func:`use_clock` and move time forward explicitly instead of sleeping.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import anyio


class Clock:
    """Real time. ``now()`` is an aware UTC datetime."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    async def wait_until(self, deadline: datetime | None, wakeup: anyio.Event) -> None:
        """Return when ``wakeup`` is set or ``deadline`` (``None`` = never) has passed."""
        if deadline is None:
            await wakeup.wait()
            return
        delay = (deadline - self.now()).total_seconds()
        if delay <= 0:
            return
        with anyio.move_on_after(delay):
            await wakeup.wait()

    def monotonic(self) -> float:
        return time.monotonic()


class FakeClock(Clock):
    """A clock that only moves when told to (:meth:`advance`, :meth:`set`).

    Waiters whose deadline is reached are woken by ``advance``. Use it from the event
    loop thread of the scheduler under test.
    """

    def __init__(self, start: datetime | None = None):
        self._now = start or datetime(2030, 1, 1, tzinfo=timezone.utc)
        self._waiters: list[tuple[datetime, anyio.Event]] = []
        self._mono = 0.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def set(self, when: datetime) -> None:
        if when < self._now:
            raise ValueError("A FakeClock cannot go backwards")
        self._mono += (when - self._now).total_seconds()
        self._now = when
        for deadline, event in list(self._waiters):
            if deadline <= when:
                event.set()

    def advance(self, seconds: float | timedelta) -> datetime:
        delta = seconds if isinstance(seconds, timedelta) else timedelta(seconds=seconds)
        self.set(self._now + delta)
        return self._now

    async def wait_until(self, deadline: datetime | None, wakeup: anyio.Event) -> None:
        if deadline is not None and deadline <= self._now:
            return
        if deadline is None:
            await wakeup.wait()
            return
        timer = anyio.Event()
        entry = (deadline, timer)
        self._waiters.append(entry)
        try:
            async with anyio.create_task_group() as tg:

                async def relay(source: anyio.Event) -> None:
                    await source.wait()
                    tg.cancel_scope.cancel()

                tg.start_soon(relay, wakeup)
                tg.start_soon(relay, timer)
                await anyio.sleep(math.inf)
        finally:
            self._waiters.remove(entry)


_clock: Clock = Clock()


def get_clock() -> Clock:
    """Return the clock in force."""
    return _clock


def set_clock(clock: Clock) -> None:
    global _clock
    _clock = clock


@contextmanager
def use_clock(clock: Clock) -> Iterator[Clock]:
    """Install ``clock`` for the duration of the ``with`` block."""
    previous = get_clock()
    set_clock(clock)
    try:
        yield clock
    finally:
        set_clock(previous)
