"""APScheduler 3's ``GeventScheduler`` is not provided.

gevent's monkey-patching does not mix with the core scheduler's event loop. Use
:class:`~apscheduler.schedulers.background.BackgroundScheduler` (it runs in a thread
of its own; with gevent's monkey-patching disabled for threads) or
:class:`~apscheduler.schedulers.blocking.BlockingScheduler`.
"""

raise ImportError(
    "GeventScheduler is not provided by this apscheduler: use "
    "apscheduler.schedulers.background.BackgroundScheduler (it runs in its own thread) "
    "or apscheduler.schedulers.blocking.BlockingScheduler instead"
)
