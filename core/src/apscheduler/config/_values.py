"""Strict parsers for the scalar values of a configuration file.

TOML already gives typed values; these functions check them strictly (a string is never
silently turned into a number) and accept the few friendly spellings operators expect,
such as durations written as ``"90s"`` or ``"1h30m"``.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

from ._errors import SchemaIssues, describe_value, suggest

#: The word that lifts a limit (``max_running_jobs``, ``misfire_grace_time``).
UNLIMITED = "unlimited"

_DURATION_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|us|w|d|h|m|s)", re.IGNORECASE)
_UNIT_SECONDS = {
    "w": 604800.0,
    "d": 86400.0,
    "h": 3600.0,
    "m": 60.0,
    "s": 1.0,
    "ms": 0.001,
    "us": 0.000001,
}
_DURATION_HELP = "a number of seconds or a duration such as '90s', '5m', '1h30m' or '2d'"


def parse_duration_text(text: str) -> timedelta | None:
    """Parse ``"1h30m"``, ``"90s"``, ``"1.5h"``, ``"500ms"``; ``None`` if malformed."""
    position = 0
    total = 0.0
    stripped = text.strip()
    if not stripped:
        return None
    while position < len(stripped):
        match = _DURATION_PART.match(stripped, position)
        if match is None:
            return None
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
        position = match.end()
    return timedelta(seconds=total)


def as_duration(value: Any) -> timedelta:
    """A non-negative number of seconds or a duration string."""
    if isinstance(value, bool):
        raise SchemaIssues.single(f"expected {_DURATION_HELP}, got {describe_value(value)}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise SchemaIssues.single(f"must not be negative, got {value}")
        return timedelta(seconds=value)
    if isinstance(value, str):
        parsed = parse_duration_text(value)
        if parsed is not None:
            return parsed
    raise SchemaIssues.single(f"expected {_DURATION_HELP}, got {describe_value(value)}")


def as_grace_time(value: Any) -> timedelta | str:
    """A duration, or ``"unlimited"``."""
    if value == UNLIMITED:
        return UNLIMITED
    try:
        return as_duration(value)
    except SchemaIssues:
        raise SchemaIssues.single(
            f"expected {_DURATION_HELP}, or 'unlimited'; got {describe_value(value)}"
        ) from None


def as_run_limit(value: Any) -> int | str:
    """A positive integer, or ``"unlimited"``."""
    if value == UNLIMITED:
        return UNLIMITED
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise SchemaIssues.single(f"must be at least 1 (or 'unlimited'), got {value}")
        return value
    raise SchemaIssues.single(
        f"expected a positive integer or 'unlimited', got {describe_value(value)}"
    )


def as_str(value: Any) -> str:
    if not isinstance(value, str):
        raise SchemaIssues.single(f"expected a string, got {describe_value(value)}")
    return value


def as_nonempty_str(value: Any) -> str:
    value = as_str(value)
    if not value.strip():
        raise SchemaIssues.single("must not be empty")
    return value


def as_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SchemaIssues.single(f"expected an integer, got {describe_value(value)}")
    return value


def as_positive_int(value: Any) -> int:
    value = as_int(value)
    if value < 1:
        raise SchemaIssues.single(f"must be at least 1, got {value}")
    return value


def as_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SchemaIssues.single(f"expected a number, got {describe_value(value)}")
    return float(value)


def as_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise SchemaIssues.single(f"expected true or false, got {describe_value(value)}")
    return value


def as_table(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SchemaIssues.single(f"expected a table, got {describe_value(value)}")
    return dict(value)


def as_array(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise SchemaIssues.single(f"expected an array, got {describe_value(value)}")
    return list(value)


def as_str_array(value: Any) -> list[str]:
    items = as_array(value)
    issues = [
        ((index,), f"expected a string, got {describe_value(item)}")
        for index, item in enumerate(items)
        if not isinstance(item, str)
    ]
    if issues:
        raise SchemaIssues(issues)
    return items


def as_metadata(value: Any) -> dict[str, Any]:
    """A table of JSON-compatible values (no TOML dates or times)."""
    table = as_table(value)
    issues: list[tuple[tuple[str | int, ...], str]] = []

    def check(item: Any, path: tuple[str | int, ...]) -> None:
        if item is None or isinstance(item, (str, int, float, bool)):
            return
        if isinstance(item, list):
            for index, child in enumerate(item):
                check(child, (*path, index))
        elif isinstance(item, dict):
            for key, child in item.items():
                check(child, (*path, key))
        else:
            message = (
                f"metadata must be JSON-compatible; {describe_value(item)} is not "
                f"(write it as a string)"
            )
            issues.append((path, message))

    for key, item in table.items():
        check(item, (key,))
    if issues:
        raise SchemaIssues(issues)
    return table


def choice(value: Any, choices: list[str], *, what: str = "value") -> str:
    """One of ``choices`` (strings)."""
    if not isinstance(value, str):
        raise SchemaIssues.single(
            f"expected one of {', '.join(map(repr, choices))}, got {describe_value(value)}"
        )
    if value not in choices:
        raise SchemaIssues.single(
            f"unknown {what} {value!r}{suggest(value, choices)}; expected one of "
            f"{', '.join(map(repr, choices))}"
        )
    return value


LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def as_log_level(value: Any) -> str:
    if isinstance(value, str):
        value = value.upper()
        if value == "WARN":
            value = "WARNING"
    level = choice(value, LOG_LEVELS, what="log level")
    assert isinstance(logging.getLevelName(level), int)
    return level


def as_func_ref(value: Any) -> str:
    """A ``"package.module:function"`` reference (format only; importing comes later)."""
    text = as_nonempty_str(value).strip()
    module, sep, attr = text.partition(":")
    if not sep or not module or not attr:
        raise SchemaIssues.single(
            f"expected 'package.module:function', got {text!r}"
            + (f" (did you mean {text.rpartition('.')[0] + ':' + text.rpartition('.')[2]!r}?)"
               if "." in text and not sep else "")
        )
    return text
