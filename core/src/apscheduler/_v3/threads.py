"""Threads of the thread-based APScheduler 3 schedulers: the event loop thread that hosts
a :class:`~apscheduler._v3.runtime.Runtime`, and the thread that calls listeners."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from queue import SimpleQueue
from typing import Any

import anyio

from .runtime import Runtime

_STOP = object()


class LoopThread:
    """Runs a runtime's host task in a thread of its own, on a new event loop."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        name: str = "APScheduler",
        daemon: bool = True,
        on_exit: Callable[[], Any] | None = None,
    ):
        self.runtime = runtime
        self._on_exit = on_exit
        self.thread = threading.Thread(target=self._run, name=name, daemon=daemon)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        try:
            anyio.run(self.runtime.run)
        except BaseException:  # reported through runtime.started, or logged below
            if self.runtime.started.done() and self.runtime.started.exception() is None:
                self.runtime._logger.exception("The scheduler's event loop crashed")
        finally:
            if self._on_exit is not None:
                self._on_exit()

    def join(self) -> None:
        if threading.current_thread() is not self.thread:
            self.thread.join()


class ListenerThread:
    """Calls listeners one event at a time, in the order the events happened, so that a
    slow listener never holds up the scheduler."""

    def __init__(self, logger: logging.Logger, *, daemon: bool = True):
        self._logger = logger
        self.closed = False
        self._queue: SimpleQueue[Any] = SimpleQueue()
        self.thread = threading.Thread(
            target=self._run, name="APScheduler-listeners", daemon=daemon
        )
        self.thread.start()

    def deliver(self, event: Any, callbacks: Sequence[Callable[[Any], Any]]) -> None:
        """Queue the event; once the thread is closed, call the listeners right away."""
        if self.closed:
            call_listeners(event, callbacks, self._logger)
        else:
            self._queue.put((event, callbacks))

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            event, callbacks = item
            call_listeners(event, callbacks, self._logger)

    def close(self, wait: bool) -> None:
        """Stop once the events queued so far are delivered (waiting for that if
        ``wait``, unless called from a listener)."""
        if not self.closed:
            self.closed = True
            self._queue.put(_STOP)
        if wait:
            self.join()

    def join(self) -> None:
        if threading.current_thread() is not self.thread:
            self.thread.join()


def call_listeners(
    event: Any, callbacks: Sequence[Callable[[Any], Any]], logger: logging.Logger
) -> None:
    for callback in callbacks:
        try:
            callback(event)
        except BaseException:
            logger.exception("Error notifying listener")
