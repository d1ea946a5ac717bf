"""Registers a trigger through the public hook, with a lazy target.

Importing this module must not import ``apscheduler_sample_plugin.trigger`` (the tests
check that discovery stays lazy).
"""

from apscheduler.hookspecs import hookimpl


@hookimpl
def register_triggers(register):
    register("every-other-second", "apscheduler_sample_plugin.trigger:EveryOtherSecondTrigger")
