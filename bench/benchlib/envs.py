"""Virtual environments holding the upstream APScheduler releases we compare against.

The real ``apscheduler`` distributions share the import name with this project, so each
lives in its own environment under ``bench/.envs/`` (git-ignored), created with ``uv``
from the public package index on first use and reused while its requirement list is
unchanged. They are never dependencies of the project.

Database drivers are pinned to the versions in this project's environment so that the
comparison measures the schedulers, not different driver releases.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent.parent
DEFAULT_ENVS_DIR = BENCH_DIR / ".envs"
_STAMP = ".bench-requirements"
#: Libraries whose versions the report lists for each environment.
REPORTED_LIBRARIES = (
    "apscheduler",
    "anyio",
    "sqlalchemy",
    "asyncpg",
    "aiosqlite",
    "psycopg2-binary",
    "croniter",
)


def _pinned(name: str, extra: str = "") -> str:
    """``name`` pinned to the version installed here (unpinned if it is not installed)."""
    try:
        return f"{name}{extra}=={version(name)}"
    except PackageNotFoundError:
        return f"{name}{extra}"


@dataclass(frozen=True)
class EnvSpec:
    """One upstream implementation: its label in the report and what to install."""

    name: str
    label: str
    requirements: tuple[str, ...]


def specs() -> dict[str, EnvSpec]:
    """The environments of the upstream releases, by implementation key."""
    return {
        "v4": EnvSpec(
            "v4",
            "APScheduler 4.0.0a6",
            (
                "apscheduler==4.0.0a6",
                _pinned("sqlalchemy", "[asyncio]"),
                _pinned("asyncpg"),
                _pinned("aiosqlite"),
                "sniffio",
                # 4.0.0a6's asyncpg broker calls start_soon() from a plain callback, which
                # anyio 4.14 and later refuse (NoEventLoopError); 4.13 is the newest that works.
                "anyio>=4,<4.14",
            ),
        ),
        "v3": EnvSpec(
            "v3",
            "APScheduler 3.11.3",
            (
                "apscheduler==3.11.3",
                _pinned("sqlalchemy"),
                _pinned("asyncpg"),
                "psycopg2-binary",
            ),
        ),
    }


def _uv() -> str | None:
    return os.environ.get("UV") or shutil.which("uv")


def clean_environ() -> dict[str, str]:
    """The environment for child processes: nothing pointing at this project's venv
    (``uv`` settings such as a package index mirror are kept)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")
    }
    env["PYTHONUNBUFFERED"] = "1"
    return env


def python_of(env_dir: Path) -> Path:
    return env_dir / "bin" / "python"


def ensure(spec: EnvSpec, envs_dir: Path = DEFAULT_ENVS_DIR) -> Path:
    """Return the interpreter of ``spec``'s environment, creating it if needed.

    Raises ``RuntimeError`` with the reason when it cannot be created (no ``uv``, no
    network...). The environment is built next to its final place and renamed into it,
    so an interrupted build never leaves a half-installed environment behind.
    """
    target = envs_dir / spec.name
    wanted = "\n".join(spec.requirements)
    stamp = target / _STAMP
    if python_of(target).exists() and stamp.exists() and stamp.read_text() == wanted:
        return python_of(target)
    uv = _uv()
    if uv is None:
        raise RuntimeError("uv is not on PATH; cannot create the comparison environments")
    envs_dir.mkdir(parents=True, exist_ok=True)
    building = envs_dir / f".{spec.name}.building-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    try:
        _run([uv, "venv", "--quiet", "--relocatable", "--python", sys.executable, str(building)])
        _run(
            [
                uv,
                "pip",
                "install",
                "--quiet",
                "--python",
                str(python_of(building)),
                *spec.requirements,
            ]
        )
        (building / _STAMP).write_text(wanted)
        shutil.rmtree(target, ignore_errors=True)
        os.replace(building, target)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return python_of(target)


def _run(command: list[str]) -> None:
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=300, env=clean_environ()
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"{command[0]} {command[1]} failed: {exc}") from exc
    if completed.returncode != 0:
        tail = " ".join(line.strip() for line in completed.stderr.strip().splitlines()[-3:])
        raise RuntimeError(f"{' '.join(command[1:3])} failed: {tail}")


def library_versions(python: Path | str) -> dict[str, str]:
    """Versions of :data:`REPORTED_LIBRARIES` in the environment of ``python``."""
    code = (
        "import json, importlib.metadata as m\n"
        "out = {}\n"
        f"for name in {REPORTED_LIBRARIES!r}:\n"
        "    try:\n"
        "        out[name] = m.version(name)\n"
        "    except m.PackageNotFoundError:\n"
        "        pass\n"
        "print(json.dumps(out))\n"
    )
    try:
        completed = subprocess.run(
            [str(python), "-c", code],
            capture_output=True,
            text=True,
            timeout=60,
            env=clean_environ(),
        )
        return json.loads(completed.stdout)
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError):
        return {}
