"""apscheduler processpool plugin."""
