"""Helpers of the configuration tests."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest
from apscheduler.config import ConfigError, ConfigFile, parse_config

FUNCS = "tests.core.config.cfgfuncs"


@pytest.fixture
def parse(tmp_path: Path):
    """Parse a dedented TOML text as if it were ``<tmp>/scheduler.toml``."""

    def parse_text(text: str) -> ConfigFile:
        return parse_config(dedent(text), source=tmp_path / "scheduler.toml")

    return parse_text


def error_lines(excinfo: pytest.ExceptionInfo[ConfigError]) -> list[str]:
    return excinfo.value.lines()
