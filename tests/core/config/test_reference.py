"""docs/operator/config.md matches the schema, and its TOML examples are valid."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from apscheduler.config import parse_config
from apscheduler.config._reference import generated_block, render_reference
from apscheduler.config._schema import SECTIONS, documented_fields

CONFIG_DOC = Path(__file__).resolve().parents[3] / "docs" / "operator" / "config.md"
TOML_BLOCK = re.compile(r"^```toml\n(.*?)^```", re.MULTILINE | re.DOTALL)


def test_reference_is_generated_from_the_schema() -> None:
    text = CONFIG_DOC.read_text(encoding="utf-8")
    assert generated_block(text) == render_reference(), (
        "docs/operator/config.md is out of date; run "
        "'uv run python -m apscheduler.config._reference docs/operator/config.md'"
    )


def test_every_key_is_in_the_reference() -> None:
    reference = render_reference()
    for _, cls in SECTIONS:
        for field in documented_fields(cls):
            assert f"| `{field.name}` |" in reference


def toml_examples() -> list[str]:
    text = CONFIG_DOC.read_text(encoding="utf-8")
    examples = []
    for match in TOML_BLOCK.finditer(text):
        preceding = text[: match.start()].rstrip().splitlines()[-1:] or [""]
        if not preceding[0].startswith("<!-- not-checked"):
            examples.append(match.group(1))
    return examples


@pytest.mark.parametrize("example", toml_examples())
def test_toml_examples_pass_the_schema(example: str, tmp_path: Path) -> None:
    parse_config(example, source=tmp_path / "example.toml")
