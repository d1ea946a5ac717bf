"""APScheduler 3's ``TwistedScheduler`` is not provided.

Use :class:`~apscheduler.schedulers.asyncio.AsyncIOScheduler` on Twisted's asyncio
reactor (``twisted.internet.asyncioreactor``), or
:class:`~apscheduler.schedulers.background.BackgroundScheduler`.
"""

raise ImportError(
    "TwistedScheduler is not provided by this apscheduler: install Twisted's asyncio "
    "reactor (twisted.internet.asyncioreactor.install()) and use "
    "apscheduler.schedulers.asyncio.AsyncIOScheduler, or use "
    "apscheduler.schedulers.background.BackgroundScheduler"
)
