"""Private helpers of the APScheduler 3 compatibility layer.

The public v3 names live at their v3 paths (:mod:`apscheduler.schedulers`,
:mod:`apscheduler.jobstores`, :mod:`apscheduler.executors`, :mod:`apscheduler.events`,
:mod:`apscheduler.job`); this package holds what they share:

* :mod:`.config`: v3 options (``gconfig`` with ``apscheduler.`` keys, job defaults,
  job store and executor configuration dicts);
* :mod:`.triggers`: v3 trigger arguments and semantics on top of the core triggers;
* :mod:`.runtime`: the asynchronous side of a v3 scheduler (one core
  :class:`~apscheduler.AsyncScheduler` per job store alias, sharing one event loop);
* :mod:`.threads`: the event loop thread and the listener thread of the thread-based
  schedulers.
"""
