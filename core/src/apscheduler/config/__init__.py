"""TOML configuration of a scheduler, naming every component by string.

Three steps, each reporting *every* problem it finds with the key path and line:

1. :func:`load_config` / :func:`parse_config`: TOML syntax and the schema (unknown keys,
   value types, malformed values) → :class:`ConfigFile`;
2. :func:`resolve_config`: plugin names, component options, task functions (imported),
   triggers (built), arguments → :class:`ResolvedConfig` (nothing started or written);
   :func:`resolve_services` does only the data store and event broker;
3. :func:`apply_config`: configure the tasks and add/update the schedules of a running
   scheduler's store.

Example::

    file = load_config("scheduler.toml")
    resolved = resolve_config(file)
    async with AsyncScheduler(**resolved.scheduler_options()) as scheduler:
        await apply_config(scheduler, resolved)
        await scheduler.run_until_stopped()

The file format is described in ``docs/operator/config.md``.
"""

from ._apply import ApplyReport, apply_config
from ._errors import ConfigError, ConfigIssue, format_path
from ._loader import ConfigFile, load_config, parse_config
from ._resolve import (
    DIGEST_KEY,
    ResolvedConfig,
    ResolvedSchedule,
    ResolvedTask,
    Services,
    SkippedSchedule,
    add_python_path,
    python_path_entries,
    resolve_config,
    resolve_services,
)
from ._schema import (
    SECTIONS,
    ComponentConfig,
    Config,
    ExecutorConfig,
    ScheduleConfig,
    SchedulerConfig,
    TaskConfig,
    TaskDefaultsConfig,
    TriggerConfig,
    documented_fields,
)
from ._triggers import build_trigger

__all__ = [
    "DIGEST_KEY",
    "SECTIONS",
    "ApplyReport",
    "ComponentConfig",
    "Config",
    "ConfigError",
    "ConfigFile",
    "ConfigIssue",
    "ExecutorConfig",
    "ResolvedConfig",
    "ResolvedSchedule",
    "ResolvedTask",
    "ScheduleConfig",
    "SchedulerConfig",
    "Services",
    "SkippedSchedule",
    "TaskConfig",
    "TaskDefaultsConfig",
    "TriggerConfig",
    "add_python_path",
    "apply_config",
    "build_trigger",
    "documented_fields",
    "format_path",
    "load_config",
    "parse_config",
    "python_path_entries",
    "resolve_config",
    "resolve_services",
]
