"""The pickle serializer: opt-in, for arguments that no safe format can carry."""

from __future__ import annotations

import pickle
from typing import Any

from .._exceptions import DeserializationError
from ..abc import Serializer
from ._common import describe_type, locate, serialization_error


def _unpicklable(protocol: int) -> Any:
    def fails(value: Any) -> bool:
        try:
            pickle.dumps(value, protocol=protocol)
        except Exception:
            return True
        return False

    return fails


class PickleSerializer(Serializer):
    """Serializes with :mod:`pickle`: any picklable object round-trips.

    .. warning:: Unpickling runs code chosen by whoever wrote the data. Use this
       serializer only when the database (or broker) is as trusted as your own code:
       anyone who can write a row can run arbitrary code in every scheduler that reads
       it. The default JSON serializer has no such risk.

    :param protocol: the pickle protocol (5 by default)
    """

    name = "pickle"
    __slots__ = ("protocol",)

    def __init__(self, *, protocol: int = 5) -> None:
        if not 0 <= protocol <= pickle.HIGHEST_PROTOCOL:
            raise ValueError(
                f"protocol must be between 0 and {pickle.HIGHEST_PROTOCOL}, got {protocol}"
            )
        self.protocol = protocol

    def __repr__(self) -> str:
        return f"{type(self).__name__}(protocol={self.protocol})"

    def serialize(self, obj: Any) -> bytes:
        try:
            return pickle.dumps(obj, protocol=self.protocol)
        except Exception as exc:
            # find the part that failed, for a message that points at it
            try:
                culprit, path = locate(obj, _unpicklable(self.protocol))
            except RecursionError:
                culprit, path = obj, ""
            raise serialization_error(
                type(self).__name__,
                describe_type(culprit),
                path,
                reason=f"{type(exc).__name__}: {exc}",
                hint="pass a module-level function or a picklable object",
            ) from exc

    def deserialize(self, serialized: bytes) -> Any:
        try:
            return pickle.loads(serialized)
        except Exception as exc:
            raise DeserializationError(
                f"{type(self).__name__} cannot read the stored data: {type(exc).__name__}: {exc}"
            ) from exc
