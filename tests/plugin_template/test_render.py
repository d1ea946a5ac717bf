"""The plugin template produces, for every kind of component, a package that installs
next to the core in a fresh environment, passes its own generated tests (the
conformance kit included) and is listed by ``apscheduler plugins``.

One virtual environment (created with uv) is shared by all kinds: the core is installed
once, then the five generated plugins; their registered names differ, so they coexist
as independent third-party plugins would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

copier = pytest.importorskip("copier")

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "plugin-template"
CORE = ROOT / "core"

#: kind -> (plugin name, import package, registered target)
KINDS: dict[str, tuple[str, str, str]] = {
    "trigger": ("tmpl-trigger", "apscheduler_tmpl_trigger", "trigger:TmplTriggerTrigger"),
    "data_store": ("tmplstore", "apscheduler_tmplstore", "datastore:TmplstoreDataStore"),
    "event_broker": ("tmplbroker", "apscheduler_tmplbroker", "eventbroker:TmplbrokerEventBroker"),
    "job_executor": ("tmplexec", "apscheduler_tmplexec", "executor:TmplexecJobExecutor"),
    "serializer": ("tmplzjson", "apscheduler_tmplzjson", "serializer:TmplzjsonSerializer"),
}


def clean_env() -> dict[str, str]:
    """The environment without this project's virtualenv settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT"}
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run(args: Sequence[str], *, cwd: Path | None = None, timeout: float = 300) -> str:
    result = subprocess.run(
        list(args), cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, args))} failed ({result.returncode})\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    return result.stdout


def render(template: Path, destination: Path, plugin_name: str, kind: str) -> Path:
    copier.run_copy(
        str(template),
        str(destination),
        data={"plugin_name": plugin_name, "kind": kind, "author_name": 'Ann "Test" Author'},
        defaults=True,
        quiet=True,
    )
    return destination


@pytest.fixture(scope="module")
def uv() -> str:
    path = shutil.which("uv")
    if path is None:
        message = "uv is not installed: it creates the fresh environment"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the template, so that copier never looks at this repository's git state
    (it would render the last commit instead of the working tree)."""
    return Path(shutil.copytree(TEMPLATE, tmp_path_factory.mktemp("template") / "template"))


@pytest.fixture(scope="module")
def rendered(template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("plugins")
    return {
        kind: render(template, base / f"apscheduler-{name}", name, kind)
        for kind, (name, _, _) in KINDS.items()
    }


@pytest.fixture(scope="module")
def venv_python(uv: str, rendered: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
                ) -> Path:
    """A fresh environment with the core, pytest and every generated plugin."""
    venv = tmp_path_factory.mktemp("env") / "venv"
    run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)])
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    run([uv, "pip", "install", "--quiet", "--python", str(python), str(CORE), "pytest>=8"])
    run([uv, "pip", "install", "--quiet", "--python", str(python),
         *(str(path) for path in rendered.values())])
    return python


def test_rendered_layout(rendered: dict[str, Path]) -> None:
    """Each kind gets its own implementation and kit-based tests, and nothing else's."""
    for kind, (name, package, target) in KINDS.items():
        project = rendered[kind]
        module = target.partition(":")[0]
        assert (project / "src" / package / f"{module}.py").is_file()
        assert (project / "tests" / f"test_{module}.py").is_file()
        others = {t.partition(":")[0] for k, (_, _, t) in KINDS.items() if k != kind}
        present = {path.stem for path in (project / "src" / package).glob("*.py")}
        assert not present & others, f"{kind}: unexpected modules {present & others}"
        for path in ("README.md", ".github/workflows/test.yml", "pyproject.toml"):
            assert (project / path).is_file(), path
        pyproject = (project / "pyproject.toml").read_text(encoding="utf-8")
        assert f'{name} = "{package}.plugin"' in pyproject
        assert 'name = "Ann \\"Test\\" Author"' in pyproject
        plugin_py = (project / "src" / package / "plugin.py").read_text(encoding="utf-8")
        assert f'"{package}.{target}"' in plugin_py


@pytest.mark.parametrize("kind", list(KINDS))
def test_generated_tests_pass(kind: str, rendered: dict[str, Path], venv_python: Path) -> None:
    output = run([str(venv_python), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                 cwd=rendered[kind])
    assert " passed" in output and "failed" not in output, output


def test_apscheduler_plugins_lists_them(venv_python: Path) -> None:
    executable = venv_python.parent / ("apscheduler.exe" if os.name == "nt" else "apscheduler")
    plugins = {
        plugin["distribution"]: plugin
        for plugin in json.loads(run([str(executable), "plugins", "--json"]))
    }
    for kind, (name, package, target) in KINDS.items():
        plugin = plugins[f"apscheduler-{name}"]
        assert plugin["name"] == name
        assert plugin["version"] == "0.1.0"
        [registration] = plugin["registers"][kind]
        assert registration["name"] == name
        assert registration["target"] == f"{package}.{target}"


def test_generated_code_is_lint_clean(rendered: dict[str, Path]) -> None:
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    for project in rendered.values():
        run([ruff, "check", "--no-cache", "--isolated", "--line-length", "99",
             "--select", "E,F,W,I,UP,B", "--target-version", "py310", "."], cwd=project)


def test_invalid_plugin_name_is_refused(template: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lowercase"):
        render(template, tmp_path / "out", "Not A Name", "trigger")
    assert not (tmp_path / "out" / "pyproject.toml").exists()
