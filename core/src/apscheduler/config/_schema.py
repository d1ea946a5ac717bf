"""The configuration schema: attrs classes, structured from parsed TOML with cattrs.

Every field carries ``metadata["doc"]`` (what it means) and ``metadata["toml"]`` (how it is
written); the operator's reference page is generated from them and a test checks that
the page and the schema agree.

Structuring is strict: unknown keys, wrong value types and malformed values are all
reported (not only the first), each with its key path. Names of plugins, importability
of functions and trigger options are checked in a second step
(:mod:`apscheduler.config._resolve`).
"""

from __future__ import annotations

from datetime import timedelta
from difflib import get_close_matches
from typing import Any, NewType

import attrs
import cattrs
from cattrs.errors import (
    AttributeValidationNote,
    BaseValidationError,
    ForbiddenExtraKeysError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn

from . import _values as v
from ._errors import KeyPath, SchemaIssues, describe_value, suggest

# Value types with their own parsers (see _values.py)
Duration = NewType("Duration", timedelta)
GraceTime = NewType("GraceTime", object)  # timedelta or "unlimited"
RunLimit = NewType("RunLimit", object)  # int or "unlimited"
FuncRef = NewType("FuncRef", str)
LogLevel = NewType("LogLevel", str)
RoleName = NewType("RoleName", str)
Coalesce = NewType("Coalesce", object)  # "earliest" / "latest" / "all" / bool
Table = NewType("Table", dict)
Metadata = NewType("Metadata", dict)
Array = NewType("Array", list)
StrArray = NewType("StrArray", list)
NonEmptyStr = NewType("NonEmptyStr", str)
PositiveInt = NewType("PositiveInt", int)


def setting(default: Any = attrs.NOTHING, *, doc: str, toml: str, factory: Any = None) -> Any:
    """An attrs field with the documentation the reference page is generated from."""
    metadata = {"doc": doc, "toml": toml}
    if factory is not None:
        return attrs.field(factory=factory, metadata=metadata)
    return attrs.field(default=default, metadata=metadata)


@attrs.define(kw_only=True)
class ComponentConfig:
    """A data store or event broker: a registered name, a URL, or a table.

    Written as a string (``"memory"``, ``"sqlite:///jobs.db"``) or as a table with
    ``type`` and/or ``url`` plus options passed to the component's class.
    """

    type: str | None = setting(
        None,
        doc="Registered name of the component (see `apscheduler plugins`).",
        toml="string",
    )
    url: str | None = setting(
        None,
        doc="Connection URL; its scheme picks the plugin when `type` is not given.",
        toml="string",
    )
    options: dict[str, Any] = attrs.field(factory=dict, metadata={"internal": True})

    def describe(self) -> str:
        if self.url and self.type:
            return f"{self.type} ({_redact(self.url)})"
        return _redact(self.url or self.type or "")


def _redact(url: str) -> str:
    """Hide the password of a URL (``scheme://user:***@host``) for display."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user, colon, _password = credentials.partition(":")
    return f"{scheme}://{user}{':***' if colon else ''}@{host}"


@attrs.define(kw_only=True)
class TriggerConfig:
    """A trigger: its registered name plus the options of its class."""

    type: str = setting(
        doc="Registered trigger name: `date`, `interval`, `calendarinterval`, `cron`, "
        "`and`, `or`, or one from a plugin.",
        toml="string",
    )
    options: dict[str, Any] = attrs.field(factory=dict, metadata={"internal": True})


@attrs.define(kw_only=True)
class ExecutorConfig:
    """A job executor instance, created once and shared by the tasks that name it."""

    type: str | None = setting(
        None,
        doc="Registered executor name (`async`, `threadpool`, `processpool`...); "
        "defaults to the table's own name.",
        toml="string",
    )
    options: dict[str, Any] = attrs.field(factory=dict, metadata={"internal": True})


@attrs.define(kw_only=True)
class SchedulerConfig:
    """``[scheduler]``: how this scheduler process runs."""

    identity: str = setting(
        "",
        doc="Unique name of this scheduler among those sharing the store "
        "(default: host name, process ID and object ID).",
        toml="string",
    )
    role: RoleName = setting(
        "both",
        doc="`scheduler` (turn schedules into jobs), `worker` (run jobs) or `both`.",
        toml="string",
    )
    timezone: str | None = setting(
        None,
        doc="Zone for triggers and naive date-times, e.g. `Europe/Berlin` "
        "(default: the host's local zone).",
        toml="string",
    )
    max_concurrent_jobs: PositiveInt = setting(
        100, doc="How many jobs this process runs at once.", toml="integer"
    )
    lease_duration: Duration = setting(
        timedelta(seconds=30),
        doc="How long acquired schedules and jobs stay reserved without renewal.",
        toml="duration",
    )
    cleanup_interval: Duration = setting(
        timedelta(seconds=900),
        doc="How often expired results and finished schedules are purged; `0` disables.",
        toml="duration",
    )
    poll_interval: Duration = setting(
        timedelta(seconds=10),
        doc="Longest wait between store checks, so work is found even when a "
        "notification is lost (and changes made by other processes are seen "
        "without a shared event broker).",
        toml="duration",
    )
    stop_timeout: Duration = setting(
        timedelta(seconds=30),
        doc="On Ctrl-C/SIGTERM, how long running jobs may finish before they are cancelled.",
        toml="duration",
    )
    schedule_batch_size: PositiveInt = setting(
        100, doc="Schedules acquired per store round trip.", toml="integer"
    )
    log_level: LogLevel = setting(
        "INFO",
        doc="`DEBUG`, `INFO`, `WARNING`, `ERROR` or `CRITICAL` (`apscheduler run` logs "
        "each job at `INFO`).",
        toml="string",
    )


@attrs.define(kw_only=True)
class TaskDefaultsConfig:
    """``[task_defaults]``: settings of tasks that do not set them."""

    job_executor: str | None = setting(
        None,
        doc="Executor of tasks that name none (default: `async` for coroutine "
        "functions, `threadpool` for the rest).",
        toml="string",
    )
    max_running_jobs: RunLimit | None = setting(
        None,
        doc="How many jobs of one task may run at once (default 1; later ones wait), "
        "or `\"unlimited\"`.",
        toml="integer or \"unlimited\"",
    )
    misfire_grace_time: GraceTime | None = setting(
        None,
        doc="How late a job may start before it is skipped (default: `\"unlimited\"`).",
        toml="duration or \"unlimited\"",
    )
    metadata: Metadata | None = setting(
        None, doc="JSON-compatible values attached to every job.", toml="table"
    )


@attrs.define(kw_only=True)
class TaskConfig:
    """``[tasks.<id>]``: a function and the settings shared by all of its jobs."""

    func: FuncRef = setting(
        doc="The function, as `\"package.module:function\"` (importable with `path`).",
        toml="string",
    )
    job_executor: str | None = setting(
        None, doc="Executor that runs its jobs (see `[executors]`).", toml="string"
    )
    max_running_jobs: RunLimit | None = setting(
        None,
        doc="How many of its jobs may run at once, or `\"unlimited\"`.",
        toml="integer or \"unlimited\"",
    )
    misfire_grace_time: GraceTime | None = setting(
        None,
        doc="How late a job may start before it is skipped, or `\"unlimited\"`.",
        toml="duration or \"unlimited\"",
    )
    metadata: Metadata | None = setting(
        None, doc="JSON-compatible values attached to its jobs.", toml="table"
    )


@attrs.define(kw_only=True)
class ScheduleConfig:
    """``[schedules.<id>]`` or ``[[schedules]]``: when a task runs, with which arguments."""

    id: str | None = setting(
        None,
        doc="Schedule ID; required in `[[schedules]]`, taken from the table name in "
        "`[schedules.<id>]`.",
        toml="string",
    )
    task: str | None = setting(
        None, doc="ID of a task defined under `[tasks]` (give `task` or `func`).", toml="string"
    )
    func: FuncRef | None = setting(
        None,
        doc="A function, `\"package.module:function\"`, used as its own task "
        "(give `task` or `func`).",
        toml="string",
    )
    trigger: TriggerConfig = setting(
        doc="Trigger name (`\"interval\"`) or a table with `type` and the trigger's "
        "options: `{ type = \"cron\", hour = 9 }`.",
        toml="string or table",
    )
    args: Array = setting(
        doc="Positional arguments of the function.", toml="array", factory=list
    )
    kwargs: Table = setting(
        doc="Keyword arguments of the function.", toml="table", factory=dict
    )
    name: str | None = setting(None, doc="Human-readable description.", toml="string")
    paused: bool = setting(False, doc="Add the schedule paused.", toml="boolean")
    coalesce: Coalesce = setting(
        "latest",
        doc="When several fire times are due at once: `latest`, `earliest` or `all` "
        "(`true` = latest, `false` = all).",
        toml="string or boolean",
    )
    misfire_grace_time: GraceTime | None = setting(
        None,
        doc="How late a job may start before it is skipped (default: the task's).",
        toml="duration or \"unlimited\"",
    )
    max_jitter: Duration | None = setting(
        None, doc="Random delay of up to this much added to each fire time.", toml="duration"
    )
    job_executor: str | None = setting(
        None, doc="Executor for this schedule's jobs (default: the task's).", toml="string"
    )
    max_running_jobs: RunLimit | None = setting(
        None,
        doc="Sets the task's limit on concurrently running jobs.",
        toml="integer or \"unlimited\"",
    )
    job_result_expiration_time: Duration = setting(
        timedelta(0),
        doc="How long job results are kept (default: not kept).",
        toml="duration",
    )
    metadata: Metadata | None = setting(
        None, doc="JSON-compatible values attached to its jobs.", toml="table"
    )
    optional: bool = setting(
        False,
        doc="If a plugin it needs (trigger, executor) is not installed, skip the schedule "
        "with a warning instead of rejecting the file.",
        toml="boolean",
    )


class ScheduleList(list):
    """The schedules, in file order, with the key path each one was written at."""

    paths: list[KeyPath]

    def __init__(self) -> None:
        super().__init__()
        self.paths = []


def _default_component(name: str) -> Any:
    return attrs.Factory(lambda: ComponentConfig(type=name))


@attrs.define(kw_only=True)
class Config:
    """The whole file."""

    path: StrArray = setting(
        doc="Directories added to `sys.path` (relative to the config file's directory) "
        "so task modules can be imported.",
        toml="array of strings",
        factory=list,
    )
    data_store: ComponentConfig = attrs.field(
        default=_default_component("memory"),
        metadata={
            "doc": "Data store: a name (`\"memory\"`), a URL (`\"sqlite:///jobs.db\"`, "
            "`\"postgresql+asyncpg://...\"`) or a table `{ type = ..., url = ..., "
            "<options> }`. Default: `\"memory\"` (nothing persists).",
            "toml": "string or table",
        },
    )
    event_broker: ComponentConfig = attrs.field(
        default=_default_component("local"),
        metadata={
            "doc": "Event broker: a name, a URL (`\"redis://localhost\"`, "
            "`\"mqtt://localhost\"`) or a table. Default: `\"local\"` (this process only).",
            "toml": "string or table",
        },
    )
    scheduler: SchedulerConfig = setting(
        doc="Scheduler options (see below).", toml="table", factory=SchedulerConfig
    )
    executors: dict[str, ExecutorConfig] = setting(
        doc="Job executors by name, each `[executors.<name>]` with `type` and options.",
        toml="table of tables",
        factory=dict,
    )
    task_defaults: TaskDefaultsConfig = setting(
        doc="Defaults for tasks (see below).", toml="table", factory=TaskDefaultsConfig
    )
    tasks: dict[str, TaskConfig] = setting(
        doc="Tasks by ID (see below).", toml="table of tables", factory=dict
    )
    schedules: ScheduleList = setting(
        doc="Schedules: `[schedules.<id>]` tables or a `[[schedules]]` array (see below).",
        toml="table of tables or array of tables",
        factory=ScheduleList,
    )


#: The sections of the reference page, in order: (heading, class).
SECTIONS: list[tuple[str, type]] = [
    ("top level", Config),
    ("[scheduler]", SchedulerConfig),
    ("data_store / event_broker as a table", ComponentConfig),
    ("[executors.<name>]", ExecutorConfig),
    ("[task_defaults]", TaskDefaultsConfig),
    ("[tasks.<id>]", TaskConfig),
    ("[schedules.<id>] / [[schedules]]", ScheduleConfig),
    ("trigger as a table", TriggerConfig),
]


def documented_fields(cls: type) -> list[attrs.Attribute]:
    """The fields of a section that are written in TOML (not the internal ones)."""
    return [f for f in attrs.fields(cls) if not f.metadata.get("internal")]


# ---------------------------------------------------------------------------- converter


def issues_from_exception(exc: BaseException) -> list[tuple[KeyPath, str]]:
    """Flatten cattrs' nested validation errors (and our own) into (path, message)."""
    if isinstance(exc, SchemaIssues):
        return exc.issues
    if isinstance(exc, ForbiddenExtraKeysError):
        allowed = [f.name for f in documented_fields(exc.cl)]
        return [
            ((key,), f"unknown key{suggest(key, allowed)}; allowed keys: {', '.join(allowed)}")
            for key in sorted(exc.extra_fields)
        ]
    if isinstance(exc, BaseValidationError):
        issues: list[tuple[KeyPath, str]] = []
        # A misspelt required key is reported once, as unknown with a suggestion, not
        # also as missing
        misspelt: set[str] = set()
        for sub in exc.exceptions:
            if isinstance(sub, ForbiddenExtraKeysError):
                allowed = [f.name for f in documented_fields(sub.cl)]
                for key in sub.extra_fields:
                    misspelt.update(get_close_matches(key, allowed, n=1, cutoff=0.6))
        for sub in exc.exceptions:
            prefix: KeyPath = ()
            for note in getattr(sub, "__notes__", ()):
                if isinstance(note, IterableValidationNote):
                    prefix = (note.index,)
                elif isinstance(note, AttributeValidationNote):
                    prefix = (note.name,)
            if isinstance(sub, KeyError) and prefix:
                if prefix[0] not in misspelt:
                    issues.append((prefix, "missing required key"))
                continue
            issues.extend((prefix + path, message) for path, message in issues_from_exception(sub))
        return issues
    return [((), str(exc))]


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)

    def simple(parser: Any) -> Any:
        return lambda value, _type: parser(value)

    converter.register_structure_hook(str, simple(v.as_str))
    converter.register_structure_hook(int, simple(v.as_int))
    converter.register_structure_hook(float, simple(v.as_float))
    converter.register_structure_hook(bool, simple(v.as_bool))
    converter.register_structure_hook(Duration, simple(v.as_duration))
    converter.register_structure_hook(GraceTime, simple(v.as_grace_time))
    converter.register_structure_hook(RunLimit, simple(v.as_run_limit))
    converter.register_structure_hook(FuncRef, simple(v.as_func_ref))
    converter.register_structure_hook(LogLevel, simple(v.as_log_level))
    converter.register_structure_hook(Table, simple(v.as_table))
    converter.register_structure_hook(Metadata, simple(v.as_metadata))
    converter.register_structure_hook(Array, simple(v.as_array))
    converter.register_structure_hook(StrArray, simple(v.as_str_array))
    converter.register_structure_hook(NonEmptyStr, simple(v.as_nonempty_str))
    converter.register_structure_hook(PositiveInt, simple(v.as_positive_int))
    converter.register_structure_hook(
        RoleName, simple(lambda value: v.choice(value, ["scheduler", "worker", "both"],
                                                what="role"))
    )
    converter.register_structure_hook(Coalesce, simple(_as_coalesce))
    converter.register_structure_hook(ComponentConfig, simple(_as_component))
    converter.register_structure_hook(TriggerConfig, simple(_as_trigger))

    def section_factory(cls: type) -> Any:
        generated: Any = make_dict_structure_fn(
            cls, converter, _cattrs_forbid_extra_keys=True, _cattrs_detailed_validation=True
        )

        def structure(value: Any, _type: Any) -> Any:
            if not isinstance(value, dict):
                raise SchemaIssues.single(f"expected a table, got {describe_value(value)}")
            return generated(value, cls)

        return structure

    def table_of(cls: type) -> Any:
        def structure(value: Any, _type: Any) -> dict[str, Any]:
            table = v.as_table(value)
            result: dict[str, Any] = {}
            issues: list[tuple[KeyPath, str]] = []
            for key, item in table.items():
                try:
                    result[key] = converter.structure(item, cls)
                except Exception as exc:
                    issues.extend(((key, *p), m) for p, m in issues_from_exception(exc))
            if issues:
                raise SchemaIssues(issues)
            return result

        return structure

    def is_type(expected: Any) -> Any:
        return lambda type_: type_ == expected

    converter.register_structure_hook_func(is_type(dict[str, TaskConfig]), table_of(TaskConfig))
    converter.register_structure_hook_func(
        is_type(dict[str, ExecutorConfig]), table_of(ExecutorConfig)
    )
    converter.register_structure_hook(ExecutorConfig, simple(_as_executor))

    def schedules(value: Any, _type: Any) -> ScheduleList:
        result = ScheduleList()
        issues: list[tuple[KeyPath, str]] = []
        if isinstance(value, dict):
            entries: list[tuple[str | int, Any]] = list(value.items())
        elif isinstance(value, list):
            entries = list(enumerate(value))
        else:
            raise SchemaIssues.single(
                f"expected [schedules.<id>] tables or a [[schedules]] array, got "
                f"{describe_value(value)}"
            )
        seen: set[str] = set()
        for key, item in entries:
            try:
                schedule = converter.structure(item, ScheduleConfig)
            except Exception as exc:
                issues.extend(((key, *p), m) for p, m in issues_from_exception(exc))
                continue
            if isinstance(key, str):
                if schedule.id is not None and schedule.id != key:
                    issues.append(
                        (
                            (key, "id"),
                            (
                                f"does not match the table name {key!r}; the ID of a "
                                f"[schedules.<id>] table is its name"
                            ),
                        )
                    )
                    continue
                schedule.id = key
            elif not schedule.id:
                message = "missing required key (every [[schedules]] entry needs an id)"
                issues.append(((key, "id"), message))
                continue
            if schedule.id in seen:
                issues.append(((key, "id"), f"duplicate schedule ID {schedule.id!r}"))
                continue
            seen.add(schedule.id)
            result.append(schedule)
            result.paths.append(("schedules", key))
        if issues:
            raise SchemaIssues(issues)
        return result

    converter.register_structure_hook(ScheduleList, schedules)
    # Last: the generated functions look up the hooks of their fields right away
    for cls in (SchedulerConfig, TaskDefaultsConfig, TaskConfig, ScheduleConfig, Config):
        converter.register_structure_hook(cls, section_factory(cls))
    return converter


