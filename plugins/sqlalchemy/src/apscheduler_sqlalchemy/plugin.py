"""Entry point of the sqlalchemy plugin: registers its components lazily."""

from apscheduler.hookspecs import hookimpl  # noqa: F401
