"""``python -m apscheduler.cli``: the same as the ``apscheduler`` command."""

from . import main

main()
