"""The installed version of the core distribution."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__: str = version("apscheduler")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"

version_info: tuple[int | str, ...] = tuple(
    int(part) if part.isdigit() else part for part in __version__.split(".")
)
