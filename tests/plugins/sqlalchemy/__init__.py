"""Tests of the apscheduler-sqlalchemy plugin."""
