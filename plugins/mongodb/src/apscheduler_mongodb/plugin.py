"""Entry point of the mongodb plugin: registers its components lazily."""

from apscheduler.hookspecs import hookimpl  # noqa: F401
