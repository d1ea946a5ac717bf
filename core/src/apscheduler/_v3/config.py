"""APScheduler 3 configuration: ``gconfig`` dicts, job defaults, and job stores and
executors given as configuration dicts or plugin names."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from typing import Any

import attrs

from ..abc import DataStore, JobExecutor, Serializer

#: v3 job store plugin names → (module, class)
JOBSTORE_TYPES: dict[str, tuple[str, str]] = {
    "memory": ("apscheduler.jobstores.memory", "MemoryJobStore"),
    "sqlalchemy": ("apscheduler.jobstores.sqlalchemy", "SQLAlchemyJobStore"),
    "redis": ("apscheduler.jobstores.redis", "RedisJobStore"),
    "mongodb": ("apscheduler.jobstores.mongodb", "MongoDBJobStore"),
}

#: v3 executor plugin names → (module, class)
EXECUTOR_TYPES: dict[str, tuple[str, str]] = {
    "threadpool": ("apscheduler.executors.pool", "ThreadPoolExecutor"),
    "processpool": ("apscheduler.executors.pool", "ProcessPoolExecutor"),
    "asyncio": ("apscheduler.executors.asyncio", "AsyncIOExecutor"),
}

#: v3 stores and executors that have no counterpart here, with what to use instead
UNSUPPORTED_TYPES: dict[str, str] = {
    "rethinkdb": "use the sqlalchemy, mongodb or redis job store",
    "zookeeper": "use the sqlalchemy, mongodb or redis job store",
    "etcd": "use the sqlalchemy, mongodb or redis job store",
    "gevent": "use the threadpool executor",
    "tornado": "use the asyncio executor (Tornado runs on asyncio)",
    "twisted": "use the threadpool or asyncio executor",
    "debug": "use the threadpool executor",
}


def asint(value: Any) -> int | None:
    """``int(value)`` unless it is ``None`` (configuration values may be strings)."""
    return None if value is None else int(value)


def asbool(value: Any) -> bool:
    """Interpret ``"true"``/``"false"``/``"yes"``/``"no"``/``"1"``/``"0"``... as a bool."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "yes", "on", "y", "t", "1"):
            return True
        if text in ("false", "no", "off", "n", "f", "0"):
            return False
        raise ValueError(f'Unable to interpret value "{value}" as boolean')
    return bool(value)


def maybe_ref(value: Any) -> Any:
    """Return the object that a ``"package.module:name"`` reference points to; any other
    value is returned as is."""
    if not isinstance(value, str) or ":" not in value:
        return value
    module_name, _, qualname = value.partition(":")
    try:
        obj: Any = import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise LookupError(f"Cannot resolve the reference {value!r}: {exc}") from exc
    return obj


def parse_gconfig(
    gconfig: Mapping[str, Any], prefix: str | None, options: Mapping[str, Any]
) -> dict[str, Any]:
    """Turn a flat ``gconfig`` (``{"apscheduler.job_defaults.coalesce": "false"}``) into a
    nested dict, keeping only the keys that start with ``prefix``, and let keyword
    ``options`` override it (APScheduler 3's ``configure()`` rules)."""
    if prefix:
        gconfig = {
            key[len(prefix) :]: value for key, value in gconfig.items() if key.startswith(prefix)
        }
    config: dict[str, Any] = {}
    for dotted, value in gconfig.items():
        parts = dotted.split(".")
        parent = config
        for part in parts[:-1]:
            child = parent.setdefault(part, {})
            if not isinstance(child, dict):
                raise ValueError(f"Conflicting configuration keys at {dotted!r}")
            parent = child
        parent[parts[-1]] = value
    config.update(options)
    return config


@attrs.define(frozen=True)
class JobDefaults:
    """Values for the options a job does not set (APScheduler 3 defaults)."""

    misfire_grace_time: int | None = 1
    coalesce: bool = True
    max_instances: int = 1

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> JobDefaults:
        config = config or {}
        unknown = set(config) - {"misfire_grace_time", "coalesce", "max_instances"}
        if unknown:
            raise ValueError(f"Unknown job_defaults option(s): {', '.join(sorted(unknown))}")
        grace = config.get("misfire_grace_time", 1)
        return cls(
            misfire_grace_time=None if grace is None else asint(grace),
            coalesce=asbool(config.get("coalesce", True)),
            max_instances=asint(config.get("max_instances", 1)) or 1,
        )


def _plugin_class(kind: str, name: str, table: dict[str, tuple[str, str]]) -> Any:
    target = table.get(name)
    if target is None:
        hint = UNSUPPORTED_TYPES.get(name)
        if hint:
            raise LookupError(
                f"The {kind} type {name!r} of APScheduler 3 is not supported: {hint}"
            )
        raise LookupError(
            f'No {kind} by the name "{name}" was found; known types: {", ".join(sorted(table))}'
        )
    module_name, class_name = target
    return getattr(import_module(module_name), class_name)


def create_jobstore(alias: str, value: Any, **options: Any) -> Any:
    """Build a job store from a v3 job store, a core data store, a plugin name or a
    configuration dict (``{"type": "sqlalchemy", "url": ...}`` or ``{"class": ...}``)."""
    from ..jobstores.base import BaseJobStore

    if isinstance(value, (BaseJobStore, DataStore)):
        if options:
            raise TypeError("Options cannot be given with a job store instance")
        return value
    if isinstance(value, str):
        return _plugin_class("job store", value, JOBSTORE_TYPES)(**options)
    if isinstance(value, Mapping):
        settings = {**value, **options}
        cls_ref = settings.pop("class", None)
        plugin = settings.pop("type", None)
        if plugin:
            return _plugin_class("job store", plugin, JOBSTORE_TYPES)(**settings)
        if cls_ref:
            return maybe_ref(cls_ref)(**settings)
        raise ValueError(
            f'Cannot create job store "{alias}" -- either "type" or "class" must be defined'
        )
    raise TypeError(
        f"Expected job store instance or dict for jobstores['{alias}'], got "
        f"{type(value).__name__} instead"
    )


def create_executor(alias: str, value: Any, **options: Any) -> JobExecutor:
    """Build an executor from a v3 executor, a core job executor, a plugin name or a
    configuration dict (``{"type": "threadpool", "max_workers": 20}`` or
    ``{"class": "apscheduler.executors.pool:ThreadPoolExecutor", ...}``)."""
    if isinstance(value, JobExecutor):
        if options:
            raise TypeError("Options cannot be given with an executor instance")
        return value
    if isinstance(value, str):
        return _plugin_class("executor", value, EXECUTOR_TYPES)(**options)
    if isinstance(value, Mapping):
        settings = {**value, **options}
        cls_ref = settings.pop("class", None)
        plugin = settings.pop("type", None)
        if plugin:
            return _plugin_class("executor", plugin, EXECUTOR_TYPES)(**settings)
        if cls_ref:
            return maybe_ref(cls_ref)(**settings)
        raise ValueError(
            f'Cannot create executor "{alias}" -- either "type" or "class" must be defined'
        )
    raise TypeError(
        f"Expected executor instance or dict for executors['{alias}'], got "
        f"{type(value).__name__} instead"
    )


def serializer_for(serializer: Serializer | str | None, pickle_protocol: int | None) -> Any:
    """The serializer a v3 job store asks for: an explicit one, else pickle when a pickle
    protocol was given, else ``None`` (the data store's default, JSON)."""
    if serializer is not None:
        return serializer
    if pickle_protocol is not None:
        from ..serializers.pickle import PickleSerializer

        return PickleSerializer(protocol=int(pickle_protocol))
    return None
