"""APScheduler 3's ``QtScheduler`` is not provided.

Use :class:`~apscheduler.schedulers.background.BackgroundScheduler` and hand results to
the GUI thread with a Qt signal (or ``QMetaObject.invokeMethod``); jobs must not touch
widgets from the scheduler's threads.
"""

raise ImportError(
    "QtScheduler is not provided by this apscheduler: use "
    "apscheduler.schedulers.background.BackgroundScheduler and pass results to the GUI "
    "thread with a Qt signal"
)
