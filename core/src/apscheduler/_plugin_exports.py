"""Lazy re-exports of plugin classes under the import paths users know.

``apscheduler.datastores.redis.RedisDataStore`` lives in the ``apscheduler-redis``
plugin. The core must not import plugins (nor their heavy dependencies) when it is
imported, so such modules define a module-level ``__getattr__`` built here: the plugin
is imported on first access, and when it (or a dependency of it) is missing the access
raises an ``ImportError`` naming the ``pip install "apscheduler[extra]"`` command.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_plugin_exports(
    module_name: str, exports: Mapping[str, str], extra: str
) -> Callable[[str], Any]:
    """Build a module ``__getattr__`` that imports plugin classes on first access.

    :param module_name: the re-exporting module's ``__name__`` (for error messages)
    :param exports: public name -> ``"plugin_module:attribute"``
    :param extra: the core's extra that installs the plugin (``"redis"``); the plugin's
        distribution is ``apscheduler-<extra>``
    """

    def __getattr__(name: str) -> Any:
        target = exports.get(name)
        if target is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        plugin_module, _, attribute = target.partition(":")
        try:
            module = import_module(plugin_module)
        except ImportError as exc:
            raise ImportError(
                f"{name} needs the apscheduler-{extra} plugin and its dependencies ({exc}). "
                f'Install them with: pip install "apscheduler[{extra}]"'
            ) from exc
        return getattr(module, attribute)

    return __getattr__
