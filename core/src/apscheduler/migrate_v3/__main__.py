"""``python -m apscheduler.migrate_v3 --from URL --to URL``."""

import sys

from . import main

sys.exit(main())
