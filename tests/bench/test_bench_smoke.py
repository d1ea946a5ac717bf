"""The benchmarks must not rot: the driver runs every scenario in smoke mode (tiny sizes)
and produces a table with a figure of this project for every row.

APScheduler 4.0.0a6 and 3.11.3 are installed by the driver into ``bench/.envs/`` from the
package index; without network they are reported as "unavailable", which is accepted
here. PostgreSQL scenarios need the local server: when it is unreachable the test fails
under ``CI=true`` and otherwise accepts "unavailable" for those rows only.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
IMPL_COLUMNS = {"ours": 3, "v4": 4, "v3": 5}  # cell index after the leading "|"


def _postgres_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=3):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def postgres() -> bool:
    """Whether the local PostgreSQL answers (an unreachable server fails under CI)."""
    if _postgres_reachable():
        return True
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("PostgreSQL 127.0.0.1:5432 is not reachable (CI=true: it is required)")
    return False


@pytest.fixture(scope="module")
def cases() -> list:
    sys.path.insert(0, str(BENCH))
    try:
        from benchlib.cases import CASES
    finally:
        sys.path.remove(str(BENCH))
    return list(CASES)


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    """Run the driver once in smoke mode; return the markdown report and raw records."""
    output = tmp_path_factory.mktemp("bench") / "smoke.md"
    completed = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--smoke", "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert output.read_text() in completed.stdout
    records = json.loads(output.with_suffix(".json").read_text())
    return output.read_text(), records


def _table_rows(report: str) -> list[list[str]]:
    rows = []
    for line in report.splitlines():
        if line.startswith("| ") and not line.startswith("| Scenario"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


def test_every_scenario_row_has_a_figure_for_ours(smoke_run, cases, postgres) -> None:
    report, _ = smoke_run
    rows = _table_rows(report)
    assert len(rows) == sum(len(case.rows) for case in cases)
    index = 0
    for case in cases:
        for row in case.rows:
            cells = rows[index]
            index += 1
            ours = cells[IMPL_COLUMNS["ours"]]
            assert cells[1].startswith(row.label), cells
            if case.needs_postgres and not postgres:
                assert ours == "unavailable", cells
            elif row.derive is not None:
                assert ours and ours not in ("unavailable", "error", "—"), cells
            else:
                assert _is_number(ours), f"{case.key} / {row.label}: ours = {ours!r}"


def test_no_scenario_errors_for_any_implementation(smoke_run) -> None:
    """A crash of a scenario under any implementation means the benchmark has rotted;
    only "unavailable" (no network, no server) and "n/a" are acceptable non-results."""
    _, records = smoke_run
    for name, runs in records.items():
        for run in runs:
            assert run["status"] in ("ok", "unavailable", "n/a"), (name, run.get("note"))


def test_the_upstream_runs_really_use_the_upstream_releases(smoke_run) -> None:
    """Each implementation ran in its own interpreter with the expected ``apscheduler``."""
    _, records = smoke_run
    expected = {"ours": "4.1", "v4": "4.0.0a6", "v3": "3.11.3"}
    for name, runs in records.items():
        impl = name.rsplit(" ", 1)[1]
        for run in runs:
            if run["status"] == "ok":
                assert run["version"].startswith(expected[impl]), (name, run["version"])
