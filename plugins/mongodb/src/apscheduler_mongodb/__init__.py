"""apscheduler mongodb plugin."""
