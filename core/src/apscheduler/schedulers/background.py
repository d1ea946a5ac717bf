"""``BackgroundScheduler`` (APScheduler 3): runs in a thread of its own."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

from .._context import current_job
from .._v3.config import asbool
from .._v3.runtime import Runtime
from .._v3.threads import ListenerThread, LoopThread
from ..events import SchedulerEvent
from .base import BaseScheduler, Listener

__all__ = ["BackgroundScheduler"]


class BackgroundScheduler(BaseScheduler):
    """A scheduler that runs in the background, in a thread with its own event loop
    (:meth:`start` returns at once).

    Listeners are called in a separate thread, one event at a time, in order.

    Extra options:

    ``daemon``: make the scheduler's threads daemon threads (default ``True``), so
    that they do not keep the interpreter alive
    """

    _daemon = True
    _loop_thread: LoopThread | None = None
    _listener_thread: ListenerThread | None = None

    def _configure(self, config: dict[str, Any]) -> None:
        self._daemon = asbool(config.pop("daemon", True))
        super()._configure(config)

    def _launch(self, runtime: Runtime) -> None:
        listener_thread = ListenerThread(self._logger, daemon=self._daemon)
        self._listener_thread = listener_thread
        self._loop_thread = LoopThread(
            runtime,
            name="APScheduler",
            daemon=self._daemon,
            # events keep coming until the runtime ends: only then stop the listeners
            on_exit=lambda: listener_thread.close(wait=False),
        )
        self._loop_thread.start()
        try:
            runtime.started.result()
        except BaseException:
            self._loop_thread.join()
            listener_thread.join()
            raise

    def _deliver(self, event: SchedulerEvent, callbacks: Sequence[Listener]) -> None:
        listener_thread = self._listener_thread
        if listener_thread is None:
            super()._deliver(event, callbacks)
        else:
            listener_thread.deliver(event, callbacks)

    def _finish_shutdown(self, runtime: Runtime, future: Future[Any], wait: bool) -> Any:
        if wait and self._can_block(runtime) and current_job.get(None) is None:
            try:
                self._wait(runtime, future)
            finally:
                runtime.finished.wait()
                if self._loop_thread is not None:
                    self._loop_thread.join()
                if self._listener_thread is not None:
                    self._listener_thread.join()  # the queued events have been delivered
        return None
