"""Configuration errors: each problem is a :class:`ConfigIssue` naming the key path (and,
when it can be found, the line) of the offending value; :class:`ConfigError` carries all
the problems found in one file, so an operator fixes them in one go."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from difflib import get_close_matches
from pathlib import Path

import attrs

#: A key path inside the configuration: table keys and array indices.
KeyPath = tuple[str | int, ...]

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def format_path(path: KeyPath) -> str:
    """Render a key path the way it is written in TOML: ``schedules.report.trigger.hour``,
    ``schedules[0].trigger`` or ``tasks."my.task".func``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        key = part if _BARE_KEY.match(part) else '"' + part.replace('"', '\\"') + '"'
        text += f".{key}" if text else key
    return text or "(top level)"


@attrs.define(frozen=True)
class ConfigIssue:
    """One problem in a configuration file."""

    path: KeyPath
    message: str
    line: int | None = None

    def describe(self, source: str | None = None) -> str:
        """``file:line: key.path: message`` (the parts that are known)."""
        location = ""
        if source is not None:
            location = f"{source}:{self.line}: " if self.line else f"{source}: "
        elif self.line:
            location = f"line {self.line}: "
        key = f"{format_path(self.path)}: " if self.path else ""
        return f"{location}{key}{self.message}"


class ConfigError(Exception):
    """A configuration file is invalid; :attr:`issues` lists every problem found.

    ``str(error)`` gives one line per problem, each naming the file, the line (when it
    could be located) and the key path.
    """

    def __init__(self, issues: Sequence[ConfigIssue], source: str | Path | None = None):
        self.issues = list(issues)
        self.source = str(source) if source is not None else None
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [issue.describe(self.source) for issue in self.issues]


class SchemaIssues(ValueError):
    """Raised inside structuring hooks: problems at paths relative to the hook's value.

    The schema layer turns these (and cattrs' own errors) into absolute
    :class:`ConfigIssue` objects.
    """

    def __init__(self, issues: Iterable[tuple[KeyPath, str]]):
        self.issues = list(issues)
        super().__init__("; ".join(f"{format_path(p)}: {m}" for p, m in self.issues))

    @classmethod
    def single(cls, message: str, path: KeyPath = ()) -> SchemaIssues:
        return cls([(path, message)])


def suggest(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a candidate is close to ``name``, else ``""``."""
    matches = get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {matches[0]!r}?)" if matches else ""


def toml_type_name(value: object) -> str:
    """The TOML name of a parsed value's type, for "expected X, got Y" messages."""
    from datetime import date, datetime, time

    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, datetime):
        return "a datetime"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, time):
        return "a time"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"


def describe_value(value: object) -> str:
    """``a string ('25')`` / ``an integer (25)`` / ``a table``."""
    kind = toml_type_name(value)
    if isinstance(value, (dict, list, tuple)):
        return kind
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{kind} ({text})"
