"""Every ```python block in docs/ runs without error.

Conventions for documentation authors:

* a fenced block opened with ```python is executed, in a fresh interpreter, with the
  temporary directory as the working directory; it must finish within 60 seconds;
* a block that only illustrates (runs forever, needs a service not on this machine) is
  opened with ```py instead, or preceded by the line ``<!-- not-tested: reason -->``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
SKIP_MARK = "<!-- not-tested"


def collect_examples() -> list[tuple[str, str]]:
    examples: list[tuple[str, str]] = []
    for path in sorted(DOCS.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            preceding = text[: match.start()].rstrip().splitlines()[-1:] or [""]
            if preceding[0].strip().startswith(SKIP_MARK):
                continue
            line = text.count("\n", 0, match.start()) + 1
            examples.append((f"{path.relative_to(DOCS)}:{line}", match.group(1)))
    return examples


EXAMPLES = collect_examples()


@pytest.mark.parametrize("code", [code for _, code in EXAMPLES], ids=[i for i, _ in EXAMPLES])
def test_doc_example_runs(code: str, tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(DOCS.parent)}
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
