"""``BlockingScheduler`` (APScheduler 3): ``start()`` runs the scheduler in the calling
thread until it is shut down."""

from __future__ import annotations

from collections.abc import Sequence

import anyio

from .._v3.runtime import Runtime
from .._v3.threads import ListenerThread
from ..events import SchedulerEvent
from .base import STATE_STOPPED, BaseScheduler, Listener

__all__ = ["BlockingScheduler"]


class BlockingScheduler(BaseScheduler):
    """A scheduler that runs in the foreground: :meth:`start` blocks until
    :meth:`shutdown` is called (from a job, a listener, a signal handler or another
    thread) or the process is interrupted (``KeyboardInterrupt`` propagates, after the
    scheduler has stopped).

    The event loop runs in the thread that called :meth:`start`; listeners are called in
    a separate thread, one event at a time, in order.
    """

    _listener_thread: ListenerThread | None = None

    def _launch(self, runtime: Runtime) -> None:
        self._listener_thread = ListenerThread(self._logger)
        try:
            anyio.run(runtime.run)
        except BaseException:
            if runtime.started.done() and runtime.started.exception() is not None:
                # start failed: start() raises the original error, as in APScheduler 3
                raise runtime.started.exception() from None  # type: ignore[misc]
            if not runtime.started.done():
                raise
            with self._lock:
                if self._runtime is runtime:
                    self.state = STATE_STOPPED
            raise
        finally:
            self._listener_thread.close(wait=True)
        with self._lock:
            if self._runtime is runtime:
                self.state = STATE_STOPPED

    def _deliver(self, event: SchedulerEvent, callbacks: Sequence[Listener]) -> None:
        listener_thread = self._listener_thread
        if listener_thread is None:
            super()._deliver(event, callbacks)
        else:
            listener_thread.deliver(event, callbacks)
