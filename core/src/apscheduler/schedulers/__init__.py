"""APScheduler 3 schedulers, built on the core scheduler.

* :class:`~apscheduler.schedulers.blocking.BlockingScheduler`: ``start()`` blocks
* :class:`~apscheduler.schedulers.background.BackgroundScheduler`: runs in a thread
* :class:`~apscheduler.schedulers.asyncio.AsyncIOScheduler`: runs on the application's
  asyncio event loop (and :class:`~apscheduler.schedulers.tornado.TornadoScheduler`,
  since Tornado runs on asyncio)

The gevent, Twisted and Qt schedulers of APScheduler 3 are not provided; importing them
raises an ``ImportError`` that says what to use instead.
"""


class SchedulerAlreadyRunningError(Exception):
    """Raised when attempting to start or configure the scheduler when it's already running."""

    def __str__(self) -> str:
        return "Scheduler is already running"


class SchedulerNotRunningError(Exception):
    """Raised when attempting to shutdown the scheduler when it's not running."""

    def __str__(self) -> str:
        return "Scheduler is not running"
