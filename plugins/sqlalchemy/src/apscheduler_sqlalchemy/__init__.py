"""apscheduler sqlalchemy plugin."""
