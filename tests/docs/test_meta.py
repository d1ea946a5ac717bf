"""The documentation keeps up with the code.

* Every hook spec of :mod:`apscheduler.hookspecs` is explained in the plugin authors'
  guide and implemented by some test module (so each hook is exercised).
* ``mkdocs build --strict`` succeeds (this is the CI check of the documentation site),
  and every name in ``apscheduler.__all__`` is an entry of the built API reference's
  ``objects.inv``.

The site is built once per test session, into a temporary directory.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import zlib
from pathlib import Path

import apscheduler
import pytest
from apscheduler import hookspecs

ROOT = Path(__file__).resolve().parents[2]
AUTHORS_GUIDE = ROOT / "docs" / "plugins" / "authors-guide.md"
TESTS = ROOT / "tests"
THIS_FILE = Path(__file__).resolve()

#: pluggy marks each hook spec function with the attribute "<project name>_spec".
SPEC_ATTRIBUTE = f"{hookspecs.PROJECT_NAME}_spec"

#: One line of a Sphinx inventory (version 2): name, domain:role, priority, uri, dispname.
INVENTORY_LINE = re.compile(r"(?x)(.+?)\s+(\S+:\S+)\s+(-?\d+)\s+(\S*)\s+(.*)")


def hook_spec_names() -> list[str]:
    return sorted(
        name
        for name, obj in vars(hookspecs).items()
        if inspect.isfunction(obj) and hasattr(obj, SPEC_ATTRIBUTE)
    )


HOOK_SPECS = hook_spec_names()


def test_hook_specs_are_found() -> None:
    # Guards the introspection itself: a wrong marker attribute would find nothing.
    assert "register_triggers" in HOOK_SPECS
    assert "scheduler_started" in HOOK_SPECS


@pytest.mark.parametrize("name", HOOK_SPECS)
def test_hook_spec_is_in_the_authors_guide(name: str) -> None:
    text = AUTHORS_GUIDE.read_text(encoding="utf-8")
    as_heading = re.search(rf"^#+ .*\b{name}\b", text, re.MULTILINE)
    as_code = re.search(rf"`{name}(\(|`)", text)
    assert as_heading or as_code, f"{name} is not explained in {AUTHORS_GUIDE.name}"


@pytest.mark.parametrize("name", HOOK_SPECS)
def test_hook_spec_is_implemented_by_a_test(name: str) -> None:
    """Some test module defines a hook implementation of the spec (``def name(``)."""
    implementation = re.compile(rf"^\s*def {name}\(", re.MULTILINE)
    modules = [
        path.relative_to(ROOT).as_posix()
        for path in sorted(TESTS.rglob("test_*.py"))
        if path.resolve() != THIS_FILE
        and implementation.search(path.read_text(encoding="utf-8"))
    ]
    assert modules, f"no test module implements the hook {name}"


# The documentation site


@pytest.fixture(scope="module")
def site_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    """``mkdocs build --strict`` into a temporary directory: (exit code, output, site)."""
    site = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return result.returncode, result.stdout + result.stderr, site


def test_mkdocs_build_strict(site_build: tuple[int, str, Path]) -> None:
    returncode, output, _ = site_build
    assert returncode == 0, output


def read_inventory(path: Path) -> set[str]:
    """The object names of a Sphinx inventory: four header lines, then zlib data."""
    *header, body = path.read_bytes().split(b"\n", 4)
    assert header[0] == b"# Sphinx inventory version 2", header[0]
    names = set()
    for line in zlib.decompress(body).decode("utf-8").splitlines():
        match = INVENTORY_LINE.match(line.rstrip())
        if match:
            names.add(match.group(1))
    return names


def test_public_api_is_in_the_reference(site_build: tuple[int, str, Path]) -> None:
    _, output, site = site_build
    inventory = site / "objects.inv"
    # mkdocstrings writes the inventory even when strict mode then rejects warnings
    assert inventory.is_file(), f"the build wrote no objects.inv:\n{output}"
    names = read_inventory(inventory)
    missing = [name for name in apscheduler.__all__ if f"apscheduler.{name}" not in names]
    assert not missing, (
        f"not in the API reference (add them to docs/reference/apscheduler.md): {missing}"
    )


def test_reference_shows_no_raw_sphinx_roles(site_build: tuple[int, str, Path]) -> None:
    """Docstrings use Sphinx roles (:class:`X`); the site must show them as names."""
    _, output, site = site_build
    pages = sorted((site / "reference").rglob("*.html"))
    assert pages, f"the build wrote no reference pages:\n{output}"
    raw = re.compile(r":(?:class|meth|func|data|attr|exc|mod|obj):<code>")
    offenders = [str(page.relative_to(site)) for page in pages if raw.search(page.read_text())]
    assert not offenders, f"raw Sphinx roles in: {offenders}"
