"""The plugin registry: finds plugins, records what they register, resolves names.

Plugins are found through the ``apscheduler`` entry-point group and registered with a
pluggy ``PluginManager``; the built-in components come from :mod:`apscheduler._builtins`,
registered through the very same hooks. Each registrar hook is called once, when the
registry is first used; the components themselves are imported only when resolved.

Environment controls (read when the registry is built):

* ``APSCHEDULER_PLUGINS``: comma-separated entry-point names; only these are loaded.
* ``APSCHEDULER_DISABLE_PLUGINS``: comma-separated entry-point names that are skipped.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from difflib import get_close_matches
from importlib import import_module
from typing import Any

import attrs
import pluggy

from . import hookspecs
from ._exceptions import PluginConflictError, UnknownPluginError

if sys.version_info >= (3, 12):
    from importlib.metadata import EntryPoint, entry_points
else:  # the backport gives the same EntryPoint.dist API on older Pythons
    from importlib_metadata import EntryPoint, entry_points

#: Component kinds and the registrar hook of each.
KIND_HOOKS: dict[str, str] = {
    "trigger": "register_triggers",
    "data_store": "register_data_stores",
    "event_broker": "register_event_brokers",
    "job_executor": "register_job_executors",
    "serializer": "register_serializers",
}

#: Names provided by this repository's plugins, mapped to the extra that installs them.
BUNDLED_NAMES: dict[tuple[str, str], str] = {
    ("data_store", "sqlalchemy"): "sqlalchemy",
    ("data_store", "mongodb"): "mongodb",
    ("data_store", "redis"): "redis",
    ("event_broker", "redis"): "redis",
    ("event_broker", "mqtt"): "mqtt",
    ("event_broker", "asyncpg"): "postgresql",
    ("event_broker", "psycopg"): "postgresql",
    ("job_executor", "processpool"): "processpool",
}

#: URL schemes claimed by this repository's plugins, mapped to the extra that installs them.
BUNDLED_SCHEMES: dict[tuple[str, str], str] = {
    **{
        ("data_store", scheme): extra
        for scheme, extra in {
            "sqlite": "sqlite",
            "sqlite+aiosqlite": "sqlite",
            "sqlite+pysqlite": "sqlite",
            "postgresql": "postgresql",
            "postgresql+asyncpg": "postgresql",
            "postgresql+psycopg": "postgresql",
            "postgresql+psycopg2": "postgresql",
            "mysql": "mysql",
            "mysql+asyncmy": "mysql",
            "mysql+pymysql": "mysql",
            "mariadb": "mysql",
            "mariadb+asyncmy": "mysql",
            "mariadb+pymysql": "mysql",
            "mongodb": "mongodb",
            "mongodb+srv": "mongodb",
            "redis": "redis",
            "rediss": "redis",
        }.items()
    },
    ("event_broker", "redis"): "redis",
    ("event_broker", "rediss"): "redis",
    ("event_broker", "mqtt"): "mqtt",
    ("event_broker", "mqtts"): "mqtt",
    ("event_broker", "postgresql"): "postgresql",
    ("event_broker", "postgresql+asyncpg"): "postgresql",
    ("event_broker", "postgresql+psycopg"): "postgresql",
}


def install_hint(extra: str) -> str:
    return f'pip install "apscheduler[{extra}]"'


@attrs.define(eq=False)
class Registration:
    """One component registered by a plugin."""

    kind: str
    name: str
    target: Any
    plugin: str
    distribution: str | None = None
    version: str | None = None
    url_schemes: tuple[str, ...] = ()
    description: str = ""
    _loaded: Any = None

    def load(self) -> Any:
        """Return the registered class/factory, importing a lazy target on first use."""
        if self._loaded is None:
            target = self.target
            if isinstance(target, str):
                module_name, _, attr = target.partition(":")
                if not attr:
                    raise ValueError(
                        f"Plugin {self.plugin!r} registered {self.kind} {self.name!r} with "
                        f"target {target!r}; lazy targets must look like 'module:attr'"
                    )
                try:
                    obj: Any = import_module(module_name)
                except ImportError as exc:
                    extra = BUNDLED_NAMES.get((self.kind, self.name))
                    hint = f" Install its dependencies: {install_hint(extra)}" if extra else ""
                    raise ImportError(
                        f"Cannot load {self.kind.replace('_', ' ')} {self.name!r} from "
                        f"plugin {self.plugin!r}: {exc}.{hint}"
                    ) from exc
                for part in attr.split("."):
                    obj = getattr(obj, part)
                target = obj
            self._loaded = target
        return self._loaded

    @property
    def target_ref(self) -> str:
        if isinstance(self.target, str):
            return self.target
        return f"{self.target.__module__}:{self.target.__qualname__}"


@attrs.define(eq=False)
class PluginInfo:
    """A loaded plugin: where it comes from and what it registers."""

    name: str
    distribution: str | None
    version: str | None
    registrations: list[Registration] = attrs.field(factory=list)


def _split_env(name: str) -> set[str] | None:
    value = os.environ.get(name)
    if value is None:
        return None
    return {item.strip() for item in value.split(",") if item.strip()}


class PluginRegistry:
    """Holds every registered component, by kind, name and URL scheme."""

    def __init__(self, *, load_entry_points: bool = True):
        self._lock = threading.RLock()
        self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self._plugin_meta: dict[str, tuple[str | None, str | None]] = {}
        self._by_name: dict[str, dict[str, Registration]] = {kind: {} for kind in KIND_HOOKS}
        self._by_scheme: dict[str, dict[str, Registration]] = {kind: {} for kind in KIND_HOOKS}
        self._by_target: dict[str, dict[Any, Registration]] = {kind: {} for kind in KIND_HOOKS}
        self._plugins: dict[str, PluginInfo] = {}
        self.errors: list[str] = []

        from . import _builtins

        self._add_plugin(_builtins, "builtins", "apscheduler", _core_version())
        if load_entry_points:
            self._load_entry_points()

    # Discovery

    def _load_entry_points(self) -> None:
        allowed = _split_env("APSCHEDULER_PLUGINS")
        blocked = _split_env("APSCHEDULER_DISABLE_PLUGINS") or set()
        for ep in _apscheduler_entry_points():
            if ep.name in blocked or (allowed is not None and ep.name not in allowed):
                continue
            dist = getattr(ep, "dist", None)
            dist_name = dist.metadata["Name"] if dist is not None else None
            dist_version = dist.version if dist is not None else None
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken plugin must not break the scheduler
                self.errors.append(f"Plugin {ep.name!r} ({ep.value}) failed to load: {exc}")
                continue
            self._add_plugin(plugin, ep.name, dist_name, dist_version)

    def _add_plugin(
        self, plugin: Any, name: str, distribution: str | None, version: str | None
    ) -> None:
        with self._lock:
            if self._pm.has_plugin(name):
                raise PluginConflictError(f"A plugin named {name!r} is already registered")
            self._pm.register(plugin, name=name)
            info = PluginInfo(name, distribution, version)
            self._plugins[name] = info
            try:
                for kind, hook_name in KIND_HOOKS.items():
                    hook = getattr(self._pm.hook, hook_name)
                    impls = [
                        impl for impl in hook.get_hookimpls() if impl.plugin_name == name
                    ]
                    for impl in impls:
                        impl.function(register=self._registrar(kind, info))
            except Exception:
                self._remove(name)
                raise

    def _registrar(self, kind: str, info: PluginInfo) -> Callable[..., None]:
        def register(
            name: str,
            target: Any,
            *,
            url_schemes: Iterable[str] = (),
            description: str = "",
        ) -> None:
            if not isinstance(name, str) or not name:
                raise ValueError(f"Plugin {info.name!r}: a {kind} name must be a non-empty str")
            registration = Registration(
                kind=kind,
                name=name,
                target=target,
                plugin=info.name,
                distribution=info.distribution,
                version=info.version,
                url_schemes=tuple(url_schemes),
                description=description or _first_doc_line(target),
            )
            existing = self._by_name[kind].get(name)
            if existing is not None:
                raise PluginConflictError(
                    f"Two plugins register the {kind.replace('_', ' ')} {name!r}: "
                    f"{_describe(existing)} and {_describe(registration)}. "
                    f"Uninstall one, or block one with APSCHEDULER_DISABLE_PLUGINS."
                )
            for scheme in registration.url_schemes:
                owner = self._by_scheme[kind].get(scheme)
                if owner is not None:
                    raise PluginConflictError(
                        f"Two plugins claim the URL scheme {scheme!r} for a "
                        f"{kind.replace('_', ' ')}: {_describe(owner)} and "
                        f"{_describe(registration)}"
                    )
            self._by_name[kind][name] = registration
            for scheme in registration.url_schemes:
                self._by_scheme[kind][scheme] = registration
            self._by_target[kind][target] = registration
            info.registrations.append(registration)

        return register

    def _remove(self, name: str) -> None:
        info = self._plugins.pop(name, None)
        if self._pm.has_plugin(name):
            self._pm.unregister(name=name)
        if info is None:
            return
        for reg in info.registrations:
            self._by_name[reg.kind].pop(reg.name, None)
            for scheme in reg.url_schemes:
                self._by_scheme[reg.kind].pop(scheme, None)
            self._by_target[reg.kind] = {
                key: value for key, value in self._by_target[reg.kind].items() if value is not reg
            }

    # In-code registration

    def register_plugin(self, plugin: Any, name: str | None = None) -> str:
        """Register a plugin object (a module or an object with ``@hookimpl`` methods)."""
        plugin_name = name or getattr(plugin, "__name__", None) or f"plugin-{id(plugin)}"
        self._add_plugin(plugin, plugin_name, None, None)
        return plugin_name

    def unregister_plugin(self, name: str) -> None:
        with self._lock:
            self._remove(name)

    # Lookup

    @property
    def hook(self) -> Any:
        """The pluggy hook relay (for lifecycle and CLI hooks)."""
        return self._pm.hook

    def plugins(self) -> list[PluginInfo]:
        return list(self._plugins.values())

    def names(self, kind: str) -> list[str]:
        return sorted(self._by_name[_check_kind(kind)])

    def registrations(self, kind: str) -> list[Registration]:
        return [self._by_name[kind][name] for name in self.names(kind)]

    def get(self, kind: str, name: str) -> Registration:
        """Return the registration of ``name``, or raise :class:`UnknownPluginError`."""
        try:
            return self._by_name[_check_kind(kind)][name]
        except KeyError:
            raise self._unknown(kind, name) from None

    def resolve(self, kind: str, name: str) -> Any:
        """Return the class registered as ``name``."""
        return self.get(kind, name).load()

    def resolve_url(self, kind: str, url: str) -> Registration:
        scheme = url.partition("://")[0].lower()
        try:
            return self._by_scheme[_check_kind(kind)][scheme]
        except KeyError:
            extra = BUNDLED_SCHEMES.get((kind, scheme))
            raise UnknownPluginError(
                f"{kind}_url_scheme",
                scheme,
                self._by_scheme[kind],
                suggestion=_closest(scheme, self._by_scheme[kind]),
                install_hint=install_hint(extra) if extra else None,
            ) from None

    def name_of(self, kind: str, cls: type) -> str:
        """Return the name under which ``cls`` is registered (for serialization)."""
        by_target = self._by_target[_check_kind(kind)]
        registration = by_target.get(cls)
        if registration is None:
            ref = f"{cls.__module__}:{cls.__qualname__}"
            registration = by_target.get(ref)
            if registration is None:
                package = cls.__module__.partition(".")[0]
                for reg in self._by_name[kind].values():
                    if isinstance(reg.target, str) and reg._loaded is None:
                        # An unloaded lazy target is loaded only if it lives in the
                        # class's own (already imported) package: it may name a
                        # re-export ("pkg:Cls" for the class defined in "pkg.mod")
                        if reg.target.partition(":")[0].partition(".")[0] != package:
                            continue
                        try:
                            reg.load()
                        except Exception:
                            continue
                    if reg.load() is cls:
                        registration = reg
                        break
            if registration is None:
                raise LookupError(
                    f"{cls.__qualname__} is not registered as a {kind.replace('_', ' ')}; "
                    f"register it in a plugin's {KIND_HOOKS[kind]} hook so that it can be "
                    f"stored by name"
                )
            by_target[cls] = registration
        return registration.name

    def _unknown(self, kind: str, name: str) -> UnknownPluginError:
        known = self._by_name[kind]
        extra = BUNDLED_NAMES.get((kind, name))
        return UnknownPluginError(
            kind,
            name,
            known,
            suggestion=_closest(name, known),
            install_hint=install_hint(extra) if extra else None,
        )

    # Construction

    def create(self, kind: str, spec: Any, base: type, **options: Any) -> Any:
        """Build a component from a name, a URL, a ``{"type": ..., ...}`` dict or an
        instance (returned as is)."""
        if isinstance(spec, base):
            if options:
                raise TypeError(f"Options cannot be given with a ready-made {kind} instance")
            return spec
        if isinstance(spec, Mapping):
            options = {**spec, **options}
            spec = options.pop("type", None) or options.pop("url", None)
            if spec is None:
                raise ValueError(f"A {kind} configuration needs a 'type' or a 'url' key")
        if not isinstance(spec, str):
            raise TypeError(
                f"Expected a {base.__name__}, a registered name or a URL for the "
                f"{kind.replace('_', ' ')}, got {type(spec).__name__}"
            )
        if "://" in spec:
            cls = self.resolve_url(kind, spec).load()
            from_url = getattr(cls, "from_url", None)
            if from_url is not None:
                return from_url(spec, **options)
            return cls(spec, **options)
        if "url" in options:
            url = options.pop("url")
            cls = self.resolve(kind, spec)
            from_url = getattr(cls, "from_url", None)
            return from_url(url, **options) if from_url else cls(url, **options)
        return self.resolve(kind, spec)(**options)


def _check_kind(kind: str) -> str:
    if kind not in KIND_HOOKS:
        raise ValueError(f"Unknown component kind {kind!r}; expected one of {list(KIND_HOOKS)}")
    return kind


def _closest(name: str, candidates: Iterable[str]) -> str | None:
    matches = get_close_matches(name, list(candidates), n=1, cutoff=0.5)
    if matches:
        return matches[0]
    for candidate in candidates:
        if candidate and (name.startswith(candidate) or candidate.startswith(name)):
            return candidate
    return None


def _describe(reg: Registration) -> str:
    where = reg.distribution or "code"
    return f"plugin {reg.plugin!r} (distribution {where}, target {reg.target_ref})"


def _first_doc_line(target: Any) -> str:
    if isinstance(target, str):
        return ""
    doc = getattr(target, "__doc__", None) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _apscheduler_entry_points() -> list[EntryPoint]:
    return list(entry_points(group=hookspecs.PROJECT_NAME))


def _core_version() -> str | None:
    from . import __version__

    return __version__


_registry: PluginRegistry | None = None
_registry_lock = threading.Lock()


def get_registry() -> PluginRegistry:
    """Return the process-wide registry, building it on first use."""
    global _registry
    if _registry is None:
        with _registry_lock:
            if _registry is None:
                _registry = PluginRegistry()
    return _registry


def reset_registry(registry: PluginRegistry | None = None) -> None:
    """Replace (or drop, to rebuild lazily) the process-wide registry. Meant for tests."""
    global _registry
    with _registry_lock:
        _registry = registry


def register_plugin(plugin: Any, name: str | None = None) -> str:
    """Register a plugin object in code (tests, notebooks); returns its name."""
    return get_registry().register_plugin(plugin, name)


def unregister_plugin(name: str) -> None:
    get_registry().unregister_plugin(name)
