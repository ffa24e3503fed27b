"""Every package ``sfdc`` imports is declared, and every declared one is pinned.

An import that arrives only as another package's dependency breaks the day that
package drops it (Flask need not keep Werkzeug's API, requests may leave
urllib3). So each third-party top-level name imported anywhere under ``sfdc/``
must map to a distribution in ``pyproject.toml``'s ``dependencies``, and each of
those must be pinned (``==``) among ``requirements.txt``'s direct dependencies,
which is what Cloud Foundry's buildpack installs.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DIRECT_HEADER = "# Direct dependencies:"
TRANSITIVE_HEADER = "# Their dependencies:"


def _normalized(name: str) -> str:
    """PEP 503: ``Flask``, ``flask`` and ``psycopg[binary]``'s ``psycopg`` are one name."""
    bare = re.split(r"[\[<>=!~;\s]", name.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", bare).lower()


def third_party_imports(source: str) -> set[str]:
    """Top-level names a module imports that are neither ``sfdc`` nor the standard library."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
    # _typeshed is the standard library's typing stubs: imported for annotations only.
    ours_or_stdlib = {"sfdc", "_typeshed"} | set(sys.stdlib_module_names)
    return found - ours_or_stdlib


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {_normalized(requirement) for requirement in project["dependencies"]}


def direct_pins() -> dict[str, str]:
    """``requirements.txt``'s direct dependencies: normalized name -> the pinned line."""
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    direct = lines[lines.index(DIRECT_HEADER) + 1 : lines.index(TRANSITIVE_HEADER)]
    return {_normalized(line): line for line in direct if line and not line.startswith("#")}


def _imports_by_package() -> dict[str, set[str]]:
    """Top-level import name -> the files under ``sfdc/`` importing it."""
    users: dict[str, set[str]] = {}
    for path in sorted((ROOT / "sfdc").rglob("*.py")):
        for name in third_party_imports(path.read_text()):
            users.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return users


def test_the_scan_finds_imports_at_any_depth_and_skips_ours_and_the_stdlib() -> None:
    source = (
        "import json, urllib3.exceptions\n"
        "from sfdc.errors import SfdcError\n"
        "from . import sibling\n"
        "def later():\n"
        "    from werkzeug.exceptions import HTTPException\n"
    )
    assert third_party_imports(source) == {"urllib3", "werkzeug"}


def test_names_compare_as_pip_compares_them() -> None:
    assert _normalized("psycopg[binary]>=3.1") == "psycopg"
    assert _normalized("typing_extensions==4.16.0") == _normalized("typing-extensions")
    assert _normalized("Werkzeug>=3.0") == "werkzeug"


def test_every_imported_package_is_a_declared_dependency() -> None:
    distributions = packages_distributions()
    dependencies = declared()
    undeclared: dict[str, set[str]] = {}
    for name, users in _imports_by_package().items():
        providers = {_normalized(d) for d in distributions.get(name, [])}
        assert providers, f"{name} (imported by {sorted(users)}) is not installed"
        if not providers & dependencies:
            undeclared[f"{name} ({', '.join(sorted(providers))})"] = users
    assert not undeclared, f"add to pyproject.toml dependencies: {undeclared}"


@pytest.mark.parametrize("dependency", sorted(declared()))
def test_every_declared_dependency_is_pinned_as_a_direct_one(dependency: str) -> None:
    pins = direct_pins()
    assert dependency in pins, f"pin {dependency} under {DIRECT_HEADER!r} in requirements.txt"
    assert "==" in pins[dependency]
