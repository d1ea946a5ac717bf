"""The one place where this plugin asks the core for the current time.

The core's clock is replaceable (tests install a fake one); every "now" of the store
comes from here so that lease and due checks follow it.
"""

from __future__ import annotations

from datetime import datetime

# The core has no public accessor for its clock yet; this is the only private import.
from apscheduler._clock import get_clock


def now() -> datetime:
    """Return the current aware UTC datetime from the core's clock."""
    return get_clock().now()
