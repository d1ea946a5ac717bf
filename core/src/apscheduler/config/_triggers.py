"""Building a trigger from its registered name and a table of options.

Shared by the configuration file (``trigger = { type = "cron", hour = 9 }``) and by
``apscheduler triggers preview cron --hour 9``. Problems are raised as
:class:`SchemaIssues` whose paths are relative to the trigger table (an option name, or
``type`` for the name), so each caller can place them in its own context.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from functools import partial
from typing import Any

from .._clock import get_clock
from .._exceptions import UnknownPluginError
from .._registry import get_registry
from ..abc import Trigger
from ._errors import KeyPath, SchemaIssues, describe_value, suggest
from ._values import parse_duration_text

#: Options holding a point in time; the value ``"+5s"`` means "5 seconds from now".
TIME_OPTIONS = frozenset(
    {"run_time", "run_date", "start_time", "start_date", "end_time", "end_date"}
)

#: Option of a combining trigger (``and``/``or``) listing its child triggers.
CHILDREN_OPTION = "triggers"

#: Option holding a crontab line, for trigger classes with a ``from_crontab`` constructor.
CRONTAB_OPTION = "crontab"


class MissingPlugin(SchemaIssues):
    """The trigger name is not registered, or its plugin cannot be imported."""


def resolve_relative_time(value: Any, now: datetime) -> Any:
    """``"+90s"`` → ``now + 90 s``; any other value is returned unchanged."""
    if isinstance(value, str) and value.strip().startswith("+"):
        delta = parse_duration_text(value.strip()[1:])
        if delta is None:
            raise SchemaIssues.single(
                f"expected '+<duration>' (such as '+5s' or '+1h30m') or a date-time, "
                f"got {value!r}"
            )
        return now + delta
    return value


def trigger_class(name: str) -> type[Trigger]:
    """Resolve a registered trigger name; :class:`MissingPlugin` (path ``type``) if
    there is none or it cannot be imported."""
    try:
        return get_registry().resolve("trigger", name)
    except UnknownPluginError as exc:
        raise MissingPlugin([(("type",), str(exc))]) from None
    except ImportError as exc:
        raise MissingPlugin([(("type",), str(exc))]) from None


def trigger_options(factory: Callable[..., Any]) -> tuple[list[str], bool, bool]:
    """The keyword options ``factory`` accepts, whether it takes ``**kwargs`` and
    whether it takes ``*args`` (combining triggers)."""
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return [], True, False
    names = [
        p.name
        for p in parameters
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    ]
    var_keyword = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)
    var_positional = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters)
    return names, var_keyword, var_positional


def build_trigger(
    name: str,
    options: Mapping[str, Any],
    *,
    timezone: tzinfo,
    now: datetime | None = None,
) -> Trigger:
    """Create the trigger registered as ``name`` with ``options``.

    * ``timezone`` is passed to triggers that accept one and were not given one;
    * time options (``run_time``, ``start_time``...) accept ``"+5s"`` (from now);
    * ``crontab = "*/5 * * * *"`` uses the class's ``from_crontab`` constructor;
    * ``triggers = [...]`` (for ``and``/``or``) holds child trigger tables or names.

    :raises SchemaIssues: with paths relative to the trigger table
    """
    now = now or get_clock().now()
    cls = trigger_class(name)
    given = dict(options)
    issues: list[tuple[KeyPath, str]] = []

    factory: Callable[..., Any] = cls
    if CRONTAB_OPTION in given and hasattr(cls, "from_crontab"):
        expression = given.pop(CRONTAB_OPTION)
        if isinstance(expression, str):
            factory = partial(cls.from_crontab, expression)
        else:
            message = "expected a crontab line such as '*/5 * * * *', got " + describe_value(
                expression
            )
            issues.append(((CRONTAB_OPTION,), message))

    allowed, var_keyword, var_positional = trigger_options(factory)
    children: list[Trigger] = []
    if var_positional and CHILDREN_OPTION in given and CHILDREN_OPTION not in allowed:
        children_spec = given.pop(CHILDREN_OPTION)
        children, child_issues = _build_children(children_spec, timezone, now)
        issues.extend(child_issues)

    if not var_keyword:
        extra_names = [CRONTAB_OPTION] if hasattr(cls, "from_crontab") else []
        extra_names += [CHILDREN_OPTION] if var_positional else []
        known = [*allowed, *extra_names]
        for key in given:
            if key not in allowed:
                message = (
                    f"unknown option for the {name!r} trigger{suggest(key, known)}; "
                    f"its options: {', '.join(known) or '(none)'}"
                )
                issues.append(((key,), message))

    for key in TIME_OPTIONS & given.keys():
        try:
            given[key] = resolve_relative_time(given[key], now)
        except SchemaIssues as exc:
            issues.extend(((key, *path), message) for path, message in exc.issues)
    if issues:
        raise SchemaIssues(issues)

    call_options = dict(given)
    if "timezone" not in call_options and "timezone" in allowed:
        call_options["timezone"] = timezone
    try:
        trigger = factory(*([children] if children else []), **call_options)
    except Exception as exc:
        raise SchemaIssues([_locate_failure(exc, given)]) from None
    if not isinstance(trigger, Trigger):
        raise SchemaIssues.single(
            f"the {name!r} trigger's class returned {type(trigger).__name__}, not a Trigger",
            ("type",),
        )
    return trigger


def _build_children(
    spec: Any, timezone: tzinfo, now: datetime
) -> tuple[list[Trigger], list[tuple[KeyPath, str]]]:
    if not isinstance(spec, list) or not spec:
        message = (
            f"expected a non-empty array of triggers (names or tables with 'type'), got "
            f"{describe_value(spec)}"
        )
        return [], [((CHILDREN_OPTION,), message)]
    children: list[Trigger] = []
    issues: list[tuple[KeyPath, str]] = []
    for index, item in enumerate(spec):
        where: KeyPath = (CHILDREN_OPTION, index)
        if isinstance(item, str):
            child_name, child_options = item, {}
        elif isinstance(item, dict) and isinstance(item.get("type"), str):
            child_options = dict(item)
            child_name = child_options.pop("type")
        else:
            message = f"expected a trigger name or a table with 'type', got {describe_value(item)}"
            issues.append((where, message))
            continue
        try:
            children.append(build_trigger(child_name, child_options, timezone=timezone, now=now))
        except SchemaIssues as exc:
            for path, message in exc.issues:
                if isinstance(item, str) and path == ("type",):
                    path = ()
                issues.append(((*where, *path), message))
    return children, issues


def _locate_failure(exc: Exception, given: Mapping[str, Any]) -> tuple[KeyPath, str]:
    """Attach a trigger constructor's error to the option it is about, if it can tell."""
    field = getattr(exc, "field", None)
    problem = getattr(exc, "problem", None)
    if isinstance(field, str) and isinstance(problem, str):
        if field in given:
            return (field,), problem
        if CRONTAB_OPTION in given:
            return (CRONTAB_OPTION,), str(exc)
    message = str(exc) if isinstance(exc, (ValueError, TypeError)) else (
        f"{type(exc).__name__}: {exc}"
    )
    mentioned = [key for key in given if re.search(rf"\b{re.escape(key)}\b", message)]
    if len(mentioned) == 1:
        return (mentioned[0],), message
    return (), message
