"""Runs one scenario script in one implementation's interpreter and reads its result."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from .envs import BENCH_DIR, clean_environ

SCENARIOS_DIR = BENCH_DIR / "scenarios"


def failure(impl: str, status: str, note: str) -> dict[str, Any]:
    """A result record for a run that produced no measurement."""
    return {"impl": impl, "status": status, "note": note, "metrics": {}}


def run_scenario(
    python: Path | str, script: str, impl: str, args: tuple[str, ...], timeout: float
) -> dict[str, Any]:
    """Run ``script --impl impl args`` with ``python``; return its JSON record.

    A crash, a timeout or output without a JSON line becomes an ``error`` record whose
    note carries the end of the script's stderr, so one broken run never stops the rest.
    """
    command = [str(python), str(SCENARIOS_DIR / script), "--impl", impl, *args]
    try:
        completed = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=SCENARIOS_DIR,
            env=clean_environ(),
        )
    except subprocess.TimeoutExpired:
        return failure(impl, "error", f"timed out after {timeout:.0f} s")
    except OSError as exc:
        return failure(impl, "error", f"cannot start {python}: {exc}")
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                break
    tail = " | ".join(completed.stderr.strip().splitlines()[-3:])
    return failure(impl, "error", f"exit code {completed.returncode}: {tail}")
