"""Scheduler implementations (re-exported from :mod:`apscheduler`)."""
