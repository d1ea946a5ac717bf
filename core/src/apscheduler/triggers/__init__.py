"""The built-in triggers.

Import each trigger from its own module (these module paths are the public API)::

    from apscheduler.triggers.date import DateTrigger
    from apscheduler.triggers.interval import IntervalTrigger
    from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.combining import AndTrigger, OrTrigger

This package deliberately imports nothing, so that loading one trigger does not load
the others.
"""
