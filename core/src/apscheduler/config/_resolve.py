"""Second validation step: turn the names in a configuration into real objects.

Everything that can be checked without touching the data store is checked here, and all
problems are reported together: plugin names (data store, event broker, executors,
triggers), component options, importability of task functions, trigger options,
arguments against the function's signature and against the store's serializer.
Components are created but not started, so nothing is written anywhere.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import os
import re
import sys
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any

import attrs

from .._clock import get_clock
from .._converters import as_timezone, timezone_name
from .._decorators import get_task_parameters
from .._exceptions import SerializationError, UnknownPluginError
from .._marshalling import callable_to_ref
from .._registry import get_registry
from .._schedulers._tasks import default_executor_for
from .._structures import TaskDefaults, UnsetValue, merge_metadata, unset
from ..abc import DataStore, EventBroker, JobExecutor, Trigger
from ._errors import KeyPath, SchemaIssues, suggest
from ._loader import ConfigFile
from ._schema import ComponentConfig, ScheduleConfig, TaskConfig
from ._triggers import MissingPlugin, build_trigger, trigger_options
from ._values import UNLIMITED

#: Metadata key under which ``apscheduler run`` stores the digest of a schedule's
#: definition, to tell an unchanged schedule (kept as is) from an edited one (replaced).
DIGEST_KEY = "apscheduler.config_digest"

_PLACEHOLDER = re.compile(r"\$\{(config_dir|env:([A-Za-z_][A-Za-z0-9_]*))\}")


@attrs.define(eq=False)
class Services:
    """The data store and event broker of a configuration, created but not started."""

    data_store: DataStore
    event_broker: EventBroker
    timezone: tzinfo
    description: str


@attrs.define(eq=False)
class ResolvedTask:
    """A task with every setting decided (file > ``@task`` decorator > defaults)."""

    id: str
    func: Callable[..., Any]
    func_ref: str
    job_executor: str
    max_running_jobs: int | None
    misfire_grace_time: timedelta | None
    metadata: dict[str, Any]

    def fingerprint(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "func": self.func_ref,
            "job_executor": self.job_executor,
            "max_running_jobs": self.max_running_jobs,
            "misfire_grace_time": _seconds(self.misfire_grace_time),
            "metadata": self.metadata,
        }


@attrs.define(eq=False)
class ResolvedSchedule:
    """A schedule ready for ``add_schedule``."""

    id: str
    path: KeyPath
    task: ResolvedTask
    trigger: Trigger
    trigger_name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    name: str | None
    paused: bool
    coalesce: Any
    misfire_grace_time: timedelta | None | UnsetValue
    max_jitter: timedelta | None
    job_executor: str | UnsetValue
    max_running_jobs: int | None | UnsetValue
    job_result_expiration_time: timedelta
    metadata: dict[str, Any]
    digest: str


@attrs.define(eq=False)
class SkippedSchedule:
    """An ``optional`` schedule left out because a plugin it needs is missing."""

    id: str
    reason: str


@attrs.define(eq=False)
class ResolvedConfig:
    """Everything ``apscheduler run`` needs, validated."""

    file: ConfigFile
    services: Services
    job_executors: dict[str, JobExecutor]
    task_defaults: TaskDefaults
    tasks: list[ResolvedTask]
    schedules: list[ResolvedSchedule]
    skipped: list[SkippedSchedule]
    #: When the file was resolved: the anchor of relative times (``"+5s"``)
    now: datetime

    def scheduler_options(self) -> dict[str, Any]:
        """Keyword arguments for ``AsyncScheduler`` / ``Scheduler``."""
        section = self.file.config.scheduler
        return {
            "data_store": self.services.data_store,
            "event_broker": self.services.event_broker,
            "lease_duration": section.lease_duration,
            "identity": section.identity,
            "role": section.role,
            "task_defaults": self.task_defaults,
            "max_concurrent_jobs": section.max_concurrent_jobs,
            "job_executors": dict(self.job_executors),
            "cleanup_interval": section.cleanup_interval or None,
            "poll_interval": section.poll_interval,
            "stop_timeout": section.stop_timeout,
            "timezone": self.services.timezone,
            "schedule_batch_size": section.schedule_batch_size,
        }


class _Issues:
    """Collects (path, message) pairs while resolving."""

    def __init__(self) -> None:
        self.items: list[tuple[KeyPath, str]] = []

    def add(self, path: KeyPath, message: str) -> None:
        self.items.append((path, message))

    def extend(self, prefix: KeyPath, exc: SchemaIssues) -> None:
        self.items.extend(((*prefix, *path), message) for path, message in exc.issues)


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


# ------------------------------------------------------------------------ placeholders


def expand(value: Any, file: ConfigFile) -> Any:
    """Replace ``${config_dir}`` and ``${env:NAME}`` in strings (recursively).

    :raises SchemaIssues: naming an environment variable that is not set
    """
    if isinstance(value, str):
        def replace(match: re.Match[str]) -> str:
            if match.group(1) == "config_dir":
                return file.base_dir.as_posix()
            name = match.group(2)
            if name not in os.environ:
                raise SchemaIssues.single(f"environment variable {name} is not set")
            return os.environ[name]

        return _PLACEHOLDER.sub(replace, value)
    if isinstance(value, list):
        return [expand(item, file) for item in value]
    if isinstance(value, dict):
        return {key: expand(item, file) for key, item in value.items()}
    return value


# ------------------------------------------------------------------------ sys.path


def python_path_entries(file: ConfigFile) -> list[str]:
    """The ``path`` entries as absolute directories (relative ones: to the config's
    directory); :class:`SchemaIssues` for entries that are not directories."""
    entries: list[str] = []
    issues: list[tuple[KeyPath, str]] = []
    for index, entry in enumerate(file.config.path):
        try:
            text = expand(entry, file)
        except SchemaIssues as exc:
            issues.extend(((index, *p), m) for p, m in exc.issues)
            continue
        directory = (file.base_dir / text).resolve()
        if not directory.is_dir():
            issues.append(((index,), f"directory {str(directory)!r} does not exist"))
            continue
        entries.append(str(directory))
    if issues:
        raise SchemaIssues(issues)
    return entries


def add_python_path(entries: list[str], *, environment: bool = False) -> None:
    """Put ``entries`` first on ``sys.path`` (and on ``PYTHONPATH`` for child processes,
    such as those of a process pool, if ``environment``)."""
    for entry in reversed(entries):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    if environment and entries:
        current = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        os.environ["PYTHONPATH"] = os.pathsep.join(
            [*entries, *(p for p in current if p not in entries)]
        )


# ------------------------------------------------------------------------ components


def _component_class(kind: str, type_: str | None, url: str | None) -> Any:
    registry = get_registry()
    if type_:
        return registry.resolve(kind, type_)
    assert url is not None
    return registry.resolve_url(kind, url).load()


def _check_options(
    factory: Any, options: Mapping[str, Any], what: str, skip: tuple[str, ...] = ()
) -> list[tuple[KeyPath, str]]:
    allowed, var_keyword, _ = trigger_options(factory)
    allowed = [name for name in allowed if name not in skip]
    if var_keyword:
        return []
    return [
        (
            (key,),
            (
                f"unknown option for {what}{suggest(key, allowed)}; "
                f"its options: {', '.join(allowed) or '(none)'}"
            ),
        )
        for key in options
        if key not in allowed
    ]


def build_component(
    file: ConfigFile, kind: str, spec: ComponentConfig, base: type, path: KeyPath
) -> Any:
    """Create (without starting) the data store / event broker / executor of ``spec``.

    :raises SchemaIssues: with paths relative to the configuration root
    """
    table_form = isinstance(file.raw(path), dict)
    label = kind.replace("_", " ")
    try:
        type_ = expand(spec.type, file)
        url = expand(spec.url, file)
        options = expand(spec.options, file)
    except SchemaIssues as exc:
        raise SchemaIssues([((*path, *p), m) for p, m in exc.issues]) from None
    name_path = (*path, "type" if spec.type else "url") if table_form else path
    try:
        cls = _component_class(kind, type_, url)
    except (UnknownPluginError, ImportError) as exc:
        raise SchemaIssues([(name_path, str(exc))]) from None
    factory = getattr(cls, "from_url", None) if url else cls
    factory = factory or cls
    what = f"the {type_ or url!r} {label}"
    option_issues = _check_options(factory, options, what, skip=("url",))
    if option_issues:
        raise SchemaIssues([((*path, *p), m) for p, m in option_issues])
    spec_dict = {key: value for key, value in (("type", type_), ("url", url)) if value}
    try:
        return get_registry().create(kind, {**spec_dict, **options}, base)
    except Exception as exc:
        message = str(exc) if isinstance(exc, (ValueError, TypeError)) else (
            f"{type(exc).__name__}: {exc}"
        )
        mentioned = [key for key in options if re.search(rf"\b{re.escape(key)}\b", message)]
        where = (*path, mentioned[0]) if len(mentioned) == 1 and table_form else path
        raise SchemaIssues([(where, f"cannot create the {label}: {message}")]) from None


def resolve_services(file: ConfigFile) -> Services:
    """Create the data store and event broker (not started) and the time zone.

    Enough for the management commands, which do not import task modules.

    :raises ConfigError: listing every problem found
    """
    issues = _Issues()
    services = _resolve_services(file, issues)
    if issues.items or services is None:
        raise file.error(issues.items)
    return services


def _resolve_services(file: ConfigFile, issues: _Issues) -> Services | None:
    config = file.config
    timezone: tzinfo | None = None
    try:
        timezone = as_timezone(config.scheduler.timezone)
    except (ValueError, TypeError) as exc:
        issues.add(("scheduler", "timezone"), str(exc))
    for name in ("lease_duration", "poll_interval"):
        if getattr(config.scheduler, name) <= timedelta(0):
            issues.add(("scheduler", name), "must be greater than zero")
    store = broker = None
    try:
        store = build_component(file, "data_store", config.data_store, DataStore,
                                ("data_store",))
    except SchemaIssues as exc:
        issues.extend((), exc)
    try:
        broker = build_component(file, "event_broker", config.event_broker, EventBroker,
                                 ("event_broker",))
    except SchemaIssues as exc:
        issues.extend((), exc)
    if store is None or broker is None or timezone is None:
        return None
    description = (
        f"data store {_describe(file, config.data_store)}, event broker "
        f"{_describe(file, config.event_broker)}"
    )
    return Services(store, broker, timezone, description)


def _describe(file: ConfigFile, spec: ComponentConfig) -> str:
    """The component as an operator wrote it, placeholders expanded, password hidden."""
    expanded = ComponentConfig(type=expand(spec.type, file), url=expand(spec.url, file))
    return expanded.describe()


# ------------------------------------------------------------------------ functions


def import_callable(ref: str) -> Callable[..., Any]:
    """Import ``"package.module:function"``; :class:`SchemaIssues` with a clear reason."""
    module_name, _, attribute = ref.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or module_name
        if module_name == missing or module_name.startswith(missing + "."):
            raise SchemaIssues.single(
                f"cannot import module {module_name!r}: no module named {missing!r} (is its "
                f"directory listed in 'path'?)"
            ) from None
        raise SchemaIssues.single(f"importing module {module_name!r} failed: {exc}") from None
    except Exception as exc:
        raise SchemaIssues.single(
            f"importing module {module_name!r} raised {type(exc).__name__}: {exc}"
        ) from None
    for part in attribute.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            names = [name for name in dir(obj) if not name.startswith("_")]
            raise SchemaIssues.single(
                f"{module_name!r} has no attribute {part!r}{suggest(part, names)}"
            ) from None
    if not callable(obj):
        raise SchemaIssues.single(f"{ref!r} is not callable (it is {type(obj).__name__})")
    return obj


def _limit(value: Any) -> int | None | UnsetValue:
    if value is None:
        return unset
    return None if value == UNLIMITED else value


def _grace(value: Any) -> timedelta | None | UnsetValue:
    if value is None:
        return unset
    return None if value == UNLIMITED else value


def _first_set(*values: Any) -> Any:
    for value in values:
        if not isinstance(value, UnsetValue):
            return value
    return unset


def _resolve_task(
    task_id: str,
    func: Callable[..., Any],
    func_ref: str,
    section: TaskConfig | None,
    defaults: TaskDefaults,
) -> ResolvedTask:
    decorated = get_task_parameters(func)
    executor = _first_set(
        section.job_executor if section and section.job_executor else unset,
        decorated.job_executor,
    )
    if isinstance(executor, UnsetValue):
        executor = default_executor_for(func, defaults)
    limit = _first_set(_limit(section.max_running_jobs) if section else unset,
                       decorated.max_running_jobs)
    grace = _first_set(_grace(section.misfire_grace_time) if section else unset,
                       decorated.misfire_grace_time)
    if isinstance(grace, (int, float)):
        grace = timedelta(seconds=grace)
    metadata = merge_metadata(
        defaults.metadata,
        _first_set(decorated.metadata, None),
        section.metadata if section else None,
    )
    return ResolvedTask(
        id=task_id,
        func=func,
        func_ref=func_ref,
        job_executor=executor,
        max_running_jobs=defaults.max_running_jobs if isinstance(limit, UnsetValue) else limit,
        misfire_grace_time=(
            defaults.misfire_grace_time if isinstance(grace, UnsetValue) else grace
        ),
        metadata=metadata,
    )


# ------------------------------------------------------------------------ whole file


def resolve_config(file: ConfigFile, *, now: datetime | None = None) -> ResolvedConfig:
    """Resolve every name in the configuration, import the task functions (after adding
    ``path`` to ``sys.path``) and build the triggers.

    Nothing is started or written. ``now`` anchors relative times (``"+5s"``).

    :raises ConfigError: listing every problem found
    """
    config = file.config
    issues = _Issues()
    now = now or get_clock().now()
    try:
        add_python_path(python_path_entries(file))
    except SchemaIssues as exc:
        issues.extend(("path",), exc)

    services = _resolve_services(file, issues)
    registry = get_registry()

    executors: dict[str, JobExecutor] = {}
    for name, executor_section in config.executors.items():
        path: KeyPath = ("executors", name)
        spec = ComponentConfig(type=executor_section.type or name,
                               options=executor_section.options)
        try:
            executors[name] = build_component(file, "job_executor", spec, JobExecutor, path)
        except SchemaIssues as exc:
            if executor_section.type is None:  # the table's name is the type
                exc = SchemaIssues([(p[:2] if p[2:] == ("type",) else p, m)
                                    for p, m in exc.issues])
            issues.extend((), exc)

    def check_executor(name: str, where: KeyPath) -> str | None:
        """``None`` if usable, else why not."""
        if name in executors or name in config.executors:
            return None
        try:
            registry.resolve("job_executor", name)
        except UnknownPluginError as exc:
            defined = f" Executors defined in this file: {', '.join(config.executors)}." if (
                config.executors) else ""
            hint = suggest(name, config.executors)
            return f"{exc}{defined}{hint}"
        except ImportError as exc:
            return str(exc)
        return None

    defaults_section = config.task_defaults
    if defaults_section.job_executor:
        problem = check_executor(defaults_section.job_executor, ("task_defaults",))
        if problem:
            issues.add(("task_defaults", "job_executor"), problem)
    default_limit = _limit(defaults_section.max_running_jobs)
    default_grace = _grace(defaults_section.misfire_grace_time)
    task_defaults = TaskDefaults(
        job_executor=defaults_section.job_executor or unset,
        max_running_jobs=1 if isinstance(default_limit, UnsetValue) else default_limit,
        misfire_grace_time=None if isinstance(default_grace, UnsetValue) else default_grace,
        metadata=defaults_section.metadata or {},
    )

    tasks: dict[str, ResolvedTask] = {}
    failed_tasks: set[str] = set()
    for task_id, task_section in config.tasks.items():
        path = ("tasks", task_id)
        try:
            func = import_callable(task_section.func)
        except SchemaIssues as exc:
            issues.extend((*path, "func"), exc)
            failed_tasks.add(task_id)
            continue
        task = _resolve_task(task_id, func, task_section.func, task_section, task_defaults)
        problem = check_executor(task.job_executor, path)
        if problem:
            issues.add((*path, "job_executor"), problem)
            failed_tasks.add(task_id)
            continue
        tasks[task_id] = task

    schedules: list[ResolvedSchedule] = []
    skipped: list[SkippedSchedule] = []
    timezone = services.timezone if services else as_timezone(None)
    serializer = getattr(services.data_store, "serializer", None) if services else None
    for schedule_section, path in zip(config.schedules, config.schedules.paths):
        result = _resolve_schedule(
            file, schedule_section, path, tasks, failed_tasks, task_defaults, timezone, now,
            serializer, check_executor, issues,
        )
        if isinstance(result, SkippedSchedule):
            skipped.append(result)
        elif result is not None:
            schedules.append(result)

    if issues.items or services is None:
        raise file.error(issues.items)
    return ResolvedConfig(
        file=file,
        services=services,
        job_executors=executors,
        task_defaults=task_defaults,
        tasks=list(tasks.values()),
        schedules=schedules,
        skipped=skipped,
        now=now,
    )


def _resolve_schedule(
    file: ConfigFile,
    section: ScheduleConfig,
    path: KeyPath,
    tasks: dict[str, ResolvedTask],
    failed_tasks: set[str],
    task_defaults: TaskDefaults,
    timezone: tzinfo,
    now: datetime,
    serializer: Any,
    check_executor: Callable[[str, KeyPath], str | None],
    issues: _Issues,
) -> ResolvedSchedule | SkippedSchedule | None:
    assert section.id is not None
    local = _Issues()
    missing_plugins: list[str] = []

    task: ResolvedTask | None = None
    if section.task and section.func:
        local.add(path, "give either 'task' or 'func', not both")
    elif section.task:
        task = tasks.get(section.task)
        if task is None and section.task not in failed_tasks:
            defined = ", ".join(file.config.tasks) or "(none)"
            local.add((*path, "task"), f"unknown task {section.task!r}"
                                       f"{suggest(section.task, file.config.tasks)}; tasks "
                                       f"defined in this file: {defined}")
    elif section.func:
        try:
            func = import_callable(section.func)
        except SchemaIssues as exc:
            local.extend((*path, "func"), exc)
        else:
            task = _implicit_task(func, section.func, tasks, task_defaults, path, local)
    else:
        local.add(path, "needs 'task' (the ID of a [tasks] entry) or 'func' "
                        "('package.module:function')")

    trigger_path: KeyPath = (*path, "trigger")
    trigger: Trigger | None = None
    try:
        trigger = build_trigger(
            section.trigger.type, section.trigger.options, timezone=timezone, now=now
        )
    except MissingPlugin as exc:
        missing_plugins.extend(message for _, message in exc.issues)
        if not section.optional:
            local.extend(trigger_path, _name_issue(file, trigger_path, exc))
    except SchemaIssues as exc:
        local.extend(trigger_path, _name_issue(file, trigger_path, exc))

    if section.job_executor:
        problem = check_executor(section.job_executor, path)
        if problem:
            missing_plugins.append(problem)
            if not section.optional:
                local.add((*path, "job_executor"), problem)

    if task is not None:
        _check_arguments(task, section, path, serializer, local)

    if section.optional and missing_plugins and not local.items:
        return SkippedSchedule(section.id, missing_plugins[0])
    if local.items or task is None or trigger is None:
        issues.items.extend(local.items)
        return None

    tasks.setdefault(task.id, task)  # a function's own task, shared by its schedules
    digest = _digest(file, section, path, task, timezone)
    return ResolvedSchedule(
        id=section.id,
        path=path,
        task=task,
        trigger=trigger,
        trigger_name=section.trigger.type,
        args=tuple(section.args),
        kwargs=dict(section.kwargs),
        name=section.name,
        paused=section.paused,
        coalesce=section.coalesce,
        misfire_grace_time=_grace(section.misfire_grace_time),
        max_jitter=section.max_jitter,
        job_executor=section.job_executor or unset,
        max_running_jobs=_limit(section.max_running_jobs),
        job_result_expiration_time=section.job_result_expiration_time,
        metadata={**(section.metadata or {}), DIGEST_KEY: digest},
        digest=digest,
    )


def _name_issue(file: ConfigFile, trigger_path: KeyPath, exc: SchemaIssues) -> SchemaIssues:
    """For ``trigger = "name"`` (a string), report a bad name at ``trigger`` itself."""
    if isinstance(file.raw(trigger_path), str):
        return SchemaIssues([((), m) if p == ("type",) else (p, m) for p, m in exc.issues])
    return exc


def _implicit_task(
    func: Callable[..., Any],
    func_ref: str,
    tasks: dict[str, ResolvedTask],
    task_defaults: TaskDefaults,
    path: KeyPath,
    issues: _Issues,
) -> ResolvedTask | None:
    """The task of a schedule that names a function: ID from ``@task(id=...)`` or the
    function's reference, settings from the decorator and the defaults. The caller
    records it in ``tasks`` once the schedule is accepted."""
    decorated_id = get_task_parameters(func).id
    if isinstance(decorated_id, str):
        task_id = decorated_id
    else:
        try:
            task_id = callable_to_ref(func)
        except SerializationError as exc:
            issues.add((*path, "func"), str(exc))
            return None
    existing = tasks.get(task_id)
    if existing is not None:
        return existing
    return _resolve_task(task_id, func, func_ref, None, task_defaults)


def _check_arguments(
    task: ResolvedTask,
    section: ScheduleConfig,
    path: KeyPath,
    serializer: Any,
    issues: _Issues,
) -> None:
    where: KeyPath = (*path, "kwargs") if section.kwargs else (*path, "args")
    try:
        signature = inspect.signature(task.func)
    except (TypeError, ValueError):
        signature = None
    if signature is not None:
        try:
            signature.bind(*section.args, **section.kwargs)
        except TypeError as exc:
            target = where if (section.args or section.kwargs) else path
            issues.add(target, f"the arguments do not fit {task.func_ref}{signature}: {exc}")
            return
    if serializer is not None:
        for key, value in (("args", tuple(section.args)), ("kwargs", dict(section.kwargs))):
            try:
                serializer.serialize(value)
            except SerializationError as exc:
                issues.add((*path, key), str(exc))


def _digest(
    file: ConfigFile, section: ScheduleConfig, path: KeyPath, task: ResolvedTask,
    timezone: tzinfo,
) -> str:
    """A short hash of everything that defines the schedule in the file."""
    try:
        zone = timezone_name(timezone)
    except ValueError:
        zone = str(timezone)
    payload = {
        "id": section.id,
        "schedule": file.raw(path),
        "task": task.fingerprint(),
        "timezone": zone,
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

