"""Reading a configuration file: TOML parsing and schema validation, with errors that
name the file, line and key path."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from ._errors import ConfigError, ConfigIssue, KeyPath, SchemaIssues
from ._lines import KeyLines
from ._schema import Config, structure_config

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


@attrs.define(eq=False)
class ConfigFile:
    """A parsed and schema-checked configuration, with what is needed to report
    further problems against the original text."""

    config: Config
    data: dict[str, Any]
    source: Path | None
    base_dir: Path
    lines: KeyLines

    @property
    def display_name(self) -> str:
        return str(self.source) if self.source is not None else "<config>"

    def issue(self, path: KeyPath, message: str) -> ConfigIssue:
        """A :class:`ConfigIssue` at ``path``, with its line when it can be found."""
        return ConfigIssue(path, message, self.lines.find(path))

    def error(self, issues: Iterable[tuple[KeyPath, str]]) -> ConfigError:
        """A :class:`ConfigError` listing ``issues`` in file order."""
        located = [self.issue(path, message) for path, message in issues]
        located.sort(key=lambda issue: (issue.line is None, issue.line or 0))
        return ConfigError(located, self.display_name)

    def raw(self, path: KeyPath) -> Any:
        """The parsed TOML value at ``path`` (``None`` if there is none)."""
        value: Any = self.data
        for part in path:
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                return None
        return value


def parse_config(
    text: str, *, source: str | Path | None = None, base_dir: str | Path | None = None
) -> ConfigFile:
    """Parse and schema-check configuration ``text``.

    ``base_dir`` (default: the directory of ``source``, else the working directory) is
    where relative ``path`` entries and ``${config_dir}`` point.

    :raises ConfigError: listing every problem found
    """
    source_path = Path(source) if source is not None else None
    display = str(source_path) if source_path is not None else "<config>"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POSITION.search(message)
        line = int(match.group(1)) if match else None
        message = _TOML_POSITION.sub("", message).strip()
        raise ConfigError([ConfigIssue((), f"invalid TOML: {message}", line)], display) from None
    lines = KeyLines(text)
    if base_dir is None:
        base_dir = source_path.parent if source_path is not None else Path.cwd()
    base = Path(base_dir).resolve()
    try:
        config = structure_config(data)
    except SchemaIssues as exc:
        file = ConfigFile(Config(), data, source_path, base, lines)
        raise file.error(exc.issues) from None
    return ConfigFile(config, data, source_path, base, lines)


def load_config(path: str | Path) -> ConfigFile:
    """Read and schema-check the configuration file at ``path``.

    :raises ConfigError: if the file cannot be read or is invalid (every problem found)
    """
    file_path = Path(path)
    try:
        text = file_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problem = "no such file"
    except IsADirectoryError:
        problem = "is a directory, not a file"
    except (OSError, UnicodeDecodeError) as exc:
        problem = f"cannot be read: {exc}"
    else:
        return parse_config(text, source=file_path)
    raise ConfigError([ConfigIssue((), problem)], str(file_path))
