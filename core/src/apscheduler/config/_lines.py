"""Find the line where a key path is written in a TOML text (best effort).

``tomllib`` returns plain dicts without positions, so error messages would otherwise say
only *which* key is wrong, not *where*. This scanner reads the text line by line,
tracking table headers (``[a.b]``, ``[[a]]`` with per-array indices), dotted keys and the
keys of one-line inline tables, and records the line of every key path it sees. A
lookup falls back to the closest enclosing key that was found.
"""

from __future__ import annotations

import re

from ._errors import KeyPath

_KEY_PART = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|([A-Za-z0-9_-]+))\s*')
_INLINE_KEY = re.compile(r'(?:^|[{,])\s*(?:"((?:[^"\\]|\\.)*)"|([A-Za-z0-9_-]+))\s*=')


def _parse_key(text: str) -> tuple[list[str], int] | None:
    """Parse a (dotted) key at the start of ``text``; return the parts and the end."""
    parts: list[str] = []
    position = 0
    while True:
        match = _KEY_PART.match(text, position)
        if match is None or match.end() == position:
            return None
        parts.append(next(group for group in match.groups() if group is not None))
        position = match.end()
        if position < len(text) and text[position] == ".":
            position += 1
            continue
        return parts, position


def _strip_comment(line: str) -> str:
    """Drop a trailing ``# comment`` that is not inside a string."""
    quote: str | None = None
    escaped = False
    for index, char in enumerate(line):
        if quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote == '"':
                escaped = True
            elif char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "#":
            return line[:index]
    return line


class KeyLines:
    """Line numbers (1-based) of the key paths in one TOML document."""

    def __init__(self, text: str):
        self._lines: dict[KeyPath, int] = {}
        self._scan(text)

    def _record(self, path: KeyPath, line: int) -> None:
        self._lines.setdefault(path, line)

    def _scan(self, text: str) -> None:
        array_indices: dict[tuple[str, ...], int] = {}
        table: KeyPath = ()
        lines = text.splitlines()
        number = 0
        while number < len(lines):
            raw = lines[number]
            number += 1
            line = _strip_comment(raw).strip()
            if not line:
                continue
            if line.startswith("["):
                is_array = line.startswith("[[")
                inner = line[2:] if is_array else line[1:]
                parsed = _parse_key(inner)
                if parsed is None:
                    continue
                keys, _ = parsed
                path: list[str | int] = []
                plain: tuple[str, ...] = ()
                for position, key in enumerate(keys):
                    path.append(key)
                    plain = (*plain, key)
                    last = position == len(keys) - 1
                    if is_array and last:
                        index = array_indices.get(plain, -1) + 1
                        array_indices[plain] = index
                        # a new element resets the indices of arrays nested in it
                        for nested in [k for k in array_indices if k[: len(plain)] == plain
                                       and len(k) > len(plain)]:
                            del array_indices[nested]
                        path.append(index)
                    elif plain in array_indices:
                        path.append(array_indices[plain])
                table = tuple(path)
                self._record(table, number)
                continue
            parsed = _parse_key(line)
            if parsed is None:
                continue
            keys, end = parsed
            if end >= len(line) or line[end] != "=":
                continue
            key_path = (*table, *keys)
            self._record(key_path, number)
            value = line[end + 1 :].strip()
            if value.startswith("{"):
                for match in _INLINE_KEY.finditer(value):
                    inner_key = match.group(1) if match.group(1) is not None else match.group(2)
                    self._record((*key_path, inner_key), number)
            number = self._skip_multiline(value, lines, number)

    @staticmethod
    def _skip_multiline(value: str, lines: list[str], number: int) -> int:
        """Skip the continuation lines of a multi-line string or array value."""
        for delimiter in ('"""', "'''"):
            if value.startswith(delimiter) and value.count(delimiter) == 1:
                while number < len(lines):
                    number += 1
                    if delimiter in lines[number - 1]:
                        break
                return number
        if value.startswith("["):
            depth = _strip_comment(value).count("[") - _strip_comment(value).count("]")
            while depth > 0 and number < len(lines):
                text = _strip_comment(lines[number])
                depth += text.count("[") - text.count("]")
                number += 1
        return number

    def find(self, path: KeyPath) -> int | None:
        """The line of ``path``, else of its closest enclosing key, else ``None``."""
        for length in range(len(path), 0, -1):
            line = self._lines.get(tuple(path[:length]))
            if line is not None:
                return line
        return None
