"""Turning tasks, schedules, jobs and results into the strings the Redis store keeps.

Documents are compact JSON built from the structures' ``marshal()`` dicts; the fields the
serializer turned into bytes (arguments, results) are base64 text inside them. Times that
Lua compares are integer microseconds since the epoch.
"""

from __future__ import annotations

import json
from base64 import b64decode, b64encode
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)

#: Fields kept outside the schedule document (they change on every release or lease).
SCHEDULE_VOLATILE = (
    "trigger",
    "next_fire_time",
    "last_fire_time",
    "acquired_by",
    "acquired_until",
    "lease_token",
)
JOB_VOLATILE = ("acquired_by", "acquired_until", "lease_token")


def to_us(value: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    return (value - EPOCH) // _MICROSECOND


def us_str(value: datetime | None) -> str:
    return "" if value is None else str(to_us(value))


def from_us(value: bytes | str) -> datetime:
    """The UTC datetime of a microsecond count as Redis returns it (``b"1893...000"``)."""
    text = value.decode() if isinstance(value, bytes) else value
    return EPOCH + timedelta(microseconds=int(float(text)) if "e" in text else int(text))


def text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else value


def raw(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


def dump_document(data: dict[str, Any], binary: Iterable[str] = ()) -> str:
    """JSON-encode a marshalled dict, base64-encoding the ``binary`` fields."""
    doc = dict(data)
    for name in binary:
        if doc.get(name) is not None:
            doc[name] = b64encode(doc[name]).decode()
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def load_document(value: bytes | str, binary: Iterable[str] = ()) -> dict[str, Any]:
    """Inverse of :func:`dump_document`; raises ``ValueError`` on malformed data."""
    doc = json.loads(value)
    if not isinstance(doc, dict):
        raise ValueError(f"expected a JSON object, got {type(doc).__name__}")
    for name in binary:
        if doc.get(name) is not None:
            doc[name] = b64decode(doc[name], validate=True)
    return doc


def without(data: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key not in names}
