"""Entry point of the processpool plugin: registers its components lazily."""

from apscheduler.hookspecs import hookimpl  # noqa: F401
