"""`apscheduler migrate-v3` imports an APScheduler 3.11 job table into a data store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from apscheduler.cli._app import create_app
from typer.testing import CliRunner

FIXTURE = Path(__file__).resolve().parents[1] / "v3" / "fixtures" / "v3_jobs.sqlite"


def test_migrate_v3_command_reports_each_job(tmp_path: Path) -> None:
    pytest.importorskip("apscheduler_sqlalchemy")
    source = tmp_path / "v3.sqlite"
    shutil.copy(FIXTURE, source)
    target = tmp_path / "new.db"
    result = CliRunner().invoke(
        create_app(),
        ["migrate-v3", "--from", f"sqlite:///{source}", "--to", f"sqlite:///{target}"],
    )
    assert result.exit_code in (0, 1), result.output
    assert "converted" in result.output.lower()
    assert target.exists()