def _as_coalesce(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    return v.choice(value, ["latest", "earliest", "all"], what="coalesce policy")


def _split_table(value: dict[str, Any], fixed: tuple[str, ...]) -> tuple[dict[str, Any], dict]:
    own = {key: value[key] for key in fixed if key in value}
    options = {key: item for key, item in value.items() if key not in fixed}
    return own, options


def _as_component(value: Any) -> ComponentConfig:
    if isinstance(value, str):
        text = v.as_nonempty_str(value)
        return ComponentConfig(url=text) if "://" in text else ComponentConfig(type=text)
    if not isinstance(value, dict):
        raise SchemaIssues.single(
            f"expected a name, a URL or a table, got {describe_value(value)}"
        )
    own, options = _split_table(value, ("type", "url"))
    issues: list[tuple[KeyPath, str]] = []
    for key in own:
        if not isinstance(own[key], str) or not own[key]:
            issues.append(((key,), f"expected a non-empty string, got {describe_value(own[key])}"))
    if not own:
        issues.append(((), "needs a 'type' (registered name) or a 'url' key"))
    if issues:
        raise SchemaIssues(issues)
    return ComponentConfig(type=own.get("type"), url=own.get("url"), options=options)


def _as_executor(value: Any) -> ExecutorConfig:
    table = v.as_table(value)
    own, options = _split_table(table, ("type",))
    if "type" in own and (not isinstance(own["type"], str) or not own["type"]):
        raise SchemaIssues.single(
            f"expected a non-empty string, got {describe_value(own['type'])}", ("type",)
        )
    return ExecutorConfig(type=own.get("type"), options=options)


def _as_trigger(value: Any) -> TriggerConfig:
    if isinstance(value, str):
        return TriggerConfig(type=v.as_nonempty_str(value))
    if not isinstance(value, dict):
        raise SchemaIssues.single(
            f"expected a trigger name or a table with 'type', got {describe_value(value)}"
        )
    own, options = _split_table(value, ("type",))
    if "type" not in own:
        raise SchemaIssues.single(
            "missing required key 'type' (the trigger name, e.g. \"cron\")"
        )
    if not isinstance(own["type"], str) or not own["type"]:
        raise SchemaIssues.single(
            f"expected a trigger name, got {describe_value(own['type'])}", ("type",)
        )
    return TriggerConfig(type=own["type"], options=options)


_converter = _make_converter()


def structure_config(data: dict[str, Any]) -> Config:
    """Turn parsed TOML into a :class:`Config`; raises :class:`SchemaIssues` with every
    problem found (absolute key paths)."""
    try:
        return _converter.structure(data, Config)
    except Exception as exc:
        raise SchemaIssues(issues_from_exception(exc)) from None
